package packets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// RawCodec decodes values that a serializer left in its encoded form. A
// serializer that decodes lazily hands its raw bytes to [RawValue] together
// with a RawCodec of its own.
type RawCodec interface {
	// Format names the encoding, e.g. "JSON"; equal formats can pass raw
	// bytes through without decoding them.
	Format() string
	// DecodeValue decodes raw into the value into points to, matching
	// struct fields by their json tags as encoding/json does. Decoding into
	// a *any must give JSON-like data, the shapes JS sees: map[string]any,
	// []any, float64 for every number, string, bool, nil, and []byte for
	// binary data.
	DecodeValue(raw []byte, into any) error
}

type valueKind uint8

const (
	kindUndefined valueKind = iota
	kindNull
	kindGo
	kindRaw
)

// Value is a JSON-like value in a packet. The zero Value is undefined: it is
// absent on the wire, as JS leaves out a field whose value is undefined.
type Value struct {
	kind  valueKind
	goVal any
	raw   []byte
	codec RawCodec
}

// Undefined is the undefined Value (the zero Value).
var Undefined = Value{}

// Null is the null Value.
var Null = Value{kind: kindNull}

// ValueOf wraps a Go value. A nil interface gives Null; a Value is returned
// as it is.
func ValueOf(v any) Value {
	switch x := v.(type) {
	case nil:
		return Null
	case Value:
		return x
	case *Value:
		if x == nil {
			return Null
		}
		return *x
	}
	return Value{kind: kindGo, goVal: v}
}

// RawValue wraps bytes in codec's format. The bytes are kept, not copied.
func RawValue(codec RawCodec, raw []byte) Value {
	return Value{kind: kindRaw, raw: raw, codec: codec}
}

// IsUndefined reports whether v is undefined (absent).
func (v Value) IsUndefined() bool { return v.kind == kindUndefined }

// IsZero reports whether v is undefined; it makes `omitzero` leave
// undefined values out of JSON.
func (v Value) IsZero() bool { return v.kind == kindUndefined }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == kindNull }

// Raw returns the encoded bytes of v when v is held in format.
func (v Value) Raw(format string) ([]byte, bool) {
	if v.kind == kindRaw && v.codec.Format() == format {
		return v.raw, true
	}
	return nil, false
}

// Go returns the Go value v wraps and true, when v was made from a Go value
// (not decoded bytes). Null gives (nil, true).
func (v Value) Go() (any, bool) {
	switch v.kind {
	case kindGo:
		return v.goVal, true
	case kindNull:
		return nil, true
	}
	return nil, false
}

// Interface returns v as plain Go data: nil, bool, float64, string,
// []any, map[string]any, or the Go value v was made from. Undefined gives
// nil.
func (v Value) Interface() (any, error) {
	switch v.kind {
	case kindGo:
		return v.goVal, nil
	case kindRaw:
		var out any
		if err := v.codec.DecodeValue(v.raw, &out); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, nil
}

// A FieldFinder is a RawCodec that can find one field of an encoded
// object without decoding the rest of it. [Value.Field] uses it when the
// codec has it.
type FieldFinder interface {
	// FindField returns the encoded value of the field key of the object
	// raw holds; ok is false when raw holds no object or the object has no
	// such field. The result is a slice of raw.
	FindField(raw []byte, key string) (field []byte, ok bool)
}

// Field returns the field key of the object v holds, undefined when v holds
// no object or the object has no such field. Only that field is decoded:
// the result of a raw v is raw as well.
func (v Value) Field(key string) Value {
	switch v.kind {
	case kindGo:
		if m, ok := v.goVal.(map[string]any); ok {
			if f, ok := m[key]; ok {
				return ValueOf(f)
			}
		}
		return Undefined
	case kindRaw:
		if ff, ok := v.codec.(FieldFinder); ok {
			if f, ok := ff.FindField(v.raw, key); ok {
				return RawValue(v.codec, f)
			}
			return Undefined
		}
		x, err := v.Interface()
		if m, ok := x.(map[string]any); ok && err == nil {
			if f, ok := m[key]; ok {
				return ValueOf(f)
			}
		}
	}
	return Undefined
}

// An EmptyObjectChecker is a RawCodec that can tell an empty object from
// its encoded form. [Value.IsEmptyObject] uses it when the codec has it.
type EmptyObjectChecker interface {
	// IsEmptyObject reports whether raw holds an object without fields.
	IsEmptyObject(raw []byte) bool
}

// IsEmptyObject reports whether v holds an object without fields, without
// decoding v. It is false for null, undefined, anything but an object, and
// raw bytes whose codec cannot tell.
func (v Value) IsEmptyObject() bool {
	switch v.kind {
	case kindGo:
		m, ok := v.goVal.(map[string]any)
		return ok && len(m) == 0
	case kindRaw:
		c, ok := v.codec.(EmptyObjectChecker)
		return ok && c.IsEmptyObject(v.raw)
	}
	return false
}

// Map returns the object v holds as a map: a new one for raw bytes, the
// map v was made from for a Go map. Null and undefined give nil; anything
// but an object is an error.
func (v Value) Map() (map[string]any, error) {
	x, err := v.Interface()
	if err != nil || x == nil {
		return nil, err
	}
	m, ok := x.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("packets: %s is not an object", v)
	}
	return m, nil
}

// ErrUndefined is returned by Decode for an undefined Value.
var ErrUndefined = errors.New("packets: value is undefined")

// Decode stores v in the value into points to, as json.Unmarshal would.
// Null leaves into unchanged, except that a pointer, map, slice or interface
// is set to nil; undefined returns ErrUndefined.
func (v Value) Decode(into any) error {
	switch v.kind {
	case kindUndefined:
		return ErrUndefined
	case kindNull:
		return json.Unmarshal([]byte("null"), into)
	case kindRaw:
		return v.codec.DecodeValue(v.raw, into)
	}
	// A Go value: assign when the types fit, otherwise convert through JSON.
	rv := reflect.ValueOf(into)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("packets: Decode needs a non-nil pointer, not %T", into)
	}
	src := reflect.ValueOf(v.goVal)
	if dst := rv.Elem(); src.Type().AssignableTo(dst.Type()) {
		dst.Set(src)
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// String returns v in JSON, for logs and messages.
func (v Value) String() string {
	if v.kind == kindUndefined {
		return "undefined"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// MarshalJSON encodes v as JSON. Byte slices are written as JS writes a
// Buffer: {"type":"Buffer","data":[...]}.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.kind {
	case kindUndefined, kindNull:
		return []byte("null"), nil
	case kindRaw:
		if v.codec.Format() == JSONFormat {
			return v.raw, nil
		}
		x, err := v.Interface()
		if err != nil {
			return nil, err
		}
		return json.Marshal(withBuffers(x))
	}
	return json.Marshal(withBuffers(v.goVal))
}

// withBuffers returns v with every []byte inside maps and slices turned
// into a Buffer, so that binary data takes the shape JS gives a Buffer at
// any depth; v itself is not changed. Struct fields should use the Buffer
// type for the same effect.
func withBuffers(v any) any {
	if !hasBytes(v) {
		return v
	}
	return bytesToBuffers(v)
}

func bytesToBuffers(v any) any {
	switch x := v.(type) {
	case []byte:
		return Buffer(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = bytesToBuffers(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = bytesToBuffers(e)
		}
		return out
	}
	return v
}

func hasBytes(v any) bool {
	switch x := v.(type) {
	case []byte:
		return true
	case map[string]any:
		for _, e := range x {
			if hasBytes(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasBytes(e) {
				return true
			}
		}
	}
	return false
}

// UnmarshalJSON keeps the JSON text; it is decoded when asked for.
func (v *Value) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*v = Null
		return nil
	}
	*v = RawValue(JSON, bytes.Clone(b))
	return nil
}

// JSONFormat is the format name of JSON-encoded raw values.
const JSONFormat = "JSON"

// JSON is the RawCodec of JSON text.
var JSON RawCodec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Format() string { return JSONFormat }

func (jsonCodec) DecodeValue(raw []byte, into any) error { return json.Unmarshal(raw, into) }

// IsEmptyObject reports whether raw is {}, white space aside.
func (jsonCodec) IsEmptyObject(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) >= 2 && t[0] == '{' && t[len(t)-1] == '}' && len(bytes.TrimSpace(t[1:len(t)-1])) == 0
}

// Buffer is binary data that JSON carries as JS carries a Node Buffer:
// {"type":"Buffer","data":[104,105]}.
type Buffer []byte

// MarshalJSON writes the Buffer shape.
func (b Buffer) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 26+4*len(b))
	out = append(out, `{"type":"Buffer","data":[`...)
	for i, c := range b {
		if i > 0 {
			out = append(out, ',')
		}
		out = fmt.Appendf(out, "%d", c)
	}
	return append(out, "]}"...), nil
}

// UnmarshalJSON reads the Buffer shape.
func (b *Buffer) UnmarshalJSON(data []byte) error {
	var shape struct {
		Type string `json:"type"`
		Data []int  `json:"data"`
	}
	if err := json.Unmarshal(data, &shape); err != nil {
		return err
	}
	if shape.Type != "Buffer" {
		return fmt.Errorf("packets: not a Buffer: type %q", shape.Type)
	}
	out := make([]byte, len(shape.Data))
	for i, c := range shape.Data {
		if c < 0 || c > 255 {
			return fmt.Errorf("packets: Buffer byte %d out of range", c)
		}
		out[i] = byte(c)
	}
	*b = out
	return nil
}
