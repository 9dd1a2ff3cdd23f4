package jsonlike

import (
	"encoding/json"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/molbridge/molbridge/packets"
)

var valid = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `1023`, `1024`, `123456789012345`, `1234567890123456789`,
	`1.5`, `-2.5e3`, `1E-7`, `1e+21`, `0.1`, `""`, `"a"`, `"é"`, `"\u00e9\n\t\"\\\/\b\f\r"`,
	`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, "\"\xff\xfe\"", "\"a\xc3\"", `"\u2028"`,
	`[]`, `{}`, ` [ 1 , "a" , null , { } , [ ] ] `, `{"a":{"b":[1,{"c":null}]},"a":2}`,
	`{"users.list":{"rawName":"list","params":{"page":{"type":"number","optional":true}}}}`,
}

var invalid = []string{
	``, ` `, `{`, `}`, `[`, `]`, `[1,]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`, `01`, `-`, `1.`, `1e`, `.5`,
	`+1`, `tru`, `nul`, `"`, `"\q"`, `"\u12"`, `"\u12x4"`, "\"\x01\"", `1 2`, `[1 2]`, `{"a":1 "b":2}`,
	`1e400`, `NaN`, `Infinity`, `"a`, `[1`, `{"a":1`,
}

// ParseValue reads what encoding/json reads, to the same values, and
// refuses what it refuses.
func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, in := range valid {
		var want any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%q: encoding/json: %v", in, err)
		}
		got, err := ParseValue(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %#v, want %#v", in, got, want)
		}
		if !Valid([]byte(in)) {
			t.Errorf("%q: not Valid", in)
		}
	}
	for _, in := range invalid {
		if json.Valid([]byte(in)) && !strings.Contains(in, "e400") {
			t.Fatalf("%q is valid JSON", in)
		}
		if v, err := ParseValue(in); err == nil {
			t.Errorf("%q accepted: %#v", in, v)
		}
		if Valid([]byte(in)) != json.Valid([]byte(in)) {
			t.Errorf("%q: Valid %v, json.Valid %v", in, Valid([]byte(in)), json.Valid([]byte(in)))
		}
	}
	deep := strings.Repeat("[", MaxDepth+2) + strings.Repeat("]", MaxDepth+2)
	if _, err := ParseValue(deep); err == nil {
		t.Error("too deep nesting accepted")
	}
	if _, err := ParseValue(strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)); err != nil {
		t.Errorf("nesting of %d refused: %v", MaxDepth, err)
	}
}

// Negative zero and numbers beyond the small-integer table keep their
// value; the shared boxes are not written again.
func TestBoxes(t *testing.T) {
	var b Boxes
	if v := b.Number(math.Copysign(0, -1)).(float64); v != 0 || !math.Signbit(v) {
		t.Errorf("-0 boxed as %v", v)
	}
	var vals []any
	for i := range 300 {
		vals = append(vals, b.Number(float64(i)+0.5), b.String(strings.Repeat("x", i%7)))
	}
	runtime.GC()
	for i := range 300 {
		if vals[2*i] != float64(i)+0.5 || vals[2*i+1] != strings.Repeat("x", i%7) {
			t.Fatalf("box %d: %v %q", i, vals[2*i], vals[2*i+1])
		}
	}
	if b.Number(7) != any(7.0) || b.Number(1024) != any(1024.0) || b.Number(-3) != any(-3.0) {
		t.Error("integers")
	}
}

// The writer writes what encoding/json writes, but for the HTML escapes
// that JSON.stringify does not make, and Buffers.
func TestWriterMatchesEncodingJSON(t *testing.T) {
	for _, in := range valid {
		v, err := ParseValue(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendAny(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		if string(got) != string(want) {
			t.Errorf("%q: wrote %s, encoding/json %s", in, got, want)
		}
	}
	big := map[string]any{}
	for i := range 40 {
		big[strings.Repeat("k", i%7)+string(rune('a'+i%26))+strings.Repeat("z", i/26)] = map[string]any{"i": float64(i), "s": []any{"x"}}
	}
	for _, v := range []any{big, map[string]any{"only": big}, []any{big, map[string]any{}}} {
		got, err := AppendAny(nil, v)
		want, _ := json.Marshal(v)
		if err != nil || string(got) != string(want) {
			t.Errorf("large map: %s %v\nwant %s", got, err, want)
		}
	}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{map[string]any{"b": []byte("hi"), "a": "<&>"}, `{"a":"<&>","b":{"type":"Buffer","data":[104,105]}}`},
		{[]any{math.NaN(), math.Inf(1), math.Copysign(0, -1), 1e21, 1e-7, 123456789012345678.0}, `[null,null,-0,1e+21,1e-7,123456789012345680]`},
		{map[string]any(nil), `null`},
		{packets.RawValue(packets.JSON, []byte(`{"x":1}`)), `{"x":1}`},
		{struct {
			A int `json:"a"`
		}{3}, `{"a":3}`},
		{map[string]any{"k": []string{"x", "y"}, "n": int64(-4), "i": 5}, `{"i":5,"k":["x","y"],"n":-4}`},
	} {
		got, err := AppendAny(nil, tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("%#v: %s %v, want %s", tc.v, got, err, tc.want)
		}
	}
}

const info = `{"services":[{"name":"posts","version":2,"fullName":"v2.posts","settings":{"rest":"/posts"},"metadata":{},` +
	`"actions":{"v2.posts.get":{"rawName":"get","name":"v2.posts.get","params":{"id":"string"}},"x":null},` +
	`"events":{"user.removed":{"name":"user.removed","group":"posts"}},"extra":[1]},null],` +
	`"ipList":["192.0.2.10",null],"hostname":"h","client":{"type":"nodejs","version":"0.14.36","langVersion":"v20"},` +
	`"config":{},"instanceID":"i","metadata":{"a":1},"seq":2,"ver":"4","sender":"node-a","more":{}}`

// The INFO reader fills what encoding/json fills, and the writer writes
// what encoding/json writes.
func TestInfo(t *testing.T) {
	var want packets.Info
	if err := json.Unmarshal([]byte(info), &want); err != nil {
		t.Fatal(err)
	}
	var got packets.Info
	if err := NewParser(info).Info(&got); err != nil {
		t.Fatal(err)
	}
	// Descriptors, settings and metadata stay JSON text: compare values.
	if g, w := canonical(t, &got), canonical(t, &want); g != w {
		t.Errorf("got  %s\nwant %s", g, w)
	}
	a := got.Services[0].Actions["v2.posts.get"]
	e := got.Services[0].Events["user.removed"]
	if a.Name() != "v2.posts.get" || a.RawName() != "get" || e.Name() != "user.removed" || e.Group() != "posts" {
		t.Errorf("descriptor fields: %q %q %q %q", a.Name(), a.RawName(), e.Name(), e.Group())
	}
	if p := a.Field("params"); p.String() != `{"id":"string"}` {
		t.Errorf("params field: %s", p)
	}
	enc, err := AppendInfo(nil, &got)
	if err != nil {
		t.Fatal(err)
	}
	if c, w := canonical(t, json.RawMessage(enc)), canonical(t, &want); c != w {
		t.Errorf("wrote %s\nencoding/json %s", c, w)
	}
	for _, bad := range []string{
		`{"services":{}}`, `{"services":[1]}`, `{"services":[{"actions":[]}]}`, `{"services":[{"actions":{"a":1}}]}`,
		`{"services":[{"events":{"e":"x"}}]}`, `{"services":[{"name":1}]}`, `{"ipList":[1]}`, `{"client":[]}`,
		`{"client":{"type":1}}`, `{"config":[]}`, `{"seq":1.5}`, `{"seq":"1"}`, `{"hostname":true}`, `{"services":[]} x`,
	} {
		var p packets.Info
		if err := NewParser(bad).Info(&p); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FuzzParse checks the parser against encoding/json on any input.
func FuzzParse(f *testing.F) {
	for _, in := range append(append(valid, invalid...), info) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want any
		errStd := json.Unmarshal([]byte(in), &want)
		got, err := ParseValue(in)
		if (err == nil) != (errStd == nil) {
			if errStd != nil || strings.Count(in, "[")+strings.Count(in, "{") <= MaxDepth {
				t.Fatalf("%q: error %v, encoding/json %v", in, err, errStd)
			}
			return
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, want %#v", in, got, want)
		}
		if Valid([]byte(in)) != json.Valid([]byte(in)) {
			t.Fatalf("%q: Valid disagrees with json.Valid", in)
		}
		var p packets.Info
		_ = NewParser(in).Info(&p)
	})
}

// Codec decodes into a *any what packets.JSON decodes, and into other
// types through encoding/json.
func TestCodec(t *testing.T) {
	raw := []byte(`{"a":[1,"x",null,{"b":true}],"c":-2.5}`)
	var got, want any
	if err := Codec.DecodeValue(raw, &got); err != nil {
		t.Fatal(err)
	}
	if err := packets.JSON.DecodeValue(raw, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	var s struct{ C float64 }
	if err := packets.RawValue(Codec, raw).Decode(&s); err != nil || s.C != -2.5 {
		t.Errorf("into a struct: %+v %v", s, err)
	}
	if err := Codec.DecodeValue([]byte(`{`), &got); err == nil {
		t.Error("malformed JSON decoded")
	}
	if b, ok := packets.RawValue(Codec, raw).Raw(packets.JSONFormat); !ok || string(b) != string(raw) {
		t.Error("raw JSON does not pass through")
	}
}

// canonical is v in JSON with every object's keys sorted.
func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

// FindField finds one field of a JSON object as a slice of it.
func TestFindField(t *testing.T) {
	ff := Codec.(packets.FieldFinder)
	for _, tc := range []struct{ raw, key, want string }{
		{`{"a":1,"b":{"c":[2]}}`, "b", `{"c":[2]}`},
		{` { "a" : "x" } `, "a", `"x"`},
		{`{"a":1,"a":2}`, "a", `2`},
		{`{"\u0061":3}`, "a", `3`},
		{`{"a":1}`, "b", ""},
		{`[1]`, "a", ""},
		{`{"a":1`, "a", ""},
		{`{"a":tru}`, "a", ""},
	} {
		got, ok := ff.FindField([]byte(tc.raw), tc.key)
		if string(got) != tc.want || ok != (tc.want != "") {
			t.Errorf("FindField(%s, %q) = %s %v, want %s", tc.raw, tc.key, got, ok, tc.want)
		}
	}
}

func TestCodecIsEmptyObject(t *testing.T) {
	for in, want := range map[string]bool{"{}": true, " {\t} \n": true, `{"a":1}`: false, "[]": false, "{} {}": false, "null": false} {
		if got := packets.RawValue(Codec, []byte(in)).IsEmptyObject(); got != want {
			t.Errorf("IsEmptyObject(%q) = %v, want %v", in, got, want)
		}
	}
}
