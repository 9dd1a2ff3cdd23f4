package objcodec

import (
	"testing"

	"github.com/molbridge/molbridge/packets"
)

// FindField finds one field of an encoded map; the Value it gives is raw
// and decodes to the field's value.
func TestFindField(t *testing.T) {
	obj := map[string]any{"name": "a.b", "params": map[string]any{"id": "string"}, "timeout": 500.0, "n": nil}
	for _, f := range formats {
		raw, err := EncodeValue(f, obj)
		if err != nil {
			t.Fatal(err)
		}
		v := packets.RawValue(NewCodec(f), raw)
		for key, want := range map[string]string{"name": `"a.b"`, "params": `{"id":"string"}`, "timeout": "500",
			"n": "null", "missing": "undefined"} {
			field := v.Field(key)
			if _, isRaw := field.Raw(f.Name()); !isRaw && !field.IsUndefined() {
				t.Errorf("%s: field %s is not raw", f.Name(), key)
			}
			if got := field.String(); got != want {
				t.Errorf("%s: Field(%q) = %s, want %s", f.Name(), key, got, want)
			}
		}
		list, _ := EncodeValue(f, []any{1.0})
		if _, ok := NewCodec(f).FindField(list, "a"); ok {
			t.Errorf("%s: found a field in an array", f.Name())
		}
		if _, ok := NewCodec(f).FindField(raw[:len(raw)-2], "timeout"); ok {
			t.Errorf("%s: found a field in truncated input", f.Name())
		}
	}
}

func TestIsEmptyObject(t *testing.T) {
	for _, f := range formats {
		for _, c := range []struct {
			v    any
			want bool
		}{
			{map[string]any{}, true},
			{map[string]any{"a": 1.0}, false},
			{[]any{}, false},
			{nil, false},
		} {
			raw, err := EncodeValue(f, c.v)
			if err != nil {
				t.Fatal(err)
			}
			if got := packets.RawValue(NewCodec(f), raw).IsEmptyObject(); got != c.want {
				t.Errorf("%s: IsEmptyObject(%v) = %v, want %v", f.Name(), c.v, got, c.want)
			}
		}
	}
}
