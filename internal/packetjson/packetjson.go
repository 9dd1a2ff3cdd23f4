// Package packetjson shows packet payloads as JSON the way JS sees them, and
// turns such JSON back into payloads. It is the common ground of the
// serializer conformance suite and the `molbridge decode`/`encode` commands.
//
// The JSON view of a payload follows the json tags of package packets:
// undefined values are absent, null is null, every byte slice (anywhere,
// also inside params, data and meta) has the shape JS gives a Node Buffer,
// {"type":"Buffer","data":[...]}, and a time.Time is the ISO string JS's
// Date.toJSON writes.
package packetjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
)

// View returns p as JSON data: map[string]any, []any, json.Number, string,
// bool and nil.
func View(p packets.Payload) (any, error) {
	if p == nil {
		return nil, errors.New("packetjson: nil payload")
	}
	return view(reflect.ValueOf(p), 0)
}

// Marshal returns the JSON text of p's view, object keys sorted, without
// HTML escaping.
func Marshal(p packets.Payload) ([]byte, error) {
	v, err := View(p)
	if err != nil {
		return nil, err
	}
	return MarshalView(v)
}

// MarshalView writes a view (or any JSON data) as JSON text, object keys
// sorted, without HTML escaping and without a trailing newline.
func MarshalView(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Decode decodes a packet of type t with the serializer registered as
// serializer and returns its JSON view as text.
func Decode(serializer string, t protocol.PacketType, data []byte) ([]byte, error) {
	s, err := serializers.New(serializer)
	if err != nil {
		return nil, err
	}
	p, err := s.Unmarshal(t, data)
	if err != nil {
		return nil, err
	}
	return Marshal(p)
}

// Encode parses the JSON view of a payload of type t and encodes it with the
// serializer registered as serializer. Buffer-shaped objects become binary
// data where the serializer carries binary data (see [BuffersFor]).
func Encode(serializer string, t protocol.PacketType, text []byte) ([]byte, error) {
	s, err := serializers.New(serializer)
	if err != nil {
		return nil, err
	}
	p, err := Parse(t, text, BuffersFor(s.Name()))
	if err != nil {
		return nil, err
	}
	return s.Marshal(p)
}

var (
	valueType      = reflect.TypeFor[packets.Value]()
	timeType       = reflect.TypeFor[time.Time]()
	numberType     = reflect.TypeFor[json.Number]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	marshalType    = reflect.TypeFor[json.Marshaler]()
	zeroerType     = reflect.TypeFor[interface{ IsZero() bool }]()
)

const maxDepth = 10000

func view(v reflect.Value, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("packetjson: value nested too deeply")
	}
	depth++
	if !v.IsValid() {
		return nil, nil
	}
	t := v.Type()
	switch {
	case t == valueType:
		val := v.Interface().(packets.Value)
		if val.IsUndefined() || val.IsNull() {
			return nil, nil
		}
		x, err := val.Interface()
		if err != nil {
			return nil, err
		}
		return view(reflect.ValueOf(x), depth)
	case t == timeType:
		return JSDate(v.Interface().(time.Time)), nil
	case t == numberType:
		return v.Interface().(json.Number), nil
	case t == rawMessageType:
		return UnmarshalView(v.Bytes())
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() == reflect.Uint8:
		if t.Kind() == reflect.Slice && v.IsNil() {
			return nil, nil
		}
		return bufferShape(v), nil
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		if t.Kind() == reflect.Pointer && t.Implements(marshalType) && !t.Elem().Implements(marshalType) {
			return viewMarshaler(v)
		}
		return view(v.Elem(), depth)
	}
	if t.Implements(marshalType) {
		return viewMarshaler(v)
	}
	switch t.Kind() {
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.String:
		return v.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return json.Number(strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("packetjson: %v has no JSON form", f)
		}
		return json.Number(FormatNumber(f)), nil
	case reflect.Map:
		if v.IsNil() {
			return nil, nil
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			k, err := mapKey(it.Key())
			if err != nil {
				return nil, err
			}
			x, err := view(it.Value(), depth)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && v.IsNil() {
			return nil, nil
		}
		out := make([]any, v.Len())
		for i := range out {
			x, err := view(v.Index(i), depth)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case reflect.Struct:
		out := map[string]any{}
		if err := viewStruct(v, out, depth); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, fmt.Errorf("packetjson: cannot show a %s as JSON", t)
}

// viewStruct adds the fields of struct v to out, by their json tags;
// embedded structs without a tag are flattened, as encoding/json does.
func viewStruct(v reflect.Value, out map[string]any, depth int) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := cut(tag, ',')
		fv := v.Field(i)
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				ft, fv = ft.Elem(), fv.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if err := viewStruct(fv, out, depth); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if hasOpt(opts, "omitempty") && isEmpty(fv) {
			continue
		}
		if hasOpt(opts, "omitzero") && isZero(fv) {
			continue
		}
		x, err := view(fv, depth)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out[name] = x
	}
	return nil
}

func viewMarshaler(v reflect.Value) (any, error) {
	b, err := v.Interface().(json.Marshaler).MarshalJSON()
	if err != nil {
		return nil, err
	}
	return UnmarshalView(b)
}

// UnmarshalView parses JSON text into JSON data with json.Number numbers.
func UnmarshalView(text []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("packetjson: trailing data after the JSON value")
	}
	return x, nil
}

func bufferShape(v reflect.Value) map[string]any {
	data := make([]any, v.Len())
	for i := range data {
		data[i] = json.Number(strconv.FormatUint(v.Index(i).Uint(), 10))
	}
	return map[string]any{"type": "Buffer", "data": data}
}

func mapKey(k reflect.Value) (string, error) {
	switch k.Kind() {
	case reflect.String:
		return k.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(k.Uint(), 10), nil
	case reflect.Interface:
		if s, ok := k.Interface().(string); ok {
			return s, nil
		}
	}
	return "", fmt.Errorf("packetjson: map key %v is not a string", k.Interface())
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

func isZero(v reflect.Value) bool {
	if v.Type().Implements(zeroerType) {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return v.Interface().(interface{ IsZero() bool }).IsZero()
	}
	return v.IsZero()
}

func cut(s string, sep byte) (before, after string, found bool) {
	if i := bytes.IndexByte([]byte(s), sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func hasOpt(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = cut(opts, ',')
		if o == want {
			return true
		}
	}
	return false
}

// FormatNumber writes f as JavaScript's Number.prototype.toString does for
// the numbers JSON can hold (encoding/json uses the same rules).
func FormatNumber(f float64) string {
	b, err := json.Marshal(f)
	if err != nil {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return string(b)
}

// JSDate writes t as JS's Date.prototype.toISOString does: UTC, always
// milliseconds.
func JSDate(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
