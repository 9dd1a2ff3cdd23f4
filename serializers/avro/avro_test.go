package avro

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/serializers/internal/serializertest"
)

func TestRegistered(t *testing.T) {
	s, err := serializers.New("avro")
	if err != nil || s.Name() != "Avro" {
		t.Fatalf("%v %v", s, err)
	}
}

func TestGolden(t *testing.T)    { serializertest.Golden(t, Serializer{}, jsBytes) }
func TestRoundTrip(t *testing.T) { serializertest.RoundTrip(t, Serializer{}) }
func TestMalformed(t *testing.T) { serializertest.Malformed(t, Serializer{}, true) }
func TestWithJS(t *testing.T)    { serializertest.CheckWithJS(t, Serializer{}) }

// The codec must read and write exactly the schemas: goavro, given them,
// decodes our bytes and JS's, and encodes what it decoded to the same bytes.
func TestAgainstGoavro(t *testing.T) {
	codecs := map[protocol.PacketType]*goavro.Codec{}
	for _, pt := range protocol.PacketTypes {
		s, ok := Schema(pt)
		if !ok {
			t.Fatalf("no schema for %s", pt)
		}
		c, err := goavro.NewCodec(s)
		if err != nil {
			t.Fatalf("%s: %v", pt, err)
		}
		codecs[pt] = c
	}
	check := func(name string, pt protocol.PacketType, b []byte) {
		native, rest, err := codecs[pt].NativeFromBinary(b)
		if err != nil || len(rest) != 0 {
			t.Errorf("%s: goavro decode: %v (%d bytes left)\n%x", name, err, len(rest), b)
			return
		}
		again, err := codecs[pt].BinaryFromNative(nil, native)
		if err != nil {
			t.Errorf("%s: goavro encode: %v", name, err)
			return
		}
		if !bytes.Equal(again, b) {
			t.Errorf("%s: goavro re-encodes\n%x\nas\n%x", name, b, again)
		}
	}
	for _, c := range serializertest.Cases() {
		b, err := Serializer{}.Marshal(c.Payload)
		if err != nil {
			t.Fatal(err)
		}
		check(c.Name, c.Payload.Type(), b)
	}
	for _, v := range serializertest.Vectors() {
		b, _ := hex.DecodeString(jsBytes[v.Name])
		check("JS "+v.Name, v.Type, b)
	}
	// A few values as goavro sees them.
	b, _ := Serializer{}.Marshal(&packets.Request{ID: "1", Action: "a", Params: packets.ValueOf([]byte{7}), Timeout: 2.5, Level: 3, Stream: true})
	native, _, err := codecs[protocol.Request].NativeFromBinary(b)
	if err != nil {
		t.Fatal(err)
	}
	m := native.(map[string]any)
	if m["timeout"].(map[string]any)["double"] != 2.5 || m["level"] != int32(3) || m["paramsType"] != int32(3) ||
		!bytes.Equal(m["params"].(map[string]any)["bytes"].([]byte), []byte{7}) || m["meta"] != "{}" ||
		m["stream"].(map[string]any)["boolean"] != true || m["seq"] != nil || m["parentID"] != nil {
		t.Errorf("goavro reads %v", m)
	}
}

// Decoding follows avsc where it is lenient and refuses what avsc refuses.
func TestDecodingRules(t *testing.T) {
	s := Serializer{}
	hb := func(tail ...byte) []byte { return append([]byte{0x02, '4', 0x04, 'n', '1'}, tail...) }
	// A boolean byte other than 0 is true (avsc's readBoolean is !!byte).
	b, _ := s.Marshal(&packets.Response{ID: "1", Success: true, Meta: packets.ValueOf(packets.Meta{})})
	i := bytes.IndexByte(b, 1) // the success byte follows "1"
	b[i] = 7
	p, err := s.Unmarshal(protocol.Response, b)
	if err != nil || !p.(*packets.Response).Success {
		t.Errorf("boolean byte 7: %v %v", p, err)
	}
	for name, tc := range map[string]struct {
		typ  protocol.PacketType
		data []byte
		want string
	}{
		"trailing data":     {protocol.Discover, hb(0), "trailing data"},
		"truncated double":  {protocol.Heartbeat, hb(0, 0, 0), "truncated"},
		"union index 2":     {protocol.Ping, hb(0x02, 0x04), "invalid union index"},
		"negative union":    {protocol.Ping, hb(0x02, 0x01), "invalid union index"},
		"long overflow":     {protocol.Ping, hb(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00), "overflows"},
		"int out of range":  {protocol.GossipHello, hb(0x00, 0x80, 0x80, 0x80, 0x80, 0x10), "out of range"},
		"negative length":   {protocol.GossipHello, hb(0x01), "negative length"},
		"length past end":   {protocol.GossipHello, hb(0x7e, 'h'), "truncated"},
		"huge array count":  {protocol.Info, append(hb(0x04, '[', ']', 0x04, '{', '}'), 0xfe, 0xff, 0xff, 0xff, 0x0f), "invalid array block count"},
		"bad JSON data":     {protocol.Response, append(hb(0x02, 'x', 0x01, 0x02, 0x02, '{', 0x04), 0x00, 0x04, '{', '}', 0x00, 0x00), "invalid JSON"},
		"buffer of a meta":  {protocol.Response, append(hb(0x02, 'x', 0x01, 0x00, 0x04, 0x00, 0x04), '[', ']', 0x00, 0x00), "meta"},
		"unknown data type": {protocol.Response, append(hb(0x02, 'x', 0x01, 0x02, 0x02, '{', 0x0e), 0x00, 0x04, '{', '}', 0x00, 0x00), "invalid JSON"},
	} {
		_, err := s.Unmarshal(tc.typ, tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, tc.want)
		}
	}
	// A negative block count is followed by the block's size (Avro spec).
	info, _ := s.Marshal(&packets.Info{Seq: 1})
	blocked := bytes.Replace(info, []byte{0x00, 0x00, 0x00, 0x00, 0x00, 0x02}, []byte{0x01, 0x02, 0x02, 'a', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02}, 1)
	p, err = s.Unmarshal(protocol.Info, blocked)
	if err != nil || strings.Join(p.(*packets.Info).IPList, ",") != "a" {
		t.Errorf("negative block count: %v %v\n%x", p, err, blocked)
	}
	// Any data type but undefined, null and Buffer is JSON, as in JS.
	res := append(hb(0x02, 'x', 0x01, 0x02, 0x02, '1', 0x0e), 0x00, 0x04, '{', '}', 0x00, 0x00)
	p, err = s.Unmarshal(protocol.Response, res)
	if err != nil || p.(*packets.Response).Data.String() != "1" {
		t.Errorf("data type 7: %v %v", p, err)
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
		if _, err := s.Marshal(p); err == nil {
			t.Errorf("%T: 32-bit overflow encoded", p)
		}
	}
}

func FuzzUnmarshal(f *testing.F) { serializertest.Fuzz(f, Serializer{}, jsBytes) }

func BenchmarkMarshal(b *testing.B)   { serializertest.BenchMarshal(b, Serializer{}) }
func BenchmarkUnmarshal(b *testing.B) { serializertest.BenchUnmarshal(b, Serializer{}) }

// JSON written in place gets the length prefix appendBytes would write,
// for lengths of one to three prefix bytes.
func TestAppendJSONInPlace(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 8191, 8192, 20000} {
		text := []byte(strings.Repeat("x", n))
		got, err := appendJSON([]byte{7}, func(b []byte) ([]byte, error) { return append(b, text...), nil })
		if err != nil {
			t.Fatal(err)
		}
		if want := appendBytes([]byte{7}, text); !bytes.Equal(got, want) {
			t.Errorf("length %d: %x..., want %x...", n, got[:min(len(got), 8)], want[:min(len(want), 8)])
		}
	}
}
