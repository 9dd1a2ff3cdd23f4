// Package json is the JSON serializer, moleculer's default. Importing it
// registers it under the name "JSON".
//
// Params and data stay JSON text until a handler decodes them, so a value
// that only passes through a node is never decoded and encoded again.
package json

import (
	"encoding/json"
	"fmt"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

// Name is the serializer's registered name.
const Name = "JSON"

func init() { serializers.Register(Name, func() serializers.Serializer { return Serializer{} }) }

// Serializer encodes payloads as JSON, the way JS's JSON.stringify writes
// them: undefined fields are left out, null is null, and binary data takes
// the shape of a serialized Node Buffer.
type Serializer struct{}

// Name returns "JSON".
func (Serializer) Name() string { return Name }

// Marshal encodes p.
func (Serializer) Marshal(p packets.Payload) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	switch x := p.(type) {
	case *packets.Request:
		b, err = appendRequest(make([]byte, 0, 512), x)
	case *packets.Response:
		b, err = appendResponse(make([]byte, 0, 384), x)
	case *packets.Event:
		b, err = appendEvent(make([]byte, 0, 512), x)
	case *packets.Info:
		b, err = jsonlike.AppendInfo(make([]byte, 0, 4096), x)
	default:
		b, err = json.Marshal(p)
	}
	if err != nil {
		return nil, fmt.Errorf("json: encode %s: %w", p.Type(), err)
	}
	return b, nil
}

// Unmarshal decodes a payload of type t. Params and data keep referring to
// data.
func (Serializer) Unmarshal(t protocol.PacketType, data []byte) (packets.Payload, error) {
	var (
		p   packets.Payload
		err error
	)
	switch t {
	case protocol.Request:
		p, err = unmarshalRequest(data)
	case protocol.Response:
		p, err = unmarshalResponse(data)
	case protocol.Event:
		p, err = unmarshalEvent(data)
	case protocol.Info:
		p, err = unmarshalInfo(data)
	default:
		return unmarshalReflect(t, data)
	}
	if err != nil {
		return nil, fmt.Errorf("json: decode %s: %w", t, err)
	}
	return p, nil
}

func unmarshalReflect(t protocol.PacketType, data []byte) (packets.Payload, error) {
	p, err := packets.New(t)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("json: decode %s: %w", t, err)
	}
	return p, nil
}
