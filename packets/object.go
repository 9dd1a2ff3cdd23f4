package packets

import (
	"encoding/json"
	"slices"
	"strings"
)

// Object is a JSON-like object as a list of fields sorted by key, with
// the objects inside it (at any depth, in arrays too) in the same form.
// It is how a node's own action and event descriptors are kept for
// writing: they are built once and sent in every INFO, and writing a
// sorted list costs a fraction of iterating and sorting a Go map each
// time. Writers write an Object's fields in order; an Object is never
// changed once made.
type Object []Field

// Field is one field of an Object.
type Field struct {
	Key   string
	Value any
}

// ObjectOf makes the Object of m, converting the maps inside it too.
func ObjectOf(m map[string]any) Object {
	o := make(Object, 0, len(m))
	for k, v := range m {
		o = append(o, Field{k, objectsIn(v)})
	}
	slices.SortFunc(o, func(a, b Field) int { return strings.Compare(a.Key, b.Key) })
	return o
}

func objectsIn(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return ObjectOf(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = objectsIn(e)
		}
		return out
	}
	return v
}

// MarshalJSON writes the object with its fields in order.
func (o Object) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, f := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(ValueOf(f.Value))
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}
