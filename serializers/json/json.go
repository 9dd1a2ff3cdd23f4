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
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("json: encode %s: %w", p.Type(), err)
	}
	return b, nil
}

// Unmarshal decodes a payload of type t.
func (Serializer) Unmarshal(t protocol.PacketType, data []byte) (packets.Payload, error) {
	p, err := packets.New(t)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("json: decode %s: %w", t, err)
	}
	return p, nil
}
