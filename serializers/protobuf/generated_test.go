package protobuf

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers/internal/customfields"
	"github.com/molbridge/molbridge/serializers/internal/serializertest"
	"github.com/molbridge/molbridge/serializers/protobuf/internal/wire"
)

// The hand-written codec of REQ, RES, EVENT and INFO (codec.go) is checked
// against the generated message types, which proto.Marshal and
// proto.Unmarshal encode and decode: the conversions below are the ones
// the serializer used before it had its own codec.

func generatedMarshal(p packets.Payload) ([]byte, error) {
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
	case *packets.Info:
		m, err = info(x)
	default:
		return nil, fmt.Errorf("not a packet of the codec: %T", p)
	}
	if err != nil {
		return nil, err
	}
	return proto.Marshal(m)
}

func generatedUnmarshal(t protocol.PacketType, data []byte) (packets.Payload, error) {
	switch t {
	case protocol.Event:
		x := new(wire.PacketEvent)
		if err := unmarshalOptions.Unmarshal(data, x); err != nil {
			return nil, err
		}
		return fromEvent(x)
	case protocol.Request:
		x := new(wire.PacketRequest)
		if err := unmarshalOptions.Unmarshal(data, x); err != nil {
			return nil, err
		}
		return fromRequest(x)
	case protocol.Response:
		x := new(wire.PacketResponse)
		if err := unmarshalOptions.Unmarshal(data, x); err != nil {
			return nil, err
		}
		return fromResponse(x)
	case protocol.Info:
		x := new(wire.PacketInfo)
		if err := unmarshalOptions.Unmarshal(data, x); err != nil {
			return nil, err
		}
		return fromInfo(x)
	}
	return nil, fmt.Errorf("not a packet of the codec: %s", t)
}

var codecTypes = []protocol.PacketType{protocol.Request, protocol.Response, protocol.Event, protocol.Info}

func TestCodecMatchesGenerated(t *testing.T) {
	payloads := serializertest.BenchPayloads()
	for _, c := range serializertest.Cases() {
		payloads = append(payloads, c.Payload)
	}
	n := 0
	for _, p := range payloads {
		want, errWant := generatedMarshal(p)
		if errWant != nil && errWant.Error() == fmt.Sprintf("not a packet of the codec: %T", p) {
			continue
		}
		n++
		got, err := Serializer{}.Marshal(p)
		if (err == nil) != (errWant == nil) {
			t.Fatalf("%T: error %v, generated code %v", p, err, errWant)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%T: wrote\n%x\ngenerated code wrote\n%x", p, got, want)
		}
		if err == nil {
			checkDecode(t, p.Type(), got)
		}
	}
	if n < 8 {
		t.Fatalf("only %d payloads of the codec's types", n)
	}
	for _, v := range serializertest.Vectors() {
		b, err := hex.DecodeString(jsBytes[v.Name])
		if err == nil && slices.Contains(codecTypes, v.Type) {
			checkDecode(t, v.Type, b)
		}
	}
	// unknown fields of every wire type, known fields of the wrong type,
	// repeated fields, merged client messages, empty bytes
	for _, in := range []string{
		"0a01341a0178", "0a0134f80105", "1a013408011a0179", "0d01020304", "0a01340b0c", "2a00300222027b7d",
		"3a027b7d3a027b7d", "3a027b7d4a0161", "28011a0178", "3a027b7d680168007001", "5a00",
		"3a0101", "0b", "0c", "0a", "f8ffffff0f01", "00", "28ffffffffffffffffff01",
	} {
		b, _ := hex.DecodeString(in)
		for _, typ := range codecTypes {
			checkDecode(t, typ, b)
		}
	}
	for _, info := range []string{
		"3a030a0161", "3a030a01613a03120162", "3a023a00", "2a0131", "1a025b5d", "22027b7d2a0130",
	} {
		b, _ := hex.DecodeString(info)
		checkDecode(t, protocol.Info, b)
	}
}

func checkDecode(t *testing.T, typ protocol.PacketType, data []byte) {
	t.Helper()
	got, err := Serializer{}.Unmarshal(typ, data)
	want, errWant := generatedUnmarshal(typ, data)
	if err == nil && errWant != nil && numberOutOfRange(data) {
		// Go's generated code refuses field numbers above 2^29-1;
		// protobufjs, and so codec.go, skips them as unknown fields.
		return
	}
	if (err == nil) != (errWant == nil) {
		t.Fatalf("%s %x: error %v, generated code %v", typ, data, err, errWant)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s %x: decoded\n%#v\ngenerated code\n%#v", typ, data, got, want)
	}
}

// numberOutOfRange reports whether a top-level field of the message has a
// number above protowire.MaxValidNumber.
func numberOutOfRange(b []byte) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		if num > protowire.MaxValidNumber {
			return true
		}
		b = b[n:]
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return false
		}
		b = b[n:]
	}
	return false
}

func FuzzCodecMatchesGenerated(f *testing.F) {
	for _, p := range serializertest.BenchPayloads() {
		if b, err := generatedMarshal(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{0x3a, 0x02, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range codecTypes {
			checkDecode(t, typ, data)
		}
	})
}

// ---- the conversions to and from the generated types

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
	meta, err := customfields.AppendMeta(nil, p.Meta)
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
	meta, err := customfields.AppendMeta(nil, p.Meta)
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
	meta, err := customfields.AppendMeta(nil, p.Meta)
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
	if p.Meta, err = customfields.UnmarshalMeta([]byte(m.GetMeta())); err != nil {
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
	if p.Meta, err = customfields.UnmarshalMeta([]byte(m.GetMeta())); err != nil {
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
	if p.Meta, err = customfields.UnmarshalMeta([]byte(m.GetMeta())); err != nil {
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
