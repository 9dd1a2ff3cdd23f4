package objcodec

import (
	"bytes"
	"math"
	"reflect"
	"testing"
	"time"
)

// FuzzValue checks that no input crashes the value decoder, that skipping
// a value accepts what decoding it accepts, that strings sliced from a
// shared copy of the input read as strings copied one by one, and that
// what is decoded encodes and decodes back to the same data.
func FuzzValue(f *testing.F) {
	for _, format := range formats {
		for _, v := range []any{
			nil, true, 1.5, -7.0, 300.0, "héllo", []byte{1, 2}, time.UnixMilli(1700000000123).UTC(),
			[]any{"a", 1.0, nil, map[string]any{"x": []any{}}},
			map[string]any{"user": "u1", "n": 1e21, "nested": map[string]any{"tags": []any{"a", "b"}}},
		} {
			b, err := EncodeValue(format, v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(byte(format), b)
		}
	}
	f.Add(byte(CBOR), []byte("\xbf\x61a\x9f\x01\xff\xff"))                             // indefinite lengths
	f.Add(byte(CBOR), []byte("\xa2\x01\xc1\x1a\x65\x53\xf1\x00\xf5\xc2\x41\x01"))      // tags, number key
	f.Add(byte(Notepack), []byte("\x83\xa1a\xd4\x00\x00\xc3\xd7\x00\x00\x00\x01\x8b")) // notepack extensions
	f.Fuzz(func(t *testing.T, fb byte, data []byte) {
		format := Format(fb % 3)
		shared := reader{f: format, d: data}
		shared.shareText()
		v, err := shared.value(0, true)
		copied := reader{f: format, d: data}
		vc, errc := copied.value(0, true)
		skipped := reader{f: format, d: data}
		_, errSkip := skipped.value(0, false)
		if (err == nil) != (errc == nil) || (err == nil) != (errSkip == nil) {
			t.Fatalf("shared text: %v, copied strings: %v, skipping: %v", err, errc, errSkip)
		}
		if err != nil {
			return
		}
		if shared.p != copied.p || shared.p != skipped.p {
			t.Fatalf("ends at %d, %d, %d", shared.p, copied.p, skipped.p)
		}
		if !sameData(v, vc) {
			t.Fatalf("shared text gives %#v, copied strings %#v", v, vc)
		}
		if _, undef := v.(undefinedValue); undef {
			return
		}
		out, err := EncodeValue(format, v)
		if err != nil {
			t.Fatalf("encoding %#v: %v", v, err)
		}
		var back any
		if err := NewCodec(format).DecodeValue(out, &back); err != nil {
			t.Fatalf("decoding our own %x: %v", out, err)
		}
		if !sameData(v, back) {
			t.Fatalf("round trip changed %#v into %#v", v, back)
		}
	})
}

// sameData is reflect.DeepEqual for decoded data, where NaN equals NaN
// and byte slices are compared by their bytes.
func sameData(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameData(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameData(v, w) {
				return false
			}
		}
		return true
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return reflect.DeepEqual(a, b)
}
