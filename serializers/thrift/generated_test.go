package thrift

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	athrift "github.com/apache/thrift/lib/go/thrift"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers/internal/customfields"
	"github.com/molbridge/molbridge/serializers/internal/serializertest"
	"github.com/molbridge/molbridge/serializers/thrift/internal/wire"
)

// The hand-written codec (codec.go) is checked against the code the Thrift
// compiler generated (internal/wire), which Apache Thrift's Go library
// writes and reads in the binary protocol: the conversions below are the
// ones the serializer used before it had its own codec.

func TestCodecMatchesGenerated(t *testing.T) {
	payloads := serializertest.BenchPayloads()
	for _, c := range serializertest.Cases() {
		payloads = append(payloads, c.Payload)
	}
	seen := map[protocol.PacketType]bool{}
	for _, p := range payloads {
		seen[p.Type()] = true
		checkEncode(t, p)
	}
	for _, typ := range protocol.PacketTypes {
		if !seen[typ] {
			t.Errorf("no payload of type %s", typ)
		}
	}
	for _, v := range serializertest.Vectors() {
		b, err := hex.DecodeString(jsBytes[v.Name])
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		checkDecode(t, v.Type, b)
	}
}

// Every Thrift packet of the recorded corpus (real moleculer 0.14.36
// output) decodes as with the generated code, and encodes back as the
// generated code encodes it.
func TestCorpusMatchesGenerated(t *testing.T) {
	serializertest.EachCorpusPacket(t, "Thrift", func(typ protocol.PacketType, data []byte, _ string) {
		if p := checkDecode(t, typ, data); p != nil {
			checkEncode(t, p)
		}
	})
}

// Input no JS node sends: unknown fields of every type, nested and empty
// containers, known fields of another type, repeated fields, odd booleans
// and data types, and damage of every kind, read as every packet type.
func TestOddInputMatchesGenerated(t *testing.T) {
	for _, in := range oddInputs {
		b := hexBytes(t, in)
		for _, typ := range protocol.PacketTypes {
			checkDecode(t, typ, b)
		}
	}
}

// oddInputs are structs in hex; spaces separate fields for the reader.
var oddInputs = []string{
	"",
	"00",
	"00 ffff",
	"0b0001 00000001 34 0b0002 00000002 6e31 00",
	// every type of unknown field
	"020063 05 030063 07 040063 3ff0000000000000 060063 0102 080063 01020304 0a0063 0102030405060708 0b0063 00000001 78 00",
	"100063 000102030405060708090a0b0c0d0e0f 0b0002 00000001 61 00",
	"0c0063 020001 01 0b0002 00000001 78 00 0b0002 00000001 61 00",
	"0d0063 0b08 00000002 00000001 61 00000001 00000001 62 00000002 00",
	"0e0063 08 00000003 00000001 00000002 00000003 00",
	"0f0063 0c 00000002 00 0b0001 00000000 00 00",
	"0f0063 0f 00000001 0f 00000001 02 00000001 01 00",
	"0d0063 0c0f 00000001 00 0f 00000000 00",
	"0f0063 00 00000000 0e0063 01 00000000 0d0063 0000 00000000 00",
	"0f0063 00 00000001 00 00",
	"0f0063 01 00000001 00 00",
	"0f0063 55 00000001 00 00",
	"010063 00",
	"550001 00",
	// known ids with another type
	"080001 00000004 0a0002 0000000000000001 020003 01 0b0004 00000001 31 080005 00000001 00",
	"0b0003 00000003 722d31 0b0008 00000000 0b0009 00000001 31 0b000a 00000000 0f0007 0b 00000000 00",
	"020004 07 020009 02 02000a 00 02000b ff 02000d 80 020011 01 02000e 01 08000f 00000005 00",
	"08000e 7fffffff 08000a 80000000 080009 ffffffff 080008 00000005 00",
	"0b0003 00000002 7b7d 0b0004 00000002 7b7d 0b0009 00000002 7b7d 0b000a 00000004 6e756c6c 00",
	"0b0001 00000001 61 0b0001 00000001 62 0b0002 00000000 0b0002 00000001 63 00",
	// params and data of every data type, empty, absent and odd
	"0b0005 00000001 35 080006 00000002 00",
	"0b0005 00000001 35 080006 00000007 00",
	"0b0005 00000001 35 080006 ffffffff 00",
	"0b0005 00000000 080006 00000003 00",
	"080006 00000003 00",
	"080006 00000002 00",
	"0b0005 00000000 080006 00000002 00",
	"0b0005 00000002 ff00 080006 00000003 0b0005 00000001 7b 00",
	"0b0007 00000002 7b7d 0b0007 00000004 6e756c6c 0b0008 00000002 7b7d 00",
	"0b0007 00000007 227b5c227d22 00",
	"0b0007 00000001 5b 00",
	"0b0009 00000001 5b 00",
	"0b0008 00000003 225b22 00",
	// lists: groups and ipList, with declared types that do not say string
	"0f0007 0b 00000002 00000001 61 00000000 0f0005 0b 00000000 00",
	"0f0007 0b 00000000 0f0005 0b 00000001 00000001 78 00",
	"0f0007 08 00000001 00000001 61 00",
	"0f0007 0a 00000001 00000000 00",
	"0f0005 0a 00000001 00000000 00",
	"0f0005 02 00000001 00000001 41 00",
	"0f0005 0b 00000002 00000001 41 00",
	"0f0005 0b ffffffff 00",
	// INFO's client: repeated, partial, of another type, with unknown fields
	"0c0007 0b0001 00000002 676f 00 0c0007 0b0002 00000001 31 00 00",
	"0c0007 0d0009 0b0b 00000000 0b0003 00000001 33 00 00",
	"0b0007 00000000 0c0007 00 00",
	"0c0007 0b0001 00000002 676f",
	"0c0007 0c0004 0c0004 00 00 00 00",
	// GOSSIP online and offline: empty, null, a JSON string, not JSON
	"0b0003 00000000 0b0004 00000004 6e756c6c 00",
	"0b0003 00000004 227b7d22 00",
	"0b0003 00000001 7b 00",
	"0b0004 00000003 5b315d 00",
	// damage
	"0b0001",
	"0b0001 000000",
	"0b0001 00000005 3400",
	"0b0001 80000000 00",
	"0f0007 0b 7fffffff 00",
	"0d0063 0b0b 40000000 00",
	"0d0063 0b0b 80000001 00",
	"0e0063 0b 7fffffff 00",
	"0c0063 0b0001 00000001",
	"040003 4028",
	"0a0003 000000",
	"08000a 0000",
	"020004",
	"0f0063 0c 00000001 0b",
}

// Values nested up to 64 deep in a skipped field are skipped; deeper ones
// are refused, as by the generated code.
func TestDeepNestingMatchesGenerated(t *testing.T) {
	for _, depth := range []int{1, 2, 63, 64, 65, 100} {
		r := strings.Repeat
		for _, in := range []string{
			r("0c0063", depth) + r("00", depth) + "00",                                                      // structs in structs
			r("0c0063", depth-1) + "020001 01" + r("00", depth-1) + "00",                                    // a bool in structs
			"0f0063" + r("0f 00000001", depth-1) + "02 00000000" + "00",                                     // lists in lists
			"0d0063 0b0d 00000001 00000000" + r("0b0d 00000001 00000000", depth-1) + "0b0b 00000000" + "00", // maps in maps
		} {
			b := hexBytes(t, in)
			for _, typ := range protocol.PacketTypes {
				checkDecode(t, typ, b)
			}
		}
	}
}

// hexBytes decodes hex, in which spaces separate fields for the reader.
func hexBytes(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return b
}

// checkEncode checks that the codec writes p as the generated code does,
// and that either decodes what the other wrote to the same payload.
func checkEncode(t *testing.T, p packets.Payload) {
	t.Helper()
	got, err := Serializer{}.Marshal(p)
	want, errWant := generatedMarshal(p)
	if (err == nil) != (errWant == nil) {
		t.Fatalf("%T: error %v, generated code %v", p, err, errWant)
	}
	if err != nil {
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: wrote\n%x\ngenerated code wrote\n%x", p.Type(), got, want)
	}
	checkDecode(t, p.Type(), got)
	checkDecode(t, p.Type(), want)
}

// checkDecode checks that the codec decodes data as the generated code
// does, returning the payload.
func checkDecode(t *testing.T, typ protocol.PacketType, data []byte) packets.Payload {
	t.Helper()
	got, err := Serializer{}.Unmarshal(typ, data)
	want, errWant := generatedUnmarshal(typ, data)
	if (err == nil) != (errWant == nil) {
		t.Fatalf("%s %x: error %v, generated code %v", typ, data, err, errWant)
	}
	if err != nil {
		return nil
	}
	if diff := diffFields(got, want); diff != "" {
		t.Fatalf("%s %x: the codec and the generated code decoded different fields:\n%s", typ, data, diff)
	}
	return got
}

// diffFields compares two payloads of one type field by field, doubles by
// their bits (NaN included), and describes the fields that differ.
func diffFields(a, b packets.Payload) string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return fmt.Sprintf("types %T and %T", a, b)
	}
	var diff strings.Builder
	var walk func(x, y reflect.Value)
	walk = func(x, y reflect.Value) {
		for i := range x.NumField() {
			f := x.Type().Field(i)
			fx, fy := x.Field(i), y.Field(i)
			switch {
			case f.Anonymous:
				walk(fx, fy)
			case f.Type.Kind() == reflect.Float64:
				if math.Float64bits(fx.Float()) != math.Float64bits(fy.Float()) {
					fmt.Fprintf(&diff, "%s: %v, generated code %v\n", f.Name, fx.Float(), fy.Float())
				}
			case !reflect.DeepEqual(fx.Interface(), fy.Interface()):
				fmt.Fprintf(&diff, "%s: %#v, generated code %#v\n", f.Name, fx.Interface(), fy.Interface())
			}
		}
	}
	walk(va.Elem(), vb.Elem())
	return diff.String()
}

func FuzzCodecMatchesGenerated(f *testing.F) {
	for _, c := range serializertest.Cases() {
		if b, err := generatedMarshal(c.Payload); err == nil {
			f.Add(b)
		}
	}
	for _, in := range oddInputs {
		f.Add(hexBytes(f, in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range protocol.PacketTypes {
			if p := checkDecode(t, typ, data); p != nil {
				checkEncode(t, p)
			}
		}
	})
}

// ---- the generated code, as the serializer used it

// message is what the generated struct types have in common.
type message interface {
	Read(ctx context.Context, iprot athrift.TProtocol) error
	Write(ctx context.Context, oprot athrift.TProtocol) error
}

// binaryProtocol reads booleans as the JS library does: any byte but 0 is
// true, where Go's TBinaryProtocol takes only 1 as true.
type binaryProtocol struct{ *athrift.TBinaryProtocol }

func (p binaryProtocol) ReadBool(ctx context.Context) (bool, error) {
	b, err := p.ReadByte(ctx)
	return b != 0, err
}

func newProtocol() (*athrift.TMemoryBuffer, binaryProtocol) {
	buf := athrift.NewTMemoryBuffer()
	return buf, binaryProtocol{athrift.NewTBinaryProtocolConf(buf, &athrift.TConfiguration{})}
}

func generatedMarshal(p packets.Payload) ([]byte, error) {
	var (
		m   message
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
		m = &wire.PacketHeartbeat{Ver: &x.Ver, Sender: &x.Sender, CPU: &x.CPU}
	case *packets.Ping:
		m = &wire.PacketPing{Ver: &x.Ver, Sender: &x.Sender, Time: &x.Time, ID: &x.ID}
	case *packets.Pong:
		m = &wire.PacketPong{Ver: &x.Ver, Sender: &x.Sender, Time: &x.Time, Arrived: &x.Arrived, ID: &x.ID}
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
		return nil, fmt.Errorf("cannot encode payload type %T", p)
	}
	if err != nil {
		return nil, err
	}
	buf, proto := newProtocol()
	if err := m.Write(context.Background(), proto); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func generatedUnmarshal(t protocol.PacketType, data []byte) (packets.Payload, error) {
	var (
		m    message
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
			return &packets.Heartbeat{CPU: x.GetCPU(), Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, nil
		}
	case protocol.Ping:
		x := new(wire.PacketPing)
		m, from = x, func() (packets.Payload, error) {
			return &packets.Ping{Time: x.GetTime(), ID: x.GetID(), Envelope: packets.Envelope{Ver: x.GetVer(), Sender: x.GetSender()}}, nil
		}
	case protocol.Pong:
		x := new(wire.PacketPong)
		m, from = x, func() (packets.Payload, error) {
			return &packets.Pong{Time: x.GetTime(), Arrived: x.GetArrived(), ID: x.GetID(),
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
		return nil, fmt.Errorf("unknown packet type %q", t)
	}
	buf, proto := newProtocol()
	buf.Write(data) // Write on a bytes.Buffer does not fail
	if err := m.Read(context.Background(), proto); err != nil {
		return nil, err
	}
	return from()
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
	v := &struct {
		typ   wire.DataType
		level int32
		meta  string
	}{typ: wire.DataType(typ), meta: customfields.String(meta)}
	if v.level, err = customfields.Int32("level", int64(p.Level)); err != nil {
		return nil, err
	}
	m := &wire.PacketEvent{
		Ver: &p.Ver, Sender: &p.Sender, ID: &p.ID, Event: &p.Event,
		Data: data, DataType: &v.typ, Broadcast: &p.Broadcast, Meta: &v.meta, Level: &v.level,
		Tracing: p.Tracing, ParentID: optString(&p.ParentID), RequestID: &p.RequestID, Caller: optString(&p.Caller), NeedAck: p.NeedAck,
	}
	if len(p.Groups) > 0 {
		m.Groups = p.Groups
	}
	return m, nil
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
		typ   wire.DataType
		level int32
		meta  string
	}{typ: wire.DataType(typ), meta: customfields.String(meta)}
	if v.level, err = customfields.Int32("level", int64(p.Level)); err != nil {
		return nil, err
	}
	seq, err := optInt32("seq", p.Seq)
	if err != nil {
		return nil, err
	}
	return &wire.PacketRequest{
		Ver: &p.Ver, Sender: &p.Sender, ID: &p.ID, Action: &p.Action,
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
		typ        wire.DataType
		meta, perr string
	}{typ: wire.DataType(typ), meta: customfields.String(meta), perr: string(perr)}
	seq, err := optInt32("seq", p.Seq)
	if err != nil {
		return nil, err
	}
	m := &wire.PacketResponse{
		Ver: &p.Ver, Sender: &p.Sender, ID: &p.ID, Success: &p.Success,
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
		client                     wire.Client
		ipList                     []string
	}{services: string(services), config: customfields.String(config), metadata: customfields.String(metadata), ipList: p.IPList}
	if v.seq, err = customfields.Int32("seq", p.Seq); err != nil {
		return nil, err
	}
	if v.ipList == nil {
		v.ipList = []string{} // JS always has the list; an empty one is still written
	}
	v.client.Type, v.client.Version, v.client.LangVersion = &p.Client.Type, &p.Client.Version, &p.Client.LangVersion
	return &wire.PacketInfo{
		Ver: &p.Ver, Sender: &p.Sender, Services: &v.services, Config: &v.config, IpList: v.ipList,
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

func optInt64(v *int32) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}

func fromEvent(m *wire.PacketEvent) (*packets.Event, error) {
	p := &packets.Event{
		ID: m.GetID(), Event: m.GetEvent(), Broadcast: m.GetBroadcast(), Level: int(m.GetLevel()),
		Tracing: m.Tracing, ParentID: packets.NullString(m.GetParentID()), RequestID: m.GetRequestID(),
		Caller: packets.NullString(m.GetCaller()), NeedAck: m.NeedAck,
		Envelope: packets.Envelope{Ver: m.GetVer(), Sender: m.GetSender()},
	}
	if len(m.Groups) > 0 {
		p.Groups = m.Groups
	}
	var err error
	if p.Data, err = customfields.ToValue(int32(m.GetDataType()), m.Data); err != nil {
		return nil, err
	}
	if p.Meta, err = customfields.UnmarshalMeta([]byte(m.GetMeta())); err != nil {
		return nil, err
	}
	return p, nil
}

func fromRequest(m *wire.PacketRequest) (*packets.Request, error) {
	p := &packets.Request{
		ID: m.GetID(), Action: m.GetAction(), Timeout: m.GetTimeout(), Level: int(m.GetLevel()),
		Tracing: m.Tracing, ParentID: packets.NullString(m.GetParentID()), RequestID: m.GetRequestID(),
		Stream: m.GetStream(), Seq: optInt64(m.Seq), Caller: packets.NullString(m.GetCaller()),
		Envelope: packets.Envelope{Ver: m.GetVer(), Sender: m.GetSender()},
	}
	var err error
	if p.Params, err = customfields.ToValue(int32(m.GetParamsType()), m.Params); err != nil {
		return nil, err
	}
	if p.Meta, err = customfields.UnmarshalMeta([]byte(m.GetMeta())); err != nil {
		return nil, err
	}
	return p, nil
}

func fromResponse(m *wire.PacketResponse) (*packets.Response, error) {
	p := &packets.Response{
		ID: m.GetID(), Success: m.GetSuccess(), Stream: m.Stream, Seq: optInt64(m.Seq),
		Envelope: packets.Envelope{Ver: m.GetVer(), Sender: m.GetSender()},
	}
	var err error
	if p.Data, err = customfields.ToValue(int32(m.GetDataType()), m.Data); err != nil {
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
	p := &packets.Info{
		IPList: m.IpList, Hostname: m.GetHostname(), InstanceID: m.GetInstanceID(), Seq: int64(m.GetSeq()),
		Envelope: packets.Envelope{Ver: m.GetVer(), Sender: m.GetSender()},
	}
	if c := m.Client; c != nil { // the generated getters of Client do not take a nil receiver
		p.Client = packets.ClientInfo{Type: c.GetType(), Version: c.GetVersion(), LangVersion: c.GetLangVersion()}
	}
	if p.IPList == nil {
		p.IPList = []string{}
	}
	var err error
	if p.Services, err = customfields.UnmarshalServices(m.GetServices()); err != nil {
		return nil, err
	}
	if p.Config, err = customfields.UnmarshalObject(m.GetConfig()); err != nil {
		return nil, err
	}
	if p.Metadata, err = customfields.UnmarshalObject(m.GetMetadata()); err != nil {
		return nil, err
	}
	return p, nil
}
