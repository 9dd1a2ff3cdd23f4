package customfields

import (
	"errors"
	"testing"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

// fakeCodec stands for a value another serializer decoded lazily.
type fakeCodec struct{ v any }

func (fakeCodec) Format() string { return "fake" }
func (c fakeCodec) DecodeValue(_ []byte, into any) error {
	p, ok := into.(*any)
	if !ok {
		return errors.New("fake: only *any")
	}
	*p = c.v
	return nil
}

func TestFromValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    packets.Value
		typ  int32
		want string
	}{
		{"undefined", packets.Undefined, Undefined, ""},
		{"null", packets.Null, Null, ""},
		{"raw JSON", packets.RawValue(packets.JSON, []byte(` {"a": 1} `)), JSON, ` {"a": 1} `},
		{"Go value", packets.ValueOf(map[string]any{"b": 1, "a": "<"}), JSON, `{"a":"<","b":1}`}, // as JSON.stringify writes it
		{"bytes", packets.ValueOf([]byte("hi")), Buffer, "hi"},
		{"nil bytes", packets.ValueOf([]byte(nil)), Buffer, ""},
		{"packets.Buffer", packets.ValueOf(packets.Buffer("yo")), Buffer, "yo"},
		{"other format, binary", packets.RawValue(fakeCodec{[]byte{1}}, []byte{9}), Buffer, "\x01"},
		{"other format, object", packets.RawValue(fakeCodec{map[string]any{"x": 1.5}}, []byte{9}), JSON, `{"x":1.5}`},
		{"other format, nil", packets.RawValue(fakeCodec{nil}, []byte{9}), Null, ""},
	} {
		typ, b, err := FromValue(tc.v)
		if err != nil || typ != tc.typ || string(b) != tc.want {
			t.Errorf("%s: %d %q %v, want %d %q", tc.name, typ, b, err, tc.typ, tc.want)
		}
		if typ == Buffer && b == nil {
			t.Errorf("%s: nil Buffer bytes would be sent as absent", tc.name)
		}
	}
	if _, _, err := FromValue(packets.ValueOf(make(chan int))); err == nil {
		t.Error("a channel encoded")
	}
}

func TestToValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  int32
		b    []byte
		want string // Value.String
	}{
		{"undefined ignores bytes", Undefined, []byte("1"), "undefined"},
		{"null ignores bytes", Null, []byte("1"), "null"},
		{"JSON", JSON, []byte(`[1,"a"]`), `[1,"a"]`},
		{"absent JSON is null", JSON, nil, "null"},
		{"unknown type is JSON", 9, []byte(`true`), "true"},
		{"negative type is JSON", -1, []byte(`2`), "2"},
		{"Buffer", Buffer, []byte("hi"), `{"type":"Buffer","data":[104,105]}`},
		{"absent Buffer is empty", Buffer, nil, `{"type":"Buffer","data":[]}`},
	} {
		v, err := ToValue(tc.typ, tc.b)
		if err != nil || v.String() != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.name, v, err, tc.want)
		}
	}
	for _, b := range [][]byte{{}, []byte("{"), []byte("1 2"), []byte("\xef\xbb\xbf1")} {
		if _, err := ToValue(JSON, b); err == nil {
			t.Errorf("%q accepted as JSON", b)
		}
	}
}

func TestTextFields(t *testing.T) {
	meta := func(in string) (map[string]any, error) {
		v, err := UnmarshalMeta([]byte(in))
		if err != nil {
			return nil, err
		}
		if _, ok := v.Raw(packets.JSONFormat); !ok {
			t.Errorf("meta %q is not kept as JSON text", in)
		}
		return v.Map()
	}
	for _, in := range []string{"", "null", "{}", " {} "} {
		m, err := meta(in)
		if err != nil || m == nil || len(m) != 0 {
			t.Errorf("meta %q: %v %v", in, m, err)
		}
		o, err := UnmarshalObject([]byte(in))
		if err != nil || o == nil || len(o) != 0 {
			t.Errorf("object %q: %v %v", in, o, err)
		}
	}
	for _, in := range []string{`[1]`, `"x"`, `"[1]"`, `"\"{}\""x`, `"`, `1`, `{"a":}`, `{} {}`} {
		if m, err := UnmarshalMeta([]byte(in)); err == nil {
			t.Errorf("meta %s accepted: %v", in, m)
		}
	}
	// A meta encoded twice (JS's response stream chunks) is the object.
	for _, in := range []string{`"{\"a\":1}"`, `"\"{\\\"a\\\":1}\""`} {
		if m, err := meta(in); err != nil || len(m) != 1 || m["a"] != 1.0 {
			t.Errorf("meta %s: %v %v", in, m, err)
		}
	}
	if m, err := meta(`""`); err != nil || m == nil || len(m) != 0 {
		t.Errorf(`meta "": %v %v`, m, err)
	}
	for _, c := range []struct {
		in   packets.Value
		want string
	}{
		{packets.Undefined, "{}"},
		{packets.Null, "{}"},
		{packets.ValueOf(packets.Meta{}), "{}"},
		{packets.ValueOf(packets.Meta{"b": 1, "a": []byte("x")}), `{"a":{"type":"Buffer","data":[120]},"b":1}`},
		{packets.RawValue(jsonlike.Codec, []byte(`{"z":1,"a":2}`)), `{"z":1,"a":2}`}, // as it came
	} {
		if b, err := AppendMeta([]byte("x"), c.in); err != nil || string(b) != "x"+c.want {
			t.Errorf("AppendMeta(%v) = %s, %v; want x%s", c.in, b, err, c.want)
		}
	}
	if b, _ := MarshalServices(nil); string(b) != "[]" {
		t.Errorf("nil services: %s", b)
	}
	if s, err := UnmarshalServices("null"); err != nil || s == nil {
		t.Errorf("null services: %v %v", s, err)
	}
	if e, err := UnmarshalError(""); e != nil || err != nil {
		t.Errorf("empty error: %v %v", e, err)
	}
	if e, err := UnmarshalError(`{"name":"E","code":5}`); err != nil || e.Name != "E" || e.Code != 5 {
		t.Errorf("error: %v %v", e, err)
	}
	on, off, err := MarshalGossip(Gossip{Online: map[string][]any{}, Offline: map[string]int64{"n": 3}})
	if err != nil || on != nil || string(off) != `{"n":3}` {
		t.Errorf("gossip: %s %s %v", on, off, err)
	}
	g, err := UnmarshalGossip("null", `{"n":3}`)
	if err != nil || g.Online != nil || g.Offline["n"] != 3 {
		t.Errorf("gossip: %v %v", g, err)
	}
	// A second GOSSIP_REQ of one JS gossip round: its lists JSON-encoded
	// twice (see UnmarshalGossip) read as absent; broken JSON fails.
	g, err = UnmarshalGossip(`"{\"n1\":[3,1,0]}"`, `"{\"n2\":2}"`)
	if err != nil || g.Online != nil || g.Offline != nil {
		t.Errorf("gossip lists encoded twice: %v %v", g, err)
	}
	if _, err := UnmarshalGossip(`{"n1":[3,1,0]`, ""); err == nil {
		t.Error("broken online JSON decoded")
	}
	if _, err := UnmarshalGossip("", `"x`); err == nil {
		t.Error("broken offline JSON decoded")
	}
	if _, err := Int32("seq", 1<<31); err == nil {
		t.Error("1<<31 fits 32 bits")
	}
	if String([]byte("{}")) != "{}" || String([]byte(`{"a":1}`)) != `{"a":1}` {
		t.Error("String")
	}
}
