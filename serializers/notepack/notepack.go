// Package notepack is the Notepack serializer: MessagePack as the JS library
// notepack.io writes it. Importing it registers it under the name
// "Notepack".
//
// Payloads are maps with the field names of the JSON serializer; undefined
// fields are left out. Numbers are written as notepack.io writes a JS
// number: integers in their smallest form, other numbers as float64. Byte
// slices are MessagePack binary (a Buffer in JS), time.Time the timestamp
// extension (a Date).
//
// Params and data stay in their encoded form until a handler decodes them;
// decoded, they are JSON-like data: float64 numbers, map[string]any, []any,
// []byte for a Buffer, time.Time for a Date.
package notepack

import (
	"fmt"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/serializers/internal/objcodec"
)

// Name is the serializer's registered name.
const Name = "Notepack"

func init() { serializers.Register(Name, func() serializers.Serializer { return Serializer{} }) }

// Codec is the packets.RawCodec of values held in Notepack bytes, the format
// of the params and data that Unmarshal leaves encoded.
var Codec packets.RawCodec = objcodec.NewCodec(objcodec.Notepack)

// Serializer encodes payloads as moleculer's Notepack serializer does.
type Serializer struct{}

// Name returns "Notepack".
func (Serializer) Name() string { return Name }

// Marshal encodes p.
func (Serializer) Marshal(p packets.Payload) ([]byte, error) {
	b, err := objcodec.Marshal(objcodec.Notepack, p)
	if err != nil {
		return nil, fmt.Errorf("notepack: encode %s: %w", p.Type(), err)
	}
	return b, nil
}

// Unmarshal decodes a payload of type t. Params and data keep referring to
// data.
func (Serializer) Unmarshal(t protocol.PacketType, data []byte) (packets.Payload, error) {
	p, err := objcodec.Unmarshal(objcodec.Notepack, t, data)
	if err != nil {
		return nil, fmt.Errorf("notepack: decode %s: %w", t, err)
	}
	return p, nil
}
