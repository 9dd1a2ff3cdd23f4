// Package customfields holds what moleculer's schema-based serializers
// (Avro, ProtoBuf, Thrift) share: the fields they carry as JSON text, and
// the rule that tags params and data with a data type. It re-expresses
// serializeCustomFields, deserializeCustomFields, convertDataToTransport and
// convertDataFromTransport of moleculer 0.14's src/serializers/base.js.
//
// Encoding writes what JS writes for the same payload. Decoding is a little
// more lenient than JS where JS would throw on input no JS node produces (an
// empty meta or services text reads as empty), and normalizes what it
// returns so that a decoded payload encodes and decodes to itself: meta,
// config and metadata are never nil maps, services and ipList never nil
// slices.
package customfields

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

// The data types of params and data on the wire (DATATYPE_* in moleculer's
// src/packets.js).
const (
	Undefined int32 = 0 // the value is undefined; no bytes
	Null      int32 = 1 // the value is null; no bytes
	JSON      int32 = 2 // the bytes are the value in JSON
	Buffer    int32 = 3 // the value is a Node Buffer; the bytes are its content
)

var emptyObject = []byte("{}")

// FromValue returns the wire form of a params or data value: its data type
// and the bytes to send, nil for undefined and null. A []byte (or
// packets.Buffer) travels raw as a Buffer; raw JSON is sent as it is; any
// other value is encoded to JSON.
func FromValue(v packets.Value) (int32, []byte, error) {
	typ, direct, goVal, err := Classify(v)
	if err != nil || goVal == nil {
		return typ, direct, err
	}
	b, err := jsonlike.AppendAny(make([]byte, 0, 64), goVal)
	if err != nil {
		return 0, nil, err
	}
	return JSON, b, nil
}

// Classify is FromValue for an encoder that writes the JSON of a Go value
// itself: it returns the data type, and either the bytes to send (nil for
// undefined and null) or, for a value to send as JSON, the Go value.
func Classify(v packets.Value) (typ int32, direct []byte, goVal any, err error) {
	switch {
	case v.IsUndefined():
		return Undefined, nil, nil, nil
	case v.IsNull():
		return Null, nil, nil, nil
	}
	if raw, ok := v.Raw(packets.JSONFormat); ok {
		return JSON, raw, nil, nil
	}
	x, err := v.Interface() // a Go value, or raw bytes in another serializer's format
	if err != nil {
		return 0, nil, nil, err
	}
	switch b := x.(type) {
	case []byte:
		if b == nil {
			b = []byte{}
		}
		return Buffer, b, nil, nil
	case packets.Buffer:
		if b == nil {
			b = packets.Buffer{}
		}
		return Buffer, b, nil, nil
	case nil:
		return Null, nil, nil, nil
	}
	return JSON, nil, x, nil
}

// ToValue returns the value that a data type and its bytes stand for. b is
// nil when the bytes field was absent (null). As in JS, a data type other
// than undefined, null and Buffer means JSON, and absent JSON bytes read as
// null (JSON.parse(null) is null). JSON bytes are checked and kept as they
// are, referring to b.
func ToValue(typ int32, b []byte) (packets.Value, error) {
	switch typ {
	case Undefined:
		return packets.Undefined, nil
	case Null:
		return packets.Null, nil
	case Buffer:
		if b == nil {
			b = []byte{}
		}
		return packets.ValueOf(b), nil
	}
	if b == nil {
		return packets.Null, nil
	}
	if !jsonlike.Valid(b) {
		return packets.Value{}, errors.New("invalid JSON in params or data")
	}
	return packets.RawValue(jsonlike.Codec, b), nil
}

// AppendMeta appends a context's meta in JSON. JS always sends meta and
// always parses it, so an undefined or null meta is sent as {}. Meta held
// as JSON text is sent as it is.
func AppendMeta(b []byte, m packets.Value) ([]byte, error) {
	if m.IsUndefined() || m.IsNull() {
		return append(b, emptyObject...), nil
	}
	if raw, ok := m.Raw(packets.JSONFormat); ok {
		return append(b, raw...), nil
	}
	x, err := m.Interface() // a Go map, or raw bytes in another serializer's format
	if err != nil {
		return nil, err
	}
	if x == nil {
		return append(b, emptyObject...), nil
	}
	return jsonlike.AppendAny(b, x)
}

// UnmarshalMeta checks meta's JSON text, an object, and keeps it, referring
// to b. Empty text (ProtoBuf's default, on which JS would throw) and null
// read as an empty meta.
//
// A meta encoded twice, a JSON string holding the JSON of an object, reads
// as that object. JS sends such metas in the chunks of a streamed response:
// its serializer rewrites the header packet's meta to JSON text in place,
// and transit.js copies the chunks from that header, so their meta is
// encoded again (JS's receiver then decodes the string "{...}" and merges
// its characters into the caller's meta with Object.assign).
func UnmarshalMeta(b []byte) (packets.Value, error) {
	if len(b) > 0 && b[0] == '"' {
		var inner string
		if err := json.Unmarshal(b, &inner); err != nil {
			return packets.Undefined, fmt.Errorf("meta: %w", err)
		}
		return UnmarshalMeta([]byte(inner))
	}
	if len(b) == 0 || string(b) == "null" {
		return packets.RawValue(jsonlike.Codec, emptyObject), nil
	}
	if !jsonlike.ValidObject(b) {
		return packets.Undefined, errors.New("meta: not a JSON object")
	}
	return packets.RawValue(jsonlike.Codec, b), nil
}

// MarshalObject returns INFO's config or metadata in JSON, {} when empty:
// the Avro schema requires both strings, and JS always has both.
func MarshalObject(m map[string]any) ([]byte, error) {
	if len(m) == 0 {
		return emptyObject, nil
	}
	return jsonlike.AppendObject(make([]byte, 0, 256), m)
}

// UnmarshalObject decodes INFO's config or metadata; empty text and null
// read as an empty object (JS's node.update uses `config || {}`).
func UnmarshalObject[T ~string | ~[]byte](b T) (map[string]any, error) { return unmarshalObject(b) }

func unmarshalObject[T ~string | ~[]byte](b T) (map[string]any, error) {
	if len(b) == 0 || string(b) == "{}" || string(b) == "null" {
		return map[string]any{}, nil
	}
	m, err := jsonlike.ParseObject(string(b))
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// MarshalServices returns INFO's services in JSON, [] when there are none.
func MarshalServices(s []packets.ServiceInfo) ([]byte, error) {
	if len(s) == 0 {
		return []byte("[]"), nil
	}
	return jsonlike.AppendServices(make([]byte, 0, 4096), s)
}

// UnmarshalServices decodes INFO's services; empty text and null read as
// no services.
func UnmarshalServices[T ~string | ~[]byte](b T) ([]packets.ServiceInfo, error) {
	var s []packets.ServiceInfo
	if len(b) > 0 {
		var err error
		if s, err = jsonlike.ParseServices(string(b)); err != nil {
			return nil, fmt.Errorf("services: %w", err)
		}
	}
	if s == nil {
		s = []packets.ServiceInfo{}
	}
	return s, nil
}

// MarshalError returns a RES error in JSON, nil when there is none.
func MarshalError(e *packets.ErrorPayload) ([]byte, error) {
	if e == nil {
		return nil, nil
	}
	return json.Marshal(e)
}

// UnmarshalError decodes a RES error. As in JS (`if (obj.error)`), empty
// text means no error; so does null.
func UnmarshalError[T ~string | ~[]byte](b T) (*packets.ErrorPayload, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	e := new(packets.ErrorPayload)
	if err := json.Unmarshal([]byte(b), e); err != nil {
		return nil, fmt.Errorf("error: %w", err)
	}
	return e, nil
}

// Gossip is the online and offline lists of a GOSSIP_REQ or GOSSIP_RES.
type Gossip struct {
	Online  map[string][]any
	Offline map[string]int64
}

// MarshalGossip returns online and offline in JSON, each nil when empty: JS
// leaves a missing list out, and Go payloads omit empty ones.
func MarshalGossip(g Gossip) (online, offline []byte, err error) {
	if len(g.Online) > 0 {
		if online, err = json.Marshal(g.Online); err != nil {
			return nil, nil, err
		}
	}
	if len(g.Offline) > 0 {
		if offline, err = json.Marshal(g.Offline); err != nil {
			return nil, nil, err
		}
	}
	return online, offline, nil
}

// UnmarshalGossip decodes online and offline; empty text and null read as
// absent, as JS skips falsy ones.
//
// JSON that is valid but not an object also reads as absent. JS's TCP
// transporter produces it: when a gossip round goes to an online and an
// offline node, both GOSSIP_REQ packets share one payload object, and the
// first serialization replaces online and offline in it by their JSON text,
// so the second packet carries that text JSON-encoded again (a JSON
// string). The JS receiver parses it back to a string, finds no node in it
// and answers as to a requester that knows nothing; dropping the packet
// instead would leave the sender never learning this node.
func UnmarshalGossip[T ~string | ~[]byte](online, offline T) (Gossip, error) {
	var g Gossip
	if err := gossipList([]byte(online), &g.Online); err != nil {
		return Gossip{}, fmt.Errorf("online: %w", err)
	}
	if err := gossipList([]byte(offline), &g.Offline); err != nil {
		return Gossip{}, fmt.Errorf("offline: %w", err)
	}
	return g, nil
}

// gossipList decodes a JSON object into v, and leaves v alone for empty
// text and for valid JSON that is not an object.
func gossipList(b []byte, v any) error {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	if i == len(b) {
		return nil
	}
	if b[i] != '{' {
		if !json.Valid(b) {
			return errors.New("invalid JSON")
		}
		return nil
	}
	return json.Unmarshal(b, v)
}

// Int32 checks that a number fits the 32-bit integer fields of the schemas
// (level, seq, port).
func Int32(field string, v int64) (int32, error) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("%s %d does not fit a 32-bit integer", field, v)
	}
	return int32(v), nil
}

// String converts JSON text to a string for the string fields of generated
// message types, without a copy for the usual empty {} and [].
func String(b []byte) string {
	switch string(b) {
	case "{}":
		return "{}"
	case "[]":
		return "[]"
	}
	return string(b)
}
