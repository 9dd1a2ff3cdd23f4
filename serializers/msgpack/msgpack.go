// Package msgpack is the MsgPack serializer: MessagePack as the JS library
// msgpack5 writes it. Importing it registers it under the name "MsgPack".
//
// Payloads are maps with the field names of the JSON serializer; undefined
// fields are left out. Numbers are written as msgpack5 writes a JS number:
// integers in their smallest form, other numbers as float32 when float32
// holds them exactly, else as float64. Byte slices are MessagePack binary
// (a Buffer in JS), time.Time the timestamp extension (a Date).
//
// Params and data stay in their encoded form until a handler decodes them;
// decoded, they are JSON-like data: float64 numbers, map[string]any, []any,
// []byte for a Buffer, time.Time for a Date.
package msgpack

import (
	"fmt"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/serializers/internal/objcodec"
)

// Name is the serializer's registered name.
const Name = "MsgPack"

func init() { serializers.Register(Name, func() serializers.Serializer { return Serializer{} }) }

// Codec is the packets.RawCodec of values held in MsgPack bytes, the format
// of the params and data that Unmarshal leaves encoded.
var Codec packets.RawCodec = objcodec.NewCodec(objcodec.MsgPack)

// Serializer encodes payloads as moleculer's MsgPack serializer does.
type Serializer struct{}

// Name returns "MsgPack".
func (Serializer) Name() string { return Name }

// Marshal encodes p.
func (Serializer) Marshal(p packets.Payload) ([]byte, error) {
	b, err := objcodec.Marshal(objcodec.MsgPack, p)
	if err != nil {
		return nil, fmt.Errorf("msgpack: encode %s: %w", p.Type(), err)
	}
	return b, nil
}

// Unmarshal decodes a payload of type t. Params and data keep referring to
// data.
func (Serializer) Unmarshal(t protocol.PacketType, data []byte) (packets.Payload, error) {
	p, err := objcodec.Unmarshal(objcodec.MsgPack, t, data)
	if err != nil {
		return nil, fmt.Errorf("msgpack: decode %s: %w", t, err)
	}
	return p, nil
}
