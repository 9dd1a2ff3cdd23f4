package thrift

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
	s, err := serializers.New("thrift")
	if err != nil || s.Name() != "Thrift" {
		t.Fatalf("%v %v", s, err)
	}
}

func TestGolden(t *testing.T)    { serializertest.Golden(t, Serializer{}, jsBytes) }
func TestRoundTrip(t *testing.T) { serializertest.RoundTrip(t, Serializer{}) }
func TestMalformed(t *testing.T) { serializertest.Malformed(t, Serializer{}, true) }
func TestWithJS(t *testing.T)    { serializertest.CheckWithJS(t, Serializer{}) }

func TestDecodingRules(t *testing.T) {
	s := Serializer{}
	str := func(id byte, v string) []byte { return append([]byte{0x0b, 0, id, 0, 0, 0, byte(len(v))}, v...) }
	// Absent fields: null where the payload can say so, zero elsewhere.
	p, err := s.Unmarshal(protocol.Request, append(str(7, "{}"), 0))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.(*packets.Request); r.Tracing != nil || r.Seq != nil || r.Stream || r.Timeout != 0 || !r.Params.IsUndefined() {
		t.Errorf("absent fields: %+v", r)
	}
	// Any boolean byte but 0 is true, as in the JS library.
	p, err = s.Unmarshal(protocol.Response, []byte{0x02, 0, 4, 7, 0x02, 0, 9, 2, 0})
	if r, _ := p.(*packets.Response); err != nil || !r.Success || r.Stream == nil || !*r.Stream {
		t.Errorf("boolean bytes 7 and 2: %+v %v", p, err)
	}
	// A field of an unexpected type is skipped; bytes after the end are
	// ignored.
	p, err = s.Unmarshal(protocol.Discover, append([]byte{0x08, 0, 1, 0, 0, 0, 4}, append(str(2, "a"), 0, 0xff, 0xff)...))
	if err != nil || p.(*packets.Discover).Ver != "" || p.(*packets.Discover).Sender != "a" {
		t.Errorf("skipped field: %+v %v", p, err)
	}
	// Whatever a skipped field holds is skipped: here a struct holding a
	// map of lists, and a set.
	p, err = s.Unmarshal(protocol.Discover, hexBytes(t, "0c0001 0d0001 0b0f 00000001 00000001 61 08 00000001 00000007 00 0e0009 02 00000002 0100 0b0002 00000001 61 00"))
	if err != nil || p.(*packets.Discover).Ver != "" || p.(*packets.Discover).Sender != "a" {
		t.Errorf("skipped containers: %+v %v", p, err)
	}
	// Values nested 64 deep in a skipped field are skipped, deeper ones
	// refused.
	nested := func(depth int) []byte {
		return hexBytes(t, strings.Repeat("0c0063", depth)+strings.Repeat("00", depth)+"00")
	}
	if _, err := s.Unmarshal(protocol.Request, nested(64)); err != nil {
		t.Errorf("64 structs deep: %v", err)
	}
	if _, err := s.Unmarshal(protocol.Request, nested(65)); err == nil || !strings.Contains(err.Error(), "deep") {
		t.Errorf("65 structs deep: %v", err)
	}
	// Errors say which field.
	if _, err := s.Unmarshal(protocol.Request, []byte{0x0b, 0, 3, 0, 0, 0, 9, '4', 0}); err == nil ||
		!strings.HasPrefix(err.Error(), "thrift: decode REQ: field 3: ") {
		t.Errorf("error without the field: %v", err)
	}
	// An INFO without a client (found by fuzzing: the generated getters of
	// a nil Client panicked).
	p, err = s.Unmarshal(protocol.Info, []byte{0})
	if err != nil || p.(*packets.Info).Client != (packets.ClientInfo{}) {
		t.Errorf("INFO without client: %+v %v", p, err)
	}
	// A data type outside the enum means JSON, as in JS.
	p, err = s.Unmarshal(protocol.Response, append(append(str(5, "5"), 0x08, 0, 6, 0, 0, 0, 7), 0))
	if err != nil || p.(*packets.Response).Data.String() != "5" {
		t.Errorf("data type 7: %v %v", p, err)
	}
	for name, data := range map[string][]byte{
		"bad JSON params":  append(append(str(5, "{"), 0x08, 0, 6, 0, 0, 0, 2), 0),
		"empty JSON":       append(append(str(5, ""), 0x08, 0, 6, 0, 0, 0, 2), 0),
		"bad meta":         append(str(7, "["), 0),
		"no stop":          str(1, "4"),
		"unknown type":     {0x55, 0, 1, 0},
		"negative length":  {0x0b, 0, 1, 0xff, 0xff, 0xff, 0xff, 0},
		"huge list":        {0x0f, 0, 7, 0x0b, 0x7f, 0xff, 0xff, 0xff, 0},
		"length past end":  {0x0b, 0, 1, 0, 0, 0, 9, '4', 0},
		"deeply nested":    []byte(strings.Repeat("\x0c\x00\x63", 100)),
		"negative list":    {0x0f, 0, 7, 0x0b, 0xff, 0xff, 0xff, 0xfe, 0},
		"truncated double": {0x04, 0, 8, 0x40, 0},
	} {
		if _, err := s.Unmarshal(protocol.Request, data); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// Params and data are slices of the input, which appending to them does
// not overwrite.
func TestValuesReferToInput(t *testing.T) {
	s := Serializer{}
	b, err := s.Marshal(&packets.Response{Data: packets.RawValue(packets.JSON, []byte(`[1]`)), Meta: packets.ValueOf(packets.Meta{})})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Unmarshal(protocol.Response, b)
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := p.(*packets.Response).Data.Raw(packets.JSONFormat)
	if !ok || string(raw) != "[1]" {
		t.Fatalf("data %q", raw)
	}
	if cap(raw) != len(raw) {
		t.Errorf("data of capacity %d: appending would overwrite the input", cap(raw))
	}
	b[bytes.Index(b, raw)+1] = '2'
	if string(raw) != "[2]" {
		t.Errorf("data %q is a copy of the input", raw)
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
