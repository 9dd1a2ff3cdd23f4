package objcodec

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/molbridge/molbridge/packets"
)

var (
	anyType             = reflect.TypeFor[any]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// assignError says where and why a decoded value does not fit a Go type.
type assignError struct {
	path string
	msg  string
}

func (e *assignError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.msg + " (at " + e.path + ")"
}

// within prefixes the path of an assignError with one step.
func within(err error, step string) error {
	if e, ok := err.(*assignError); ok {
		if e.path == "" || e.path[0] == '[' {
			e.path = step + e.path
		} else {
			e.path = step + "." + e.path
		}
	}
	return err
}

func mismatch(v any, t reflect.Type) error {
	return &assignError{msg: fmt.Sprintf("cannot decode %s into Go value of type %s", describe(v), t)}
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []byte:
		return "binary data"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("%T", v)
}

// assign stores JSON-like data in dst, as encoding/json would store the
// same data decoded from JSON.
func assign(dst reflect.Value, v any) error {
	t := dst.Type()
	switch t {
	case valueType:
		dst.Set(reflect.ValueOf(packets.ValueOf(v)))
		return nil
	case timeType:
		if tv, ok := v.(time.Time); ok {
			dst.Set(reflect.ValueOf(tv))
			return nil
		}
	}
	if t.Kind() != reflect.Pointer && dst.CanAddr() {
		pt := reflect.PointerTo(t)
		if pt.Implements(jsonUnmarshalerType) {
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			return dst.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(b)
		}
		if s, ok := v.(string); ok && pt.Implements(textUnmarshalerType) {
			return dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		switch {
		case v == nil:
			dst.SetZero()
		case t.NumMethod() == 0:
			dst.Set(reflect.ValueOf(v))
		default:
			return mismatch(v, t)
		}
		return nil
	case reflect.Pointer:
		if v == nil {
			dst.SetZero()
			return nil
		}
		if dst.IsNil() {
			dst.Set(reflect.New(t.Elem()))
		}
		return assign(dst.Elem(), v)
	}
	if v == nil {
		if k := t.Kind(); k == reflect.Map || k == reflect.Slice {
			dst.SetZero()
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return mismatch(v, t)
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) || f >= 1<<63 || dst.OverflowInt(int64(f)) {
			return mismatch(v, t)
		}
		dst.SetInt(int64(f))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		f, ok := v.(float64)
		if !ok || f < 0 || f >= 1<<64 || f != float64(uint64(f)) || dst.OverflowUint(uint64(f)) {
			return mismatch(v, t)
		}
		dst.SetUint(uint64(f))
	case reflect.Float32, reflect.Float64:
		f, ok := v.(float64)
		if !ok || dst.OverflowFloat(f) {
			return mismatch(v, t)
		}
		dst.SetFloat(f)
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return mismatch(v, t)
		}
		dst.SetString(s)
	case reflect.Slice:
		if x, ok := v.([]any); ok && t.Elem() == anyType {
			dst.Set(reflect.ValueOf(x).Convert(t)) // the tree is ours to hand over
			return nil
		}
		return assignSlice(dst, v)
	case reflect.Array:
		return assignArray(dst, v)
	case reflect.Map:
		if x, ok := v.(map[string]any); ok && t.Key().Kind() == reflect.String && t.Key().PkgPath() == "" && t.Elem() == anyType && dst.IsNil() {
			dst.Set(reflect.ValueOf(x).Convert(t))
			return nil
		}
		return assignMap(dst, v)
	case reflect.Struct:
		return assignStruct(dst, v)
	default:
		return mismatch(v, t)
	}
	return nil
}

func assignSlice(dst reflect.Value, v any) error {
	t := dst.Type()
	if t.Elem().Kind() == reflect.Uint8 {
		var b []byte
		switch x := v.(type) {
		case []byte:
			b = append([]byte{}, x...)
		case string: // base64, as encoding/json reads a []byte
			var err error
			if b, err = base64.StdEncoding.DecodeString(x); err != nil {
				return &assignError{msg: "decoding a string into " + t.String() + ": " + err.Error()}
			}
		}
		if b != nil {
			dst.Set(reflect.ValueOf(b).Convert(t))
			return nil
		}
	}
	a, ok := v.([]any)
	if !ok {
		return mismatch(v, t)
	}
	s := reflect.MakeSlice(t, len(a), len(a))
	for i, e := range a {
		if err := assign(s.Index(i), e); err != nil {
			return within(err, "["+strconv.Itoa(i)+"]")
		}
	}
	dst.Set(s)
	return nil
}

func assignArray(dst reflect.Value, v any) error {
	t := dst.Type()
	if b, ok := v.([]byte); ok && t.Elem().Kind() == reflect.Uint8 {
		dst.SetZero()
		reflect.Copy(dst, reflect.ValueOf(b))
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		return mismatch(v, t)
	}
	dst.SetZero()
	for i := 0; i < len(a) && i < dst.Len(); i++ {
		if err := assign(dst.Index(i), a[i]); err != nil {
			return within(err, "["+strconv.Itoa(i)+"]")
		}
	}
	return nil
}

func assignMap(dst reflect.Value, v any) error {
	t := dst.Type()
	m, ok := v.(map[string]any)
	if !ok {
		return mismatch(v, t)
	}
	kt := t.Key()
	if dst.IsNil() {
		dst.Set(reflect.MakeMapWithSize(t, len(m)))
	}
	for k, e := range m {
		key := reflect.New(kt).Elem()
		switch {
		case reflect.PointerTo(kt).Implements(textUnmarshalerType):
			if err := key.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(k)); err != nil {
				return within(err, k)
			}
		case kt.Kind() == reflect.String:
			key.SetString(k)
		case kt.Kind() >= reflect.Int && kt.Kind() <= reflect.Int64:
			n, err := strconv.ParseInt(k, 10, 64)
			if err != nil || key.OverflowInt(n) {
				return &assignError{msg: fmt.Sprintf("map key %q does not fit %s", k, kt)}
			}
			key.SetInt(n)
		case kt.Kind() >= reflect.Uint && kt.Kind() <= reflect.Uintptr:
			n, err := strconv.ParseUint(k, 10, 64)
			if err != nil || key.OverflowUint(n) {
				return &assignError{msg: fmt.Sprintf("map key %q does not fit %s", k, kt)}
			}
			key.SetUint(n)
		default:
			return &assignError{msg: "unsupported map key type " + kt.String()}
		}
		elem := reflect.New(t.Elem()).Elem()
		if err := assign(elem, e); err != nil {
			return within(err, k)
		}
		dst.SetMapIndex(key, elem)
	}
	return nil
}

func assignStruct(dst reflect.Value, v any) error {
	t := dst.Type()
	m, ok := v.(map[string]any)
	if !ok {
		return mismatch(v, t)
	}
	info := cachedStruct(t)
	for k, e := range m {
		f := info.lookup(k)
		if f == nil {
			continue
		}
		fv, err := fieldForSet(dst, f.index)
		if err != nil {
			return within(err, k)
		}
		if f.quoted {
			if e == nil {
				continue
			}
			s, ok := e.(string)
			if !ok {
				return within(&assignError{msg: "a field with the ,string option needs a string, not " + describe(e)}, k)
			}
			if fv.Kind() == reflect.String {
				var inner string
				if err := json.Unmarshal([]byte(s), &inner); err != nil {
					return within(&assignError{msg: err.Error()}, k)
				}
				fv.SetString(inner)
				continue
			}
			if err := json.Unmarshal([]byte(s), fv.Addr().Interface()); err != nil {
				return within(&assignError{msg: err.Error()}, k)
			}
			continue
		}
		if err := assign(fv, e); err != nil {
			return within(err, k)
		}
	}
	return nil
}

// fieldForSet follows an index path, allocating embedded pointers.
func fieldForSet(v reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, &assignError{msg: "cannot set embedded pointer to unexported struct " + v.Type().Elem().String()}
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, nil
}
