package json

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers/internal/serializertest"
)

// Every JSON packet of the recorded corpus (real moleculer 0.14.36 output)
// decodes with the hand-written decoders as with encoding/json, and
// encodes back to what encoding/json writes.
func TestCorpusFastPathsMatchEncodingJSON(t *testing.T) {
	serializertest.EachCorpusPacket(t, "JSON", func(typ protocol.PacketType, data []byte, f string) {
		fast, err := Serializer{}.Unmarshal(typ, data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			return
		}
		slow, err := unmarshalReflect(typ, data)
		if err != nil {
			t.Errorf("%s: encoding/json: %v", f, err)
			return
		}
		// INFO's descriptors keep JS's key order; compare the values.
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(slow)
		if !jsonEqual(t, a, b) {
			t.Errorf("%s: decoders disagree\nfast %s\nslow %s", f, a, b)
		}
		enc, err := Serializer{}.Marshal(fast)
		if err != nil {
			t.Errorf("%s: encode: %v", f, err)
			return
		}
		// Raw params pass through as JS wrote them, where encoding/json
		// would escape U+2028: compare the values.
		if !jsonEqual(t, enc, a) {
			t.Errorf("%s: encoders disagree\nfast %s\nslow %s", f, enc, a)
		}
	})
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}
