// Package cbor is the CBOR serializer: CBOR as the JS library cbor-x writes
// it with moleculer's options. Importing it registers it under the name
// "CBOR".
//
// Payloads are maps with the field names of the JSON serializer. An
// undefined params or data is the CBOR undefined value, as JS writes it.
// Numbers are written as cbor-x writes a JS number: integers of up to 32
// bits as integers, all other numbers as float64 (cbor-x would decode a
// 64-bit integer to a BigInt, which moleculer can neither compute with nor
// JSON.stringify). Byte slices are byte strings (a Buffer in JS), time.Time
// tag 1 (a Date).
//
// Params and data stay in their encoded form until a handler decodes them;
// decoded, they are JSON-like data: float64 numbers, map[string]any, []any,
// []byte for a Buffer, time.Time for a Date.
package cbor

import (
	"fmt"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/serializers/internal/objcodec"
)

// Name is the serializer's registered name.
const Name = "CBOR"

func init() { serializers.Register(Name, func() serializers.Serializer { return Serializer{} }) }

// Codec is the packets.RawCodec of values held in CBOR bytes, the format
// of the params and data that Unmarshal leaves encoded.
var Codec packets.RawCodec = objcodec.NewCodec(objcodec.CBOR)

// Serializer encodes payloads as moleculer's CBOR serializer does.
type Serializer struct{}

// Name returns "CBOR".
func (Serializer) Name() string { return Name }

// Marshal encodes p.
func (Serializer) Marshal(p packets.Payload) ([]byte, error) {
	b, err := objcodec.Marshal(objcodec.CBOR, p)
	if err != nil {
		return nil, fmt.Errorf("cbor: encode %s: %w", p.Type(), err)
	}
	return b, nil
}

// Unmarshal decodes a payload of type t. Params and data keep referring to
// data.
func (Serializer) Unmarshal(t protocol.PacketType, data []byte) (packets.Payload, error) {
	p, err := objcodec.Unmarshal(objcodec.CBOR, t, data)
	if err != nil {
		return nil, fmt.Errorf("cbor: decode %s: %w", t, err)
	}
	return p, nil
}
