// Package protobuf is moleculer's ProtoBuf serializer (0.14; removed in
// 0.15). Importing it registers it under the name "ProtoBuf".
//
// A packet is one bare Protocol Buffers message (no length prefix) of the
// message type that belongs to its packet type, which comes from the topic,
// never from the bytes. The messages mirror moleculer's
// src/serializers/proto/packets.proto; packets.proto in this directory
// explains the wire-neutral differences. services, config, metadata, meta,
// error, online and offline travel as JSON text; params and data as bytes
// tagged with a data type (0 undefined, 1 null, 2 JSON, 3 Buffer), as in
// JS.
//
// Like protobufjs, the encoder writes every field JS would have a value for,
// zero values included (paramsType 0, stream false), and leaves out the
// ones JS would have as null (tracing, parentID, caller, needAck, seq of a
// plain call, stream of a plain response). Decoding reads an absent field
// as null where the payload can say so (tracing, needAck, stream and seq of
// a response, seq of a request) and as the zero value elsewhere; JS reads
// every absent field as its proto3 default (false, 0, ""). An absent meta
// reads as {}, where JS would throw on JSON.parse(""). A known field that
// arrives with another wire type is skipped as unknown; protobufjs would
// read it as its declared type regardless.
//
// REQ, RES, EVENT and INFO are encoded and decoded by codec.go directly in
// the wire format; the other packets go through the generated message
// types, which the tests also use to check codec.go.
//
// The Go code in internal/wire is generated; to regenerate it, install
// protoc (apt-get install -y protobuf-compiler) and protoc-gen-go
// (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12), then
// run `go generate` in this directory.
package protobuf

//go:generate protoc --go_out=. --go_opt=module=github.com/molbridge/molbridge/serializers/protobuf packets.proto

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/serializers/internal/customfields"
	"github.com/molbridge/molbridge/serializers/protobuf/internal/wire"
)

// Name is the serializer's registered name.
const Name = "ProtoBuf"

func init() { serializers.Register(Name, func() serializers.Serializer { return Serializer{} }) }

// Serializer encodes payloads as moleculer's ProtoBuf serializer does.
type Serializer struct{}

// Name returns "ProtoBuf".
func (Serializer) Name() string { return Name }

// Marshal encodes p.
func (Serializer) Marshal(p packets.Payload) ([]byte, error) {
	var (
		m   proto.Message
		err error
	)
	var b []byte
	switch x := p.(type) {
	case *packets.Event:
		b, err = marshalEvent(x)
	case *packets.Request:
		b, err = marshalRequest(x)
	case *packets.Response:
		b, err = marshalResponse(x)
	case *packets.Info:
		b, err = marshalInfo(x)
	case *packets.Discover:
		m = &wire.PacketDiscover{Ver: &x.Ver, Sender: &x.Sender}
	case *packets.Disconnect:
		m = &wire.PacketDisconnect{Ver: &x.Ver, Sender: &x.Sender}
	case *packets.Heartbeat:
		m = &wire.PacketHeartbeat{Ver: &x.Ver, Sender: &x.Sender, Cpu: &x.CPU}
	case *packets.Ping:
		m = &wire.PacketPing{Ver: &x.Ver, Sender: &x.Sender, Time: &x.Time, Id: &x.ID}
	case *packets.Pong:
		m = &wire.PacketPong{Ver: &x.Ver, Sender: &x.Sender, Time: &x.Time, Arrived: &x.Arrived, Id: &x.ID}
	case *packets.GossipHello:
		var port int32
		if port, err = customfields.Int32("port", int64(x.Port)); err == nil {
			m = &wire.PacketGossipHello{Ver: &x.Ver, Sender: &x.Sender, Host: &x.Host, Port: &port}
		}
	case *packets.GossipReq:
		var online, offline *string
		if online, offline, err = gossip(x.Online, x.Offline); err == nil {
			m = &wire.PacketGossipRequest{Ver: &x.Ver, Sender: &x.Sender, Online: online, Offline: offline}
		}
	case *packets.GossipRes:
		var online, offline *string
		if online, offline, err = gossip(x.Online, x.Offline); err == nil {
			m = &wire.PacketGossipResponse{Ver: &x.Ver, Sender: &x.Sender, Online: online, Offline: offline}
		}
	default:
		return nil, fmt.Errorf("protobuf: cannot encode payload type %T", p)
	}
	if err != nil {
		return nil, fmt.Errorf("protobuf: encode %s: %w", p.Type(), err)
	}
	if b != nil {
		return b, nil
	}
	b, err = proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("protobuf: encode %s: %w", p.Type(), err)
	}
	return b, nil
}

var unmarshalOptions = proto.UnmarshalOptions{DiscardUnknown: true}

// Unmarshal decodes a payload of type t.
func (Serializer) Unmarshal(t protocol.PacketType, data []byte) (packets.Payload, error) {
	var (
		p   packets.Payload
		err error
	)
	switch t {
	case protocol.Event:
		p, err = unmarshalEvent(data)
	case protocol.Request:
		p, err = unmarshalRequest(data)
	case protocol.Response:
		p, err = unmarshalResponse(data)
	case protocol.Info:
		p, err = unmarshalInfo(data)
	}
	if err != nil {
		return nil, fmt.Errorf("protobuf: decode %s: %w", t, err)
	}
	if p != nil {
		return p, nil
	}
	return unmarshalGenerated(t, data)
}

// unmarshalGenerated decodes the packets off the call path through the
// generated message types.
func unmarshalGenerated(t protocol.PacketType, data []byte) (packets.Payload, error) {
	var (
		m    proto.Message
		from func() (packets.Payload, error)
	)
	switch t {
	case protocol.Discover:
		x := new(wire.PacketDiscover)
		m, from = x, func() (packets.Payload, error) {
			return &packets.Discover{Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, nil
		}
	case protocol.Disconnect:
		x := new(wire.PacketDisconnect)
		m, from = x, func() (packets.Payload, error) {
			return &packets.Disconnect{Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, nil
		}
	case protocol.Heartbeat:
		x := new(wire.PacketHeartbeat)
		m, from = x, func() (packets.Payload, error) {
			return &packets.Heartbeat{CPU: x.GetCpu(), Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, nil
		}
	case protocol.Ping:
		x := new(wire.PacketPing)
		m, from = x, func() (packets.Payload, error) {
			return &packets.Ping{Time: x.GetTime(), ID: x.GetId(), Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, nil
		}
	case protocol.Pong:
		x := new(wire.PacketPong)
		m, from = x, func() (packets.Payload, error) {
			return &packets.Pong{Time: x.GetTime(), Arrived: x.GetArrived(), ID: x.GetId(),
				Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, nil
		}
	case protocol.GossipHello:
		x := new(wire.PacketGossipHello)
		m, from = x, func() (packets.Payload, error) {
			return &packets.GossipHello{Host: x.GetHost(), Port: int(x.GetPort()), Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, nil
		}
	case protocol.GossipReq:
		x := new(wire.PacketGossipRequest)
		m, from = x, func() (packets.Payload, error) {
			g, err := customfields.UnmarshalGossip(x.GetOnline(), x.GetOffline())
			return &packets.GossipReq{Online: g.Online, Offline: g.Offline, Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, err
		}
	case protocol.GossipRes:
		x := new(wire.PacketGossipResponse)
		m, from = x, func() (packets.Payload, error) {
			g, err := customfields.UnmarshalGossip(x.GetOnline(), x.GetOffline())
			return &packets.GossipRes{Online: g.Online, Offline: g.Offline, Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, err
		}
	default:
		return nil, fmt.Errorf("protobuf: unknown packet type %q", t)
	}
	if err := unmarshalOptions.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("protobuf: decode %s: %w", t, err)
	}
	p, err := from()
	if err != nil {
		return nil, fmt.Errorf("protobuf: decode %s: %w", t, err)
	}
	return p, nil
}

func gossip(online map[string][]any, offline map[string]int64) (*string, *string, error) {
	on, off, err := customfields.MarshalGossip(customfields.Gossip{Online: online, Offline: offline})
	if err != nil {
		return nil, nil, err
	}
	var a, b *string
	if on != nil {
		s := string(on)
		a = &s
	}
	if off != nil {
		s := string(off)
		b = &s
	}
	return a, b, nil
}
