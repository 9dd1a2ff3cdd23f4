package packetjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

// Buffers says which {"type":"Buffer","data":[...]} objects of a JSON view
// [Parse] turns into []byte: the ones a serializer carries as binary data,
// the way JS carries a Buffer there.
type Buffers int

const (
	// NoBuffers keeps every Buffer-shaped object an object: JSON writes a
	// Buffer as that object anyway.
	NoBuffers Buffers = iota
	// TopLevelBuffers revives params (REQ) and data (RES, EVENT) only: the
	// schema-based serializers (Avro, ProtoBuf, Thrift) carry those as raw
	// bytes and everything else as JSON text.
	TopLevelBuffers
	// AllBuffers revives them at any depth: MsgPack, Notepack and CBOR have
	// a binary type.
	AllBuffers
)

// BuffersFor returns what Buffers the serializer named name (as JS names
// it) carries as binary data.
func BuffersFor(name string) Buffers {
	switch strings.ToLower(name) {
	case "json":
		return NoBuffers
	case "avro", "protobuf", "thrift":
		return TopLevelBuffers
	}
	return AllBuffers
}

// Parse reads the JSON view of a payload of packet type t: a JSON object
// with the field names of package packets; an absent field is undefined.
// Buffer-shaped objects become []byte as buffers says.
func Parse(t protocol.PacketType, text []byte, buffers Buffers) (packets.Payload, error) {
	p, err := packets.New(t)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(text)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("packetjson: a %s payload must be a JSON object", t)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("packetjson: %s payload: %w", t, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("packetjson: %s payload: trailing data after the JSON object", t)
	}
	switch buffers {
	case AllBuffers:
		if err := revive(reflect.ValueOf(p).Elem(), 0); err != nil {
			return nil, fmt.Errorf("packetjson: %s payload: %w", t, err)
		}
	case TopLevelBuffers:
		var v *packets.Value
		switch x := p.(type) {
		case *packets.Request:
			v = &x.Params
		case *packets.Response:
			v = &x.Data
		case *packets.Event:
			v = &x.Data
		}
		if v != nil && !v.IsUndefined() && !v.IsNull() {
			x, err := v.Interface()
			if err != nil {
				return nil, fmt.Errorf("packetjson: %s payload: %w", t, err)
			}
			if m, ok := x.(map[string]any); ok {
				if b, ok := BufferBytes(m); ok {
					*v = packets.ValueOf(b)
				}
			}
		}
	}
	return p, nil
}

// revive replaces Buffer-shaped objects under v, which is addressable.
func revive(v reflect.Value, depth int) error {
	if depth > maxDepth {
		return errors.New("value nested too deeply")
	}
	depth++
	if v.Type() == valueType {
		val := v.Interface().(packets.Value)
		if val.IsUndefined() || val.IsNull() {
			return nil
		}
		x, err := val.Interface()
		if err != nil {
			return err
		}
		if nx, changed := ReviveBuffers(x); changed {
			v.Set(reflect.ValueOf(packets.ValueOf(nx)))
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return revive(v.Elem(), depth)
		}
	case reflect.Interface:
		if !v.IsNil() {
			if nx, changed := ReviveBuffers(v.Elem().Interface()); changed && v.CanSet() {
				v.Set(reflect.ValueOf(nx))
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				if err := revive(v.Field(i), depth); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := revive(v.Index(i), depth); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			// Map elements are not addressable: work on a copy, store it back.
			elem := reflect.New(v.Type().Elem()).Elem()
			elem.Set(it.Value())
			if err := revive(elem, depth); err != nil {
				return err
			}
			v.SetMapIndex(it.Key(), elem)
		}
	}
	return nil
}

// ReviveBuffers replaces every Buffer-shaped object in JSON data x (as
// encoding/json decodes into an any) by a []byte. Maps and slices are
// changed in place; changed reports whether anything was replaced.
func ReviveBuffers(x any) (out any, changed bool) {
	switch v := x.(type) {
	case map[string]any:
		if b, ok := BufferBytes(v); ok {
			return b, true
		}
		for k, e := range v {
			if ne, ch := ReviveBuffers(e); ch {
				v[k] = ne
				changed = true
			}
		}
	case []any:
		for i, e := range v {
			if ne, ch := ReviveBuffers(e); ch {
				v[i] = ne
				changed = true
			}
		}
	}
	return x, changed
}

// BufferBytes returns the bytes of an object of the shape JS gives a
// serialized Node Buffer, {"type":"Buffer","data":[0..255,...]}, and whether m
// has that shape.
func BufferBytes(m map[string]any) ([]byte, bool) {
	if len(m) != 2 || m["type"] != "Buffer" {
		return nil, false
	}
	data, ok := m["data"].([]any)
	if !ok {
		return nil, false
	}
	out := make([]byte, len(data))
	for i, e := range data {
		var f float64
		switch n := e.(type) {
		case float64:
			f = n
		case json.Number:
			var err error
			if f, err = n.Float64(); err != nil {
				return nil, false
			}
		default:
			return nil, false
		}
		if f < 0 || f > 255 || f != float64(int(f)) {
			return nil, false
		}
		out[i] = byte(f)
	}
	return out, true
}
