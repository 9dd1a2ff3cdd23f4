package protobuf

import (
	"bytes"
	"strings"
	"testing"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/serializers/internal/serializertest"
)

func TestRegistered(t *testing.T) {
	s, err := serializers.New("protobuf")
	if err != nil || s.Name() != "ProtoBuf" {
		t.Fatalf("%v %v", s, err)
	}
}

func TestGolden(t *testing.T)    { serializertest.Golden(t, Serializer{}, jsBytes) }
func TestRoundTrip(t *testing.T) { serializertest.RoundTrip(t, Serializer{}) }
func TestWithJS(t *testing.T)    { serializertest.CheckWithJS(t, Serializer{}) }

// A prefix of a message that ends between two fields is a valid message, so
// truncation is only checked not to crash.
func TestMalformed(t *testing.T) { serializertest.Malformed(t, Serializer{}, false) }

func TestDecodingRules(t *testing.T) {
	s := Serializer{}
	// Absent fields: null where the payload can say so, zero elsewhere.
	p, err := s.Unmarshal(protocol.Request, []byte{0x3a, 0x02, '{', '}'})
	if err != nil {
		t.Fatal(err)
	}
	if r := p.(*packets.Request); r.Tracing != nil || r.Seq != nil || r.Stream || r.Timeout != 0 || !r.Params.IsUndefined() {
		t.Errorf("absent fields: %+v", r)
	}
	p, err = s.Unmarshal(protocol.Response, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := p.(*packets.Response); r.Stream != nil || r.Seq != nil || r.Meta.String() != "{}" || r.Error != nil {
		t.Errorf("absent fields: %+v", r)
	}
	// Invalid UTF-8 in a string is kept, as protobufjs reads it.
	p, err = s.Unmarshal(protocol.Discover, []byte{0x12, 0x02, 0xff, 'x'})
	if err != nil || p.(*packets.Discover).Sender != "\xffx" {
		t.Errorf("invalid UTF-8: %v %v", p, err)
	}
	// A data type outside the enum means JSON, as in JS.
	p, err = s.Unmarshal(protocol.Response, []byte{0x2a, 0x01, '5', 0x30, 0x07})
	if err != nil || p.(*packets.Response).Data.String() != "5" {
		t.Errorf("data type 7: %v %v", p, err)
	}
	// Unknown fields are skipped.
	p, err = s.Unmarshal(protocol.Discover, []byte{0xf8, 0x01, 0x05, 0x12, 0x01, 'a'})
	if err != nil || p.(*packets.Discover).Sender != "a" {
		t.Errorf("unknown field: %v %v", p, err)
	}
	for name, data := range map[string][]byte{
		"bad JSON params": {0x2a, 0x01, '{', 0x30, 0x02},
		"empty JSON":      {0x2a, 0x00, 0x30, 0x02},
		"bad meta":        {0x3a, 0x01, '['},
		"length past end": {0x0a, 0x05, '4'},
	} {
		if _, err := s.Unmarshal(protocol.Request, data); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestEncodingLimits(t *testing.T) {
	s := Serializer{}
	seq := int64(1) << 31
	for _, p := range []packets.Payload{
		&packets.Request{Level: 1 << 31},
		&packets.Request{Seq: &seq},
		&packets.Response{Seq: &seq},
		&packets.Event{Level: -1<<31 - 1},
		&packets.Info{Seq: seq},
		&packets.GossipHello{Port: 1 << 40},
	} {
		if _, err := s.Marshal(p); err == nil || !strings.Contains(err.Error(), "32-bit") {
			t.Errorf("%T: 32-bit overflow: %v", p, err)
		}
	}
}

func FuzzUnmarshal(f *testing.F) { serializertest.Fuzz(f, Serializer{}, jsBytes) }

func BenchmarkMarshal(b *testing.B)   { serializertest.BenchMarshal(b, Serializer{}) }
func BenchmarkUnmarshal(b *testing.B) { serializertest.BenchUnmarshal(b, Serializer{}) }

// A field written in place gets the length prefix protowire writes, for
// lengths of one to three prefix bytes.
func TestAppendDelimitedInPlace(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 129, 16383, 16384, 20000} {
		text := strings.Repeat("x", n)
		got, err := appendDelimited([]byte{7}, 9, func(b []byte) ([]byte, error) { return append(b, text...), nil })
		if err != nil {
			t.Fatal(err)
		}
		if want := appendString([]byte{7}, 9, text); !bytes.Equal(got, want) {
			t.Errorf("length %d: %x..., want %x...", n, got[:min(len(got), 8)], want[:min(len(want), 8)])
		}
	}
}
