package packets

import (
	"errors"
	"testing"
)

func TestValueKinds(t *testing.T) {
	if !Undefined.IsUndefined() || Undefined.IsNull() || !Null.IsNull() || !ValueOf(nil).IsNull() {
		t.Fatal("undefined/null kinds are wrong")
	}
	var x struct{ A int }
	if err := Undefined.Decode(&x); !errors.Is(err, ErrUndefined) {
		t.Errorf("decoding undefined: %v", err)
	}
	raw := RawValue(JSON, []byte(`{"A":3}`))
	if err := raw.Decode(&x); err != nil || x.A != 3 {
		t.Errorf("raw decode: %v %v", x, err)
	}
	if b, ok := raw.Raw(JSONFormat); !ok || string(b) != `{"A":3}` {
		t.Error("raw bytes not kept")
	}
	type pt struct{ A int }
	goVal := ValueOf(pt{A: 5})
	var y pt
	if err := goVal.Decode(&y); err != nil || y.A != 5 {
		t.Errorf("assignable decode: %v %v", y, err)
	}
	var m map[string]any
	if err := goVal.Decode(&m); err != nil || m["A"] != 5.0 {
		t.Errorf("converted decode: %v %v", m, err)
	}
	if s := ValueOf([]byte("hi")).String(); s != `{"type":"Buffer","data":[104,105]}` {
		t.Errorf("buffer: %s", s)
	}
	nested := ValueOf(map[string]any{"b": []byte{1}, "l": []any{[]byte{2}}})
	if s := nested.String(); s != `{"b":{"type":"Buffer","data":[1]},"l":[{"type":"Buffer","data":[2]}]}` {
		t.Errorf("nested buffers: %s", s)
	}
	var buf Buffer
	if err := buf.UnmarshalJSON([]byte(`{"type":"Buffer","data":[104,105]}`)); err != nil || string(buf) != "hi" {
		t.Errorf("buffer decode: %q %v", buf, err)
	}
	if err := buf.UnmarshalJSON([]byte(`{"type":"Buffer","data":[300]}`)); err == nil {
		t.Error("out-of-range byte accepted")
	}
}

func TestIsEmptyObject(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want bool
	}{
		{Undefined, false},
		{Null, false},
		{RawValue(JSON, []byte("{}")), true},
		{RawValue(JSON, []byte(" { \n} ")), true},
		{ValueOf(map[string]any{}), true},
		{RawValue(JSON, []byte(`{"a":1}`)), false},
		{RawValue(JSON, []byte(`[]`)), false},
		{ValueOf(map[string]any{"a": 1}), false},
		{ValueOf([]any{}), false},
		{RawValue(otherFormat{}, []byte{0x80}), false}, // the codec cannot tell
	} {
		if got := c.v.IsEmptyObject(); got != c.want {
			t.Errorf("%v.IsEmptyObject() = %v, want %v", c.v, got, c.want)
		}
	}
}

// otherFormat is a RawCodec of a format other than JSON, without an
// EmptyObjectChecker.
type otherFormat struct{}

func (otherFormat) Format() string                         { return "other" }
func (otherFormat) DecodeValue(raw []byte, into any) error { return nil }
