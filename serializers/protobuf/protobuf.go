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
	switch x := p.(type) {
	case *packets.Event:
		m, err = event(x)
	case *packets.Request:
		m, err = request(x)
	case *packets.Response:
		m, err = response(x)
	case *packets.Discover:
		m = &wire.PacketDiscover{Ver: &x.Ver, Sender: &x.Sender}
	case *packets.Info:
		m, err = info(x)
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
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("protobuf: encode %s: %w", p.Type(), err)
	}
	return b, nil
}

var unmarshalOptions = proto.UnmarshalOptions{DiscardUnknown: true}

// Unmarshal decodes a payload of type t.
func (Serializer) Unmarshal(t protocol.PacketType, data []byte) (packets.Payload, error) {
	var (
		m    proto.Message
		from func() (packets.Payload, error)
	)
	switch t {
	case protocol.Event:
		x := new(wire.PacketEvent)
		m, from = x, func() (packets.Payload, error) { return fromEvent(x) }
	case protocol.Request:
		x := new(wire.PacketRequest)
		m, from = x, func() (packets.Payload, error) { return fromRequest(x) }
	case protocol.Response:
		x := new(wire.PacketResponse)
		m, from = x, func() (packets.Payload, error) { return fromResponse(x) }
	case protocol.Discover:
		x := new(wire.PacketDiscover)
		m, from = x, func() (packets.Payload, error) {
			return &packets.Discover{Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, nil
		}
	case protocol.Info:
		x := new(wire.PacketInfo)
		m, from = x, func() (packets.Payload, error) { return fromInfo(x) }
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

// ---------------------------------------------------------------- encoding

// optString points at s, or is nil (null) for "".
func optString(s *packets.NullString) *string {
	if *s == "" {
		return nil
	}
	return (*string)(s)
}

func optInt32(field string, v *int64) (*int32, error) {
	if v == nil {
		return nil, nil
	}
	n, err := customfields.Int32(field, *v)
	return &n, err
}

func event(p *packets.Event) (*wire.PacketEvent, error) {
	typ, data, err := customfields.FromValue(p.Data)
	if err != nil {
		return nil, err
	}
	meta, err := customfields.MarshalMeta(p.Meta)
	if err != nil {
		return nil, err
	}
	// One allocation holds the values that are not fields of p.
	v := &struct {
		typ, level int32
		meta       string
	}{typ: typ, meta: customfields.String(meta)}
	if v.level, err = customfields.Int32("level", int64(p.Level)); err != nil {
		return nil, err
	}
	return &wire.PacketEvent{
		Ver: &p.Ver, Sender: &p.Sender, Id: &p.ID, Event: &p.Event,
		Data: data, DataType: &v.typ, Groups: p.Groups, Broadcast: &p.Broadcast, Meta: &v.meta, Level: &v.level,
		Tracing: p.Tracing, ParentID: optString(&p.ParentID), RequestID: &p.RequestID, Caller: optString(&p.Caller), NeedAck: p.NeedAck,
	}, nil
}

func request(p *packets.Request) (*wire.PacketRequest, error) {
	typ, params, err := customfields.FromValue(p.Params)
	if err != nil {
		return nil, err
	}
	meta, err := customfields.MarshalMeta(p.Meta)
	if err != nil {
		return nil, err
	}
	v := &struct {
		typ, level int32
		meta       string
	}{typ: typ, meta: customfields.String(meta)}
	if v.level, err = customfields.Int32("level", int64(p.Level)); err != nil {
		return nil, err
	}
	seq, err := optInt32("seq", p.Seq)
	if err != nil {
		return nil, err
	}
	return &wire.PacketRequest{
		Ver: &p.Ver, Sender: &p.Sender, Id: &p.ID, Action: &p.Action,
		Params: params, ParamsType: &v.typ, Meta: &v.meta, Timeout: &p.Timeout, Level: &v.level,
		Tracing: p.Tracing, ParentID: optString(&p.ParentID), RequestID: &p.RequestID, Stream: &p.Stream, Seq: seq, Caller: optString(&p.Caller),
	}, nil
}

func response(p *packets.Response) (*wire.PacketResponse, error) {
	typ, data, err := customfields.FromValue(p.Data)
	if err != nil {
		return nil, err
	}
	meta, err := customfields.MarshalMeta(p.Meta)
	if err != nil {
		return nil, err
	}
	perr, err := customfields.MarshalError(p.Error)
	if err != nil {
		return nil, err
	}
	v := &struct {
		typ        int32
		meta, perr string
	}{typ: typ, meta: customfields.String(meta), perr: string(perr)}
	seq, err := optInt32("seq", p.Seq)
	if err != nil {
		return nil, err
	}
	m := &wire.PacketResponse{
		Ver: &p.Ver, Sender: &p.Sender, Id: &p.ID, Success: &p.Success,
		Data: data, DataType: &v.typ, Meta: &v.meta, Stream: p.Stream, Seq: seq,
	}
	if perr != nil {
		m.Error = &v.perr
	}
	return m, nil
}

func info(p *packets.Info) (*wire.PacketInfo, error) {
	services, err := customfields.MarshalServices(p.Services)
	if err != nil {
		return nil, err
	}
	config, err := customfields.MarshalObject(p.Config)
	if err != nil {
		return nil, err
	}
	metadata, err := customfields.MarshalObject(p.Metadata)
	if err != nil {
		return nil, err
	}
	v := &struct {
		services, config, metadata string
		seq                        int32
		client                     wire.PacketInfo_Client
	}{services: string(services), config: customfields.String(config), metadata: customfields.String(metadata)}
	if v.seq, err = customfields.Int32("seq", p.Seq); err != nil {
		return nil, err
	}
	v.client.Type, v.client.Version, v.client.LangVersion = &p.Client.Type, &p.Client.Version, &p.Client.LangVersion
	return &wire.PacketInfo{
		Ver: &p.Ver, Sender: &p.Sender, Services: &v.services, Config: &v.config, IpList: p.IPList,
		Hostname: &p.Hostname, Client: &v.client, Seq: &v.seq, InstanceID: &p.InstanceID, Metadata: &v.metadata,
	}, nil
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

// ---------------------------------------------------------------- decoding

// The payloads take over the pointers and slices of the decoded messages,
// which are not used again.

func optInt64(v *int32) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}

func fromEvent(m *wire.PacketEvent) (*packets.Event, error) {
	p := &packets.Event{
		ID: m.GetId(), Event: m.GetEvent(), Groups: m.Groups, Broadcast: m.GetBroadcast(), Level: int(m.GetLevel()),
		Tracing: m.Tracing, ParentID: packets.NullString(m.GetParentID()), RequestID: m.GetRequestID(),
		Caller: packets.NullString(m.GetCaller()), NeedAck: m.NeedAck,
		Envelope: packets.Envelope{Ver: m.GetVer(), Sender: m.GetSender()},
	}
	if len(p.Groups) == 0 {
		p.Groups = nil
	}
	var err error
	if p.Data, err = customfields.ToValue(m.GetDataType(), m.Data); err != nil {
		return nil, err
	}
	if p.Meta, err = customfields.UnmarshalMeta(m.GetMeta()); err != nil {
		return nil, err
	}
	return p, nil
}

func fromRequest(m *wire.PacketRequest) (*packets.Request, error) {
	p := &packets.Request{
		ID: m.GetId(), Action: m.GetAction(), Timeout: m.GetTimeout(), Level: int(m.GetLevel()),
		Tracing: m.Tracing, ParentID: packets.NullString(m.GetParentID()), RequestID: m.GetRequestID(),
		Stream: m.GetStream(), Seq: optInt64(m.Seq), Caller: packets.NullString(m.GetCaller()),
		Envelope: packets.Envelope{Ver: m.GetVer(), Sender: m.GetSender()},
	}
	var err error
	if p.Params, err = customfields.ToValue(m.GetParamsType(), m.Params); err != nil {
		return nil, err
	}
	if p.Meta, err = customfields.UnmarshalMeta(m.GetMeta()); err != nil {
		return nil, err
	}
	return p, nil
}

func fromResponse(m *wire.PacketResponse) (*packets.Response, error) {
	p := &packets.Response{
		ID: m.GetId(), Success: m.GetSuccess(), Stream: m.Stream, Seq: optInt64(m.Seq),
		Envelope: packets.Envelope{Ver: m.GetVer(), Sender: m.GetSender()},
	}
	var err error
	if p.Data, err = customfields.ToValue(m.GetDataType(), m.Data); err != nil {
		return nil, err
	}
	if p.Error, err = customfields.UnmarshalError(m.GetError()); err != nil {
		return nil, err
	}
	if p.Meta, err = customfields.UnmarshalMeta(m.GetMeta()); err != nil {
		return nil, err
	}
	return p, nil
}

func fromInfo(m *wire.PacketInfo) (*packets.Info, error) {
	c := m.GetClient()
	p := &packets.Info{
		IPList: m.IpList, Hostname: m.GetHostname(),
		Client:     packets.ClientInfo{Type: c.GetType(), Version: c.GetVersion(), LangVersion: c.GetLangVersion()},
		InstanceID: m.GetInstanceID(), Seq: int64(m.GetSeq()),
		Envelope: packets.Envelope{Ver: m.GetVer(), Sender: m.GetSender()},
	}
	if p.IPList == nil {
		p.IPList = []string{}
	}
	var err error
	if p.Services, err = customfields.UnmarshalServices(m.GetServices()); err != nil {
		return nil, err
	}
	if p.Config, err = customfields.UnmarshalObject(m.GetConfig()); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if p.Metadata, err = customfields.UnmarshalObject(m.GetMetadata()); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return p, nil
}
