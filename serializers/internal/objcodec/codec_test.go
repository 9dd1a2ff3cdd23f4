package objcodec

import (
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers/internal/sertest"
)

var formats = []Format{MsgPack, Notepack, CBOR}

type inner struct {
	Deep []int `json:"deep"`
}

type Embedded struct {
	E string `json:"e"`
}

type params struct {
	A       int               `json:"a"`
	B       *float64          `json:"b"`
	Name    string            `json:"name"`
	Big     int64             `json:"big"`
	Bin     []byte            `json:"bin"`
	B64     []byte            `json:"b64"`
	When    time.Time         `json:"when"`
	Any     any               `json:"any"`
	Map     map[string]any    `json:"map"`
	IntKeys map[int]string    `json:"intKeys"`
	Inner   inner             `json:"inner"`
	Ptr     *inner            `json:"ptr"`
	Raw     json.RawMessage   `json:"raw"`
	Val     packets.Value     `json:"val"`
	Addr    netip.Addr        `json:"addr"`
	Quoted  int               `json:"quoted,string"`
	Skip    string            `json:"-"`
	Lower   string            // matched without regard to case
	Arr     [2]string         `json:"arr"`
	Strs    map[string]string `json:"strs,omitempty"`
	Empty   string            `json:"empty,omitempty"`
	Zero    time.Time         `json:"zero,omitzero"`
	Embedded
}

func TestDecodeIntoGoTypes(t *testing.T) {
	b := 2.5
	src := map[string]any{
		"a": 5, "b": b, "name": "héllo", "big": int64(1700000000123), "bin": []byte{0, 255}, "b64": "AP8=",
		"when": time.UnixMilli(1700000000123).UTC(), "any": map[string]any{"n": 1, "l": []any{int8(2), "x"}},
		"map": map[string]any{"k": -3}, "intKeys": map[string]string{"7": "seven"}, "inner": map[string]any{"deep": []any{1, 2}},
		"ptr": map[string]any{"deep": nil}, "raw": map[string]any{"r": true}, "val": []any{1, "v"}, "addr": "192.0.2.1",
		"quoted": "42", "Skip": "no", "LOWER": "yes", "arr": []string{"x"}, "e": "embedded", "unknown": 1,
	}
	for _, f := range formats {
		data, err := EncodeValue(f, src)
		if err != nil {
			t.Fatal(err)
		}
		var p params
		if err := NewCodec(f).DecodeValue(data, &p); err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		want := params{A: 5, B: &b, Name: "héllo", Big: 1700000000123, Bin: []byte{0, 255}, B64: []byte{0, 255},
			When: time.UnixMilli(1700000000123).UTC(), Any: map[string]any{"n": 1.0, "l": []any{2.0, "x"}},
			Map: map[string]any{"k": -3.0}, IntKeys: map[int]string{7: "seven"}, Inner: inner{Deep: []int{1, 2}}, Ptr: &inner{},
			Raw: json.RawMessage(`{"r":true}`), Val: packets.ValueOf([]any{1.0, "v"}), Addr: netip.MustParseAddr("192.0.2.1"),
			Quoted: 42, Lower: "yes", Arr: [2]string{"x", ""}, Embedded: Embedded{E: "embedded"}}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", f.Name(), p, want)
		}
		// Encoding the struct gives the same data back (by json tags).
		again, err := EncodeValue(f, p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := NewCodec(f).DecodeValue(again, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"Skip", "strs", "empty", "zero"} {
			if _, ok := m[k]; ok {
				t.Errorf("%s: %s encoded", f.Name(), k)
			}
		}
		if m["Lower"] != "yes" || m["e"] != "embedded" || m["quoted"] != "42" || m["addr"] != "192.0.2.1" ||
			!reflect.DeepEqual(m["raw"], map[string]any{"r": true}) || !reflect.DeepEqual(m["bin"], []byte{0, 255}) ||
			!reflect.DeepEqual(m["intKeys"], map[string]any{"7": "seven"}) || m["big"] != 1700000000123.0 {
			t.Errorf("%s: encoded struct decodes to %v", f.Name(), m)
		}
	}
}

func TestDecodeIntoAnyIsJSONLike(t *testing.T) {
	for _, f := range formats {
		data, _ := EncodeValue(f, map[string]any{"i": int8(-3), "u": uint64(1 << 40), "f": float32(1.5), "l": []any{uint16(7)}})
		var v any
		if err := NewCodec(f).DecodeValue(data, &v); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"i": -3.0, "u": float64(1 << 40), "f": 1.5, "l": []any{7.0}}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("%s: %#v", f.Name(), v)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, f := range formats {
		c := NewCodec(f)
		enc := func(v any) []byte { b, _ := EncodeValue(f, v); return b }
		var n int8
		var u uint
		var s string
		var x struct {
			N int `json:"n"`
		}
		for _, tt := range []struct {
			data []byte
			into any
			msg  string
		}{
			{enc(1.5), &n, "number into int8"},
			{enc(300), &n, "number into int8"},
			{enc(-1), &u, "number into uint"},
			{enc(true), &s, "a boolean into Go value of type string"},
			{enc(map[string]any{"n": "x"}), &x, "(at n)"},
		} {
			err := c.DecodeValue(tt.data, tt.into)
			if err == nil || !strings.Contains(err.Error(), tt.msg) && !strings.Contains(err.Error(), "cannot decode") {
				t.Errorf("%s %x into %T: %v", f.Name(), tt.data, tt.into, err)
			}
		}
		if err := c.DecodeValue(enc(1), nil); err == nil {
			t.Errorf("%s: nil target accepted", f.Name())
		}
		if err := c.DecodeValue(append(enc(1), 1), new(any)); err == nil {
			t.Errorf("%s: trailing byte accepted", f.Name())
		}
	}
}

func TestNull(t *testing.T) {
	for _, f := range formats {
		p := &struct{ A int }{A: 1}
		m := map[string]any{"a": 1}
		if err := NewCodec(f).DecodeValue(mustEncode(t, f, nil), &m); err != nil || m != nil {
			t.Errorf("%s: null into map: %v %v", f.Name(), m, err)
		}
		if err := NewCodec(f).DecodeValue(mustEncode(t, f, nil), p); err != nil || p.A != 1 {
			t.Errorf("%s: null into struct: %v %v", f.Name(), p, err)
		}
	}
}

func mustEncode(t *testing.T, f Format, v any) []byte {
	t.Helper()
	b, err := EncodeValue(f, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type textKey struct{ a, b string }

func (k textKey) MarshalText() ([]byte, error) { return []byte(k.a + "/" + k.b), nil }

type failing struct{}

func (failing) MarshalJSON() ([]byte, error) { return nil, errors.New("nope") }

func TestEncodeGoValues(t *testing.T) {
	type node struct {
		Next *node `json:"next"`
	}
	loop := &node{}
	loop.Next = loop
	for _, f := range formats {
		for _, tt := range []struct {
			in   any
			want any
		}{
			{map[textKey]int{{"a", "b"}: 1}, map[string]any{"a/b": 1.0}},
			{map[uint8]bool{2: true}, map[string]any{"2": true}},
			{json.RawMessage(`{"a":[1,2.5,"x",null,true]}`), map[string]any{"a": []any{1.0, 2.5, "x", nil, true}}},
			{json.Number("12"), 12.0},
			{packets.RawValue(packets.JSON, []byte(`[9007199254740993]`)), []any{9007199254740992.0}},
			{packets.NullString(""), nil},
			{&struct{ P *int }{}, map[string]any{"P": nil}},
			{[3]byte{1, 2, 3}, []byte{1, 2, 3}},
			{[]packets.Value{packets.Null, packets.ValueOf("x")}, []any{nil, "x"}},
			{packets.Buffer("hi"), []byte("hi")},
			{uint64(math.MaxUint64), float64(math.MaxUint64)},
		} {
			b, err := EncodeValue(f, tt.in)
			if err != nil {
				t.Fatalf("%s %T: %v", f.Name(), tt.in, err)
			}
			var got any
			if err := NewCodec(f).DecodeValue(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s %#v: got %#v", f.Name(), tt.in, got)
			}
		}
		for _, bad := range []any{make(chan int), failing{}, loop, map[[2]int]int{{1, 2}: 3}, complex(1, 2)} {
			if _, err := EncodeValue(f, bad); err == nil {
				t.Errorf("%s: %T encoded", f.Name(), bad)
			}
		}
	}
}

// Numbers reach every numeric field in any width, as JS libraries and
// other peers may write them; explicit nulls are accepted too.
func TestLenientFields(t *testing.T) {
	type entry struct {
		key string
		raw []byte // one encoded value
	}
	mp := func(entries ...entry) []byte {
		b := []byte{0x80 | byte(len(entries))}
		for _, e := range entries {
			b = append(b, 0xa0|byte(len(e.key)))
			b = append(b, e.key...)
			b = append(b, e.raw...)
		}
		return b
	}
	cb := func(entries ...entry) []byte {
		b := []byte{0xbf} // an indefinite-length map
		for _, e := range entries {
			b = append(b, 0x60|byte(len(e.key)))
			b = append(b, e.key...)
			b = append(b, e.raw...)
		}
		return append(b, 0xff)
	}
	type format struct {
		f    Format
		make func(...entry) []byte
		// level 2, seq 3, timeout 1500.5, cpu, time 1700000000123, null
		level, seq, timeout, cpu, time, null []byte
		cpuWant                              float64
	}
	for _, c := range []format{
		{MsgPack, mp, []byte{0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0}, []byte{0xca, 0x40, 0x40, 0, 0}, []byte{0xca, 0x44, 0xbb, 0x90, 0},
			[]byte{0xd3, 0, 0, 0, 0, 0, 0, 0, 12}, []byte{0xcb, 0x42, 0x78, 0xbc, 0xfe, 0x56, 0x87, 0xb0, 0}, []byte{0xc0}, 12},
		{Notepack, mp, []byte{0xd0, 2}, []byte{0xcf, 0, 0, 0, 0, 0, 0, 0, 3}, []byte{0xcb, 0x40, 0x97, 0x72, 0, 0, 0, 0, 0},
			[]byte{0xca, 0x41, 0x48, 0, 0}, []byte{0xd3, 0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0x7b}, []byte{0xc0}, 12.5},
		{CBOR, cb, []byte{0xf9, 0x40, 0}, []byte{0x1b, 0, 0, 0, 0, 0, 0, 0, 3}, []byte{0xfb, 0x40, 0x97, 0x72, 0, 0, 0, 0, 0},
			[]byte{0xf9, 0x4a, 0x40}, []byte{0xfb, 0x42, 0x78, 0xbc, 0xfe, 0x56, 0x87, 0xb0, 0}, []byte{0xf6}, 12.5},
	} {
		req, err := Unmarshal(c.f, protocol.Request, c.make(entry{"level", c.level}, entry{"seq", c.seq},
			entry{"timeout", c.timeout}, entry{"tracing", c.null}, entry{"parentID", c.null}, entry{"params", c.null}))
		if err != nil {
			t.Fatalf("%s: %v", c.f.Name(), err)
		}
		r := req.(*packets.Request)
		if r.Level != 2 || *r.Seq != 3 || r.Timeout != 1500.5 || r.Tracing != nil || r.ParentID != "" || !r.Params.IsNull() {
			t.Errorf("%s: %+v", c.f.Name(), r)
		}
		hb, err := Unmarshal(c.f, protocol.Heartbeat, c.make(entry{"cpu", c.cpu}))
		if err != nil || hb.(*packets.Heartbeat).CPU != c.cpuWant {
			t.Errorf("%s: heartbeat %v %v", c.f.Name(), hb, err)
		}
		ping, err := Unmarshal(c.f, protocol.Ping, c.make(entry{"time", c.time}, entry{"id", c.null}))
		if err != nil || ping.(*packets.Ping).Time != 1700000000123 {
			t.Errorf("%s: ping %v %v", c.f.Name(), ping, err)
		}
		if _, err := Unmarshal(c.f, protocol.Request, c.make(entry{"level", c.timeout})); err == nil {
			t.Errorf("%s: fractional level accepted", c.f.Name())
		}
		if _, err := Unmarshal(c.f, protocol.Heartbeat, c.make(entry{"cpu", c.make()})); err == nil {
			t.Errorf("%s: a map as cpu accepted", c.f.Name())
		}
	}
}

func TestMalformed(t *testing.T) {
	msgpackBad := []string{"", "\x01", "\x81", "\x81\xa1a", "\xc1", "\x81\xa1a\xc1", "\xdc\xff\xff", "\xdf\xff\xff\xff\xff",
		"\x81\xa1a\xd9\x05ab", "\x81\xa1a\xd4\x05\x00", "\x81\x91\x01\x01", "\x81\xc4\x01a\x01"}
	cborBad := []string{"", "\x01", "\xa1", "\xbf", "\xa1\x61", "\xa1\x61a", "\xa1\x61a\x5f\x41a\xff", "\xff", "\xa1\x61a\xfc",
		"\xa1\x61a\xf8\x20", "\xa1\x61a\xff", "\xa1\x7f\xff\x01", "\xa1\x81\x01\x01", "\xbb\xff\xff\xff\xff\xff\xff\xff\xff"}
	for _, f := range formats {
		bad := msgpackBad
		if f == CBOR {
			bad = cborBad
		}
		for _, in := range bad {
			if f == Notepack && in == "\x81\xa1a\xd4\x05\x00" {
				continue // notepack.io reads an unknown extension as [type, Buffer]
			}
			for _, typ := range []protocol.PacketType{protocol.Request, protocol.Response, protocol.Event, protocol.Info} {
				if p, err := Unmarshal(f, typ, []byte(in)); err == nil {
					t.Errorf("%s %s %x accepted: %+v", f.Name(), typ, in, p)
				}
			}
		}
	}
	// Maps may have keys other than strings; JS makes strings of number,
	// boolean and null keys (array and binary keys are refused above).
	p, err := Unmarshal(Notepack, protocol.Request, []byte("\x82\x01\xa1x\xa6params\x81\xc3\x01"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := p.(*packets.Request).Params.Decode(&m); err != nil || m["true"] != 1.0 {
		t.Errorf("bool key: %v %v", m, err)
	}
}

// Trailing bytes: msgpack5 ignores them, notepack.io and cbor-x refuse them.
func TestTrailingBytes(t *testing.T) {
	for _, f := range formats {
		b, err := Marshal(f, &packets.Discover{Envelope: packets.Envelope{Ver: "4", Sender: "n"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Unmarshal(f, protocol.Discover, append(b, 0))
		if (err == nil) != (f == MsgPack) {
			t.Errorf("%s: %v", f.Name(), err)
		}
	}
}

// Independent decoders (vmihailenco/msgpack, fxamacker/cbor) read what we
// write, to the same data.
func TestOtherDecodersAgree(t *testing.T) {
	for _, p := range sertest.RoundTrip() {
		for _, f := range formats {
			b, err := Marshal(f, p)
			if err != nil {
				t.Fatal(err)
			}
			var theirs any
			if f == CBOR {
				err = cbor.Unmarshal(b, &theirs)
			} else {
				err = msgpack.Unmarshal(b, &theirs)
			}
			if err != nil {
				t.Errorf("%s %s: other decoder: %v\n%x", f.Name(), p.Type(), err, b)
				continue
			}
			var ours any
			if err := NewCodec(f).DecodeValue(b, &ours); err != nil {
				t.Fatal(err)
			}
			t1, o1 := normalize(theirs), normalize(ours)
			// fxamacker/cbor reads undefined as nil: drop the entries we
			// left out as undefined.
			for k, v := range t1.(map[string]any) {
				if _, ok := o1.(map[string]any)[k]; !ok && v == nil {
					delete(t1.(map[string]any), k)
				}
			}
			if a, b := sertest.Show(t1), sertest.Show(o1); a != b {
				t.Errorf("%s %s:\ntheirs %s\nours   %s", f.Name(), p.Type(), a, b)
			}
		}
	}
}

// normalize maps other decoders' data to ours: numbers to float64, maps
// to map[string]any.
func normalize(v any) any {
	rv := reflect.ValueOf(v)
	switch {
	case v == nil:
		return nil
	case rv.CanInt():
		return float64(rv.Int())
	case rv.CanUint():
		return float64(rv.Uint())
	case rv.CanFloat():
		return rv.Float()
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case time.Time:
		return x.Round(time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z")
	case cbor.Tag:
		return normalize(x.Content)
	}
	if rv.Kind() == reflect.Map {
		out := map[string]any{}
		for it := rv.MapRange(); it.Next(); {
			out[it.Key().Interface().(string)] = normalize(it.Value().Interface())
		}
		return out
	}
	return v
}

// Params stay raw until decoded, into Go types or into a packets.Value
// that keeps the raw bytes.
func TestLazyParams(t *testing.T) {
	for _, f := range formats {
		b, err := Marshal(f, &packets.Request{ID: "1", Params: packets.ValueOf(map[string]any{"a": 5, "tags": []string{"x"}}), Meta: packets.ValueOf(packets.Meta{})})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Unmarshal(f, protocol.Request, b)
		if err != nil {
			t.Fatal(err)
		}
		params := p.(*packets.Request).Params
		raw, ok := params.Raw(f.Name())
		if !ok {
			t.Fatalf("%s: params not raw", f.Name())
		}
		var typed struct {
			A    int      `json:"a"`
			Tags []string `json:"tags"`
		}
		if err := params.Decode(&typed); err != nil || typed.A != 5 || typed.Tags[0] != "x" {
			t.Errorf("%s: %+v %v", f.Name(), typed, err)
		}
		var v packets.Value
		if err := params.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if again, ok := v.Raw(f.Name()); !ok || &again[0] != &raw[0] {
			t.Errorf("%s: Value not kept raw", f.Name())
		}
		if s := params.String(); s != `{"a":5,"tags":["x"]}` {
			t.Errorf("%s: %s", f.Name(), s)
		}
	}
}

func TestJSNumberString(t *testing.T) {
	// String(n) in Node.js.
	for n, want := range map[float64]string{1e21: "1e+21", 1.5e-7: "1.5e-7", 123: "123", 0.000001: "0.000001", 1e-7: "1e-7",
		math.Copysign(0, -1): "0", 5e-324: "5e-324", math.MaxFloat64: "1.7976931348623157e+308", 1e20: "100000000000000000000",
		-2.5: "-2.5", math.Inf(-1): "-Infinity"} {
		if got := jsNumberString(n); got != want {
			t.Errorf("%v: %s, want %s", n, got, want)
		}
	}
}

// Keys too long for their length to be in their head byte take the other
// path of the key readers: a field name, a meta key, a key of skipped
// params.
func TestLongKeys(t *testing.T) {
	long := strings.Repeat("k", 40)
	for _, f := range formats {
		b, err := EncodeValue(f, map[string]any{
			"id": "1", "meta": map[string]any{long: "v"}, "params": map[string]any{long: 1.0}, long: "unknown field",
		})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Unmarshal(f, protocol.Request, b)
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		req := p.(*packets.Request)
		var params map[string]any
		meta, _ := req.Meta.Map()
		if err := req.Params.Decode(&params); err != nil || req.ID != "1" || meta[long] != "v" || params[long] != 1.0 {
			t.Errorf("%s: %+v, params %v (%v)", f.Name(), req, params, err)
		}
	}
}
