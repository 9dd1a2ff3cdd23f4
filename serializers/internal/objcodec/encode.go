package objcodec

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	timeType          = reflect.TypeFor[time.Time]()
	valueType         = reflect.TypeFor[packets.Value]()
	bufferType        = reflect.TypeFor[packets.Buffer]()
	nullStringType    = reflect.TypeFor[packets.NullString]()
	actionInfoType    = reflect.TypeFor[packets.ActionInfo]()
	eventInfoType     = reflect.TypeFor[packets.EventInfo]()
)

// descriptor writes an action or event descriptor: the Object of a local
// one, the object of a decoded one, null when it has none.
func (w *writer) descriptor(obj packets.Value, fields packets.Object, depth int) error {
	if fields != nil {
		return w.object(fields, depth)
	}
	if obj.IsUndefined() {
		w.null()
		return nil
	}
	return w.value(obj, depth)
}

// goValue writes a Go value.
func (w *writer) goValue(v any, depth int) error {
	switch x := v.(type) {
	case nil:
		w.null()
	case string:
		w.str(x)
	case bool:
		w.boolean(x)
	case float64:
		w.number(x)
	case float32:
		w.number(float64(x))
	case int:
		w.int(int64(x))
	case int64:
		w.int(x)
	case int32:
		w.int(int64(x))
	case int16:
		w.int(int64(x))
	case int8:
		w.int(int64(x))
	case uint:
		w.uint(uint64(x))
	case uint64:
		w.uint(x)
	case uint32:
		w.uint(uint64(x))
	case uint16:
		w.uint(uint64(x))
	case uint8:
		w.uint(uint64(x))
	case []byte:
		w.bin(x)
	case packets.Buffer:
		w.bin(x)
	case map[string]any:
		return w.mapAny(x, depth)
	case packets.Object:
		return w.object(x, depth)
	case []any:
		if x == nil {
			w.null()
			return nil
		}
		if depth >= maxDepth {
			return errTooDeep
		}
		w.arrayHeader(len(x))
		for _, e := range x {
			if err := w.goValue(e, depth+1); err != nil {
				return err
			}
		}
	case []string:
		if x == nil {
			w.null()
			return nil
		}
		w.arrayHeader(len(x))
		for _, s := range x {
			w.str(s)
		}
	case map[string]string:
		if x == nil {
			w.null()
			return nil
		}
		w.mapHeader(len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			w.str(k)
			w.str(x[k])
		}
	case time.Time:
		w.time(x)
	case json.Number:
		return w.jsonNumber(x)
	case json.RawMessage:
		if x == nil {
			w.null()
			return nil
		}
		return w.json(x, depth)
	case packets.Value:
		return w.value(x, depth)
	case *packets.Value:
		if x == nil {
			w.null()
			return nil
		}
		return w.value(*x, depth)
	case packets.NullString:
		if x == "" {
			w.null()
		} else {
			w.str(string(x))
		}
	default:
		return w.reflectValue(reflect.ValueOf(v), depth)
	}
	return nil
}

var errTooDeep = fmt.Errorf("value nested more than %d levels deep (a cycle?)", maxDepth)

// object writes an Object, its fields in order.
func (w *writer) object(o packets.Object, depth int) error {
	if depth >= maxDepth {
		return errTooDeep
	}
	w.mapHeader(len(o))
	for i := range o {
		w.str(o[i].Key)
		if err := w.goValue(o[i].Value, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) mapAny(m map[string]any, depth int) error {
	if m == nil {
		w.null()
		return nil
	}
	if depth >= maxDepth {
		return errTooDeep
	}
	w.mapHeader(len(m))
	if len(m) == 0 {
		return nil
	}
	if len(m) == 1 {
		for k, v := range m {
			w.str(k)
			return w.goValue(v, depth+1)
		}
	}
	if len(m) <= jsonlike.SmallMap {
		var s jsonlike.Sorted[any]
		s.Collect(m)
		for i := range s.N {
			k, v := s.Entry(i)
			w.str(k)
			if err := w.goValue(v, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		w.str(k)
		if err := w.goValue(m[k], depth+1); err != nil {
			return err
		}
	}
	return nil
}

// meta writes a context's meta; undefined is written as null.
func (w *writer) meta(v packets.Value) error {
	if v.IsUndefined() {
		w.null()
		return nil
	}
	if g, ok := v.Go(); ok {
		if m, ok := g.(map[string]any); ok {
			return w.mapAny(m, 0)
		}
	}
	return w.value(v, 0)
}

// value writes a packets.Value: raw bytes of this format as they are, raw
// bytes of another format decoded and encoded again, Go values encoded.
func (w *writer) value(v packets.Value, depth int) error {
	if v.IsUndefined() {
		w.undefined()
		return nil
	}
	if raw, ok := v.Raw(w.f.Name()); ok {
		w.b = append(w.b, raw...)
		return nil
	}
	if raw, ok := v.Raw(packets.JSONFormat); ok {
		return w.json(raw, depth)
	}
	x, err := v.Interface()
	if err != nil {
		return err
	}
	return w.goValue(x, depth)
}

// json writes JSON text, keeping integers exact.
func (w *writer) json(data []byte, depth int) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return err
	}
	return w.goValue(x, depth)
}

func (w *writer) jsonNumber(n json.Number) error {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		if w.f == MsgPack && (i > maxSafeInteger || i < -maxSafeInteger) {
			w.number(float64(i)) // as msgpack5 writes the JS number
		} else {
			w.int(i)
		}
		return nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return err
	}
	w.number(f)
	return nil
}

// reflectValue writes what the type switch of goValue does not know, with
// the rules of encoding/json.
func (w *writer) reflectValue(v reflect.Value, depth int) error {
	if !v.IsValid() {
		w.null()
		return nil
	}
	if depth >= maxDepth {
		return errTooDeep
	}
	t := v.Type()
	switch t {
	case timeType, valueType, bufferType, nullStringType:
		return w.goValue(v.Interface(), depth)
	case actionInfoType:
		a := v.Interface().(packets.ActionInfo)
		return w.descriptor(a.Object(), a.Fields(), depth)
	case eventInfoType:
		e := v.Interface().(packets.EventInfo)
		return w.descriptor(e.Object(), e.Fields(), depth)
	}
	if k := t.Kind(); (k == reflect.Map || k == reflect.Slice) && v.CanInterface() {
		// The JSON-like containers of payloads (settings, metadata, action
		// descriptors) have fast paths.
		switch x := v.Interface().(type) {
		case map[string]any:
			return w.mapAny(x, depth)
		case []any, []string, map[string]string, []byte:
			return w.goValue(x, depth)
		}
	}
	if t.Kind() == reflect.Pointer && v.IsNil() {
		w.null()
		return nil
	}
	if t.Implements(jsonMarshalerType) || t.Kind() != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(jsonMarshalerType) {
		if t.Kind() == reflect.Interface && v.IsNil() {
			w.null()
			return nil
		}
		m := v
		if !t.Implements(jsonMarshalerType) {
			m = v.Addr()
		}
		b, err := m.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			return err
		}
		return w.json(b, depth)
	}
	if t.Implements(textMarshalerType) || t.Kind() != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(textMarshalerType) {
		m := v
		if !t.Implements(textMarshalerType) {
			m = v.Addr()
		}
		b, err := m.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return err
		}
		w.str(string(b))
		return nil
	}
	switch t.Kind() {
	case reflect.Bool:
		w.boolean(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		w.uint(v.Uint())
	case reflect.Float32, reflect.Float64:
		w.number(v.Float())
	case reflect.String:
		w.str(v.String())
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			w.null()
			return nil
		}
		if t.Kind() == reflect.Interface && v.CanInterface() {
			return w.goValue(v.Elem().Interface(), depth+1)
		}
		return w.reflectValue(v.Elem(), depth+1)
	case reflect.Slice:
		if v.IsNil() {
			w.null()
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			w.bin(v.Bytes())
			return nil
		}
		fallthrough
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			w.bin(b)
			return nil
		}
		n := v.Len()
		w.arrayHeader(n)
		for i := range n {
			if err := w.reflectValue(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		return w.reflectMap(v, depth)
	case reflect.Struct:
		return w.reflectStruct(v, depth)
	default:
		return fmt.Errorf("unsupported type %s", t)
	}
	return nil
}

func (w *writer) reflectMap(v reflect.Value, depth int) error {
	if v.IsNil() {
		w.null()
		return nil
	}
	type entry struct {
		key string
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return err
		}
		entries = append(entries, entry{k, it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	w.mapHeader(len(entries))
	for _, e := range entries {
		w.str(e.key)
		if err := w.reflectValue(e.val, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// mapKey makes the string encoding/json makes of a map key.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("unsupported map key type %s", k.Type())
}

func (w *writer) reflectStruct(v reflect.Value, depth int) error {
	info := cachedStruct(v.Type())
	type present struct {
		f *field
		v reflect.Value
	}
	var buf [16]present
	list := buf[:0]
	for i := range info.fields {
		f := &info.fields[i]
		fv, ok := fieldByIndex(v, f.index)
		if !ok {
			continue
		}
		if f.omitEmpty && isEmptyValue(fv) || f.omitZero && isZeroValue(fv) {
			continue
		}
		list = append(list, present{f, fv})
	}
	w.mapHeader(len(list))
	for _, p := range list {
		w.str(p.f.name)
		if p.f.quoted {
			if err := w.quoted(p.v); err != nil {
				return err
			}
			continue
		}
		if err := w.reflectValue(p.v, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// quoted writes a field with the ",string" option: its JSON text as a
// string.
func (w *writer) quoted(v reflect.Value) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			w.null()
			return nil
		}
		v = v.Elem()
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return err
	}
	w.str(string(b))
	return nil
}

// fieldByIndex follows an index path; false when it passes a nil embedded
// pointer.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

type isZeroer interface{ IsZero() bool }

func isZeroValue(v reflect.Value) bool {
	if z, ok := v.Interface().(isZeroer); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	if v.CanAddr() {
		if z, ok := v.Addr().Interface().(isZeroer); ok {
			return z.IsZero()
		}
	}
	return v.IsZero()
}
