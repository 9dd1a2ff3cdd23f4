package thrift

import (
	"fmt"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/serializers/internal/customfields"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

// The packets are written and read here directly in the binary protocol,
// as the code the Thrift compiler generates from packets.thrift writes and
// reads them (the tests compare both on every payload and on fuzzed
// input): fields in field-id order, null ones left out; on reading, the
// last of repeated fields winning, unknown fields and known fields of
// another type skipped.

// The fields of packets.thrift, each with the type it has there.
const (
	envVer    key = 1<<8 | typeString
	envSender key = 2<<8 | typeString

	reqID         key = 3<<8 | typeString
	reqAction     key = 4<<8 | typeString
	reqParams     key = 5<<8 | typeString
	reqParamsType key = 6<<8 | typeI32
	reqMeta       key = 7<<8 | typeString
	reqTimeout    key = 8<<8 | typeDouble
	reqLevel      key = 9<<8 | typeI32
	reqTracing    key = 10<<8 | typeBool
	reqParentID   key = 11<<8 | typeString
	reqRequestID  key = 12<<8 | typeString
	reqStream     key = 13<<8 | typeBool
	reqSeq        key = 14<<8 | typeI32
	reqCaller     key = 15<<8 | typeString

	resID       key = 3<<8 | typeString
	resSuccess  key = 4<<8 | typeBool
	resData     key = 5<<8 | typeString
	resDataType key = 6<<8 | typeI32
	resError    key = 7<<8 | typeString
	resMeta     key = 8<<8 | typeString
	resStream   key = 9<<8 | typeBool
	resSeq      key = 10<<8 | typeI32

	// EVENT's fields 14 (stream) and 15 (seq) are never written and are
	// skipped when read: a Go event has neither.
	evID        key = 3<<8 | typeString
	evEvent     key = 4<<8 | typeString
	evData      key = 5<<8 | typeString
	evDataType  key = 6<<8 | typeI32
	evGroups    key = 7<<8 | typeList
	evBroadcast key = 8<<8 | typeBool
	evMeta      key = 9<<8 | typeString
	evLevel     key = 10<<8 | typeI32
	evTracing   key = 11<<8 | typeBool
	evParentID  key = 12<<8 | typeString
	evRequestID key = 13<<8 | typeString
	evCaller    key = 16<<8 | typeString
	evNeedAck   key = 17<<8 | typeBool

	infoServices   key = 3<<8 | typeString
	infoConfig     key = 4<<8 | typeString
	infoIPList     key = 5<<8 | typeList
	infoHostname   key = 6<<8 | typeString
	infoClient     key = 7<<8 | typeStruct
	infoSeq        key = 8<<8 | typeI32
	infoInstanceID key = 9<<8 | typeString
	infoMetadata   key = 10<<8 | typeString

	clientType        key = 1<<8 | typeString
	clientVersion     key = 2<<8 | typeString
	clientLangVersion key = 3<<8 | typeString

	heartbeatCPU key = 3<<8 | typeDouble

	pingTime key = 3<<8 | typeI64
	pingID   key = 4<<8 | typeString

	pongTime    key = 3<<8 | typeI64
	pongArrived key = 4<<8 | typeI64
	pongID      key = 5<<8 | typeString

	helloHost key = 3<<8 | typeString
	helloPort key = 4<<8 | typeI32

	gossipOnline  key = 3<<8 | typeString
	gossipOffline key = 4<<8 | typeString
)

// ---------------------------------------------------------------- encoding

// headerSize is what a field takes besides its value's content: type, id
// and a length or count.
const headerSize = 7

// callSize is room enough in the buffer of a REQ, RES or EVENT for what
// the size of its strings and params or data leaves out: the fields'
// headers, the values of fixed size and a small meta.
const callSize = 17*headerSize + 32 + 64

func appendEnvelope(b []byte, e *packets.Envelope) []byte {
	return appendString(appendString(b, envVer, e.Ver), envSender, e.Sender)
}

func envelopeSize(e *packets.Envelope) int { return 2*headerSize + len(e.Ver) + len(e.Sender) + 1 }

// appendOptString writes s, or nothing for "" (null).
func appendOptString(b []byte, k key, s packets.NullString) []byte {
	if s == "" {
		return b
	}
	return appendString(b, k, string(s))
}

func appendOptBool(b []byte, k key, v *bool) []byte {
	if v == nil {
		return b
	}
	return appendBool(b, k, *v)
}

// appendCheckedI32 writes a 32-bit integer field after checking that v
// fits.
func appendCheckedI32(b []byte, k key, field string, v int64) ([]byte, error) {
	n, err := customfields.Int32(field, v)
	if err != nil {
		return nil, err
	}
	return appendI32(b, k, n), nil
}

// appendValue writes params or data (when they have bytes) and their data
// type.
func appendValue(b []byte, k, typeKey key, v packets.Value) ([]byte, error) {
	typ, direct, goVal, err := customfields.Classify(v)
	if err != nil {
		return nil, err
	}
	switch {
	case goVal != nil:
		b, err = appendText(b, k, func(b []byte) ([]byte, error) { return jsonlike.AppendAny(b, goVal) })
		if err != nil {
			return nil, err
		}
	case direct != nil:
		b = appendBinary(b, k, direct)
	}
	return appendI32(b, typeKey, typ), nil
}

// appendObject writes meta, config or metadata: {} when empty, as JS
// always has them.
func appendObject(b []byte, k key, m map[string]any) ([]byte, error) {
	if len(m) == 0 {
		return appendString(b, k, "{}"), nil
	}
	return appendText(b, k, func(b []byte) ([]byte, error) { return jsonlike.AppendObject(b, m) })
}

// appendMeta writes a context's meta as JSON text.
func appendMeta(b []byte, k key, m packets.Value) ([]byte, error) {
	return appendText(b, k, func(b []byte) ([]byte, error) { return customfields.AppendMeta(b, m) })
}

// valueSize estimates what a value's bytes take: raw JSON its length, any
// other value 64 bytes.
func valueSize(v packets.Value) int {
	if raw, ok := v.Raw(packets.JSONFormat); ok {
		return len(raw)
	}
	return 64
}

func marshalRequest(p *packets.Request) ([]byte, error) {
	size := envelopeSize(&p.Envelope) + callSize + len(p.ID) + len(p.Action) + valueSize(p.Params) +
		len(p.ParentID) + len(p.RequestID) + len(p.Caller)
	b := appendEnvelope(make([]byte, 0, size), &p.Envelope)
	b = appendString(b, reqID, p.ID)
	b = appendString(b, reqAction, p.Action)
	b, err := appendValue(b, reqParams, reqParamsType, p.Params)
	if err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if b, err = appendMeta(b, reqMeta, p.Meta); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	b = appendDouble(b, reqTimeout, p.Timeout)
	if b, err = appendCheckedI32(b, reqLevel, "level", int64(p.Level)); err != nil {
		return nil, err
	}
	b = appendOptBool(b, reqTracing, p.Tracing)
	b = appendOptString(b, reqParentID, p.ParentID)
	b = appendString(b, reqRequestID, p.RequestID)
	b = appendBool(b, reqStream, p.Stream)
	if p.Seq != nil {
		if b, err = appendCheckedI32(b, reqSeq, "seq", *p.Seq); err != nil {
			return nil, err
		}
	}
	b = appendOptString(b, reqCaller, p.Caller)
	return append(b, typeStop), nil
}

func marshalResponse(p *packets.Response) ([]byte, error) {
	size := envelopeSize(&p.Envelope) + callSize + len(p.ID) + valueSize(p.Data)
	b := appendEnvelope(make([]byte, 0, size), &p.Envelope)
	b = appendString(b, resID, p.ID)
	b = appendBool(b, resSuccess, p.Success)
	b, err := appendValue(b, resData, resDataType, p.Data)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if p.Error != nil {
		perr, err := customfields.MarshalError(p.Error)
		if err != nil {
			return nil, err
		}
		b = appendBinary(b, resError, perr)
	}
	if b, err = appendMeta(b, resMeta, p.Meta); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	b = appendOptBool(b, resStream, p.Stream)
	if p.Seq != nil {
		if b, err = appendCheckedI32(b, resSeq, "seq", *p.Seq); err != nil {
			return nil, err
		}
	}
	return append(b, typeStop), nil
}

func marshalEvent(p *packets.Event) ([]byte, error) {
	size := envelopeSize(&p.Envelope) + callSize + len(p.ID) + len(p.Event) + valueSize(p.Data) +
		len(p.ParentID) + len(p.RequestID) + len(p.Caller)
	for _, g := range p.Groups {
		size += 4 + len(g)
	}
	b := appendEnvelope(make([]byte, 0, size), &p.Envelope)
	b = appendString(b, evID, p.ID)
	b = appendString(b, evEvent, p.Event)
	b, err := appendValue(b, evData, evDataType, p.Data)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if len(p.Groups) > 0 {
		b = appendStrings(b, evGroups, p.Groups)
	}
	b = appendBool(b, evBroadcast, p.Broadcast)
	if b, err = appendMeta(b, evMeta, p.Meta); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	if b, err = appendCheckedI32(b, evLevel, "level", int64(p.Level)); err != nil {
		return nil, err
	}
	b = appendOptBool(b, evTracing, p.Tracing)
	b = appendOptString(b, evParentID, p.ParentID)
	b = appendString(b, evRequestID, p.RequestID)
	b = appendOptString(b, evCaller, p.Caller)
	b = appendOptBool(b, evNeedAck, p.NeedAck)
	return append(b, typeStop), nil
}

// infoSize is the buffer an INFO starts with: room for a few services.
const infoSize = 4096

func marshalInfo(p *packets.Info) ([]byte, error) {
	b := appendEnvelope(make([]byte, 0, infoSize), &p.Envelope)
	b, err := appendText(b, infoServices, func(b []byte) ([]byte, error) {
		if len(p.Services) == 0 {
			return append(b, "[]"...), nil
		}
		return jsonlike.AppendServices(b, p.Services)
	})
	if err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	if b, err = appendObject(b, infoConfig, p.Config); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	b = appendStrings(b, infoIPList, p.IPList) // JS always has the list, empty or not
	b = appendString(b, infoHostname, p.Hostname)
	b = appendHeader(b, infoClient)
	b = appendString(b, clientType, p.Client.Type)
	b = appendString(b, clientVersion, p.Client.Version)
	b = appendString(b, clientLangVersion, p.Client.LangVersion)
	b = append(b, typeStop)
	if b, err = appendCheckedI32(b, infoSeq, "seq", p.Seq); err != nil {
		return nil, err
	}
	b = appendString(b, infoInstanceID, p.InstanceID)
	if b, err = appendObject(b, infoMetadata, p.Metadata); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return append(b, typeStop), nil
}

// marshalEnvelope writes DISCOVER and DISCONNECT, which have nothing but
// their envelope.
func marshalEnvelope(e *packets.Envelope) []byte {
	return append(appendEnvelope(make([]byte, 0, envelopeSize(e)), e), typeStop)
}

func marshalHeartbeat(p *packets.Heartbeat) []byte {
	b := appendEnvelope(make([]byte, 0, envelopeSize(&p.Envelope)+headerSize+8), &p.Envelope)
	b = appendDouble(b, heartbeatCPU, p.CPU)
	return append(b, typeStop)
}

func marshalPing(p *packets.Ping) []byte {
	b := appendEnvelope(make([]byte, 0, envelopeSize(&p.Envelope)+2*headerSize+8+len(p.ID)), &p.Envelope)
	b = appendI64(b, pingTime, p.Time)
	b = appendString(b, pingID, p.ID)
	return append(b, typeStop)
}

func marshalPong(p *packets.Pong) []byte {
	b := appendEnvelope(make([]byte, 0, envelopeSize(&p.Envelope)+3*headerSize+16+len(p.ID)), &p.Envelope)
	b = appendI64(b, pongTime, p.Time)
	b = appendI64(b, pongArrived, p.Arrived)
	b = appendString(b, pongID, p.ID)
	return append(b, typeStop)
}

func marshalGossipHello(p *packets.GossipHello) ([]byte, error) {
	b := appendEnvelope(make([]byte, 0, envelopeSize(&p.Envelope)+2*headerSize+len(p.Host)), &p.Envelope)
	b = appendString(b, helloHost, p.Host)
	b, err := appendCheckedI32(b, helloPort, "port", int64(p.Port))
	if err != nil {
		return nil, err
	}
	return append(b, typeStop), nil
}

// marshalGossip writes GOSSIP_REQ and GOSSIP_RES, leaving out an empty
// online or offline list as JS leaves out a missing one.
func marshalGossip(e *packets.Envelope, online map[string][]any, offline map[string]int64) ([]byte, error) {
	on, off, err := customfields.MarshalGossip(customfields.Gossip{Online: online, Offline: offline})
	if err != nil {
		return nil, err
	}
	b := appendEnvelope(make([]byte, 0, envelopeSize(e)+2*headerSize+len(on)+len(off)), e)
	if on != nil {
		b = appendBinary(b, gossipOnline, on)
	}
	if off != nil {
		b = appendBinary(b, gossipOffline, off)
	}
	return append(b, typeStop), nil
}

// ---------------------------------------------------------------- decoding

// nullString reads a string that stands for null when absent or empty.
func (r *reader) nullString() packets.NullString { return packets.NullString(r.str()) }

func unmarshalRequest(data []byte) (*packets.Request, error) {
	p := new(packets.Request)
	r := newReader(data)
	var (
		params    []byte
		paramsTyp int32
		meta      []byte
	)
	for r.next() {
		switch r.key {
		case envVer:
			p.Ver = r.str()
		case envSender:
			p.Sender = r.str()
		case reqID:
			p.ID = r.str()
		case reqAction:
			p.Action = r.str()
		case reqParams:
			params = r.bin()
		case reqParamsType:
			paramsTyp = r.i32()
		case reqMeta:
			meta = r.bin()
		case reqTimeout:
			p.Timeout = r.double()
		case reqLevel:
			p.Level = int(r.i32())
		case reqTracing:
			p.Tracing = r.boolPtr()
		case reqParentID:
			p.ParentID = r.nullString()
		case reqRequestID:
			p.RequestID = r.str()
		case reqStream:
			p.Stream = r.boolean()
		case reqSeq:
			p.Seq = r.int64Ptr()
		case reqCaller:
			p.Caller = r.nullString()
		default:
			r.skip()
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	var err error
	if p.Params, err = customfields.ToValue(paramsTyp, params); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if p.Meta, err = customfields.UnmarshalMeta(meta); err != nil {
		return nil, err
	}
	return p, nil
}

func unmarshalResponse(data []byte) (*packets.Response, error) {
	p := new(packets.Response)
	r := newReader(data)
	var (
		d       []byte
		dataTyp int32
		perr    string
		meta    []byte
	)
	for r.next() {
		switch r.key {
		case envVer:
			p.Ver = r.str()
		case envSender:
			p.Sender = r.str()
		case resID:
			p.ID = r.str()
		case resSuccess:
			p.Success = r.boolean()
		case resData:
			d = r.bin()
		case resDataType:
			dataTyp = r.i32()
		case resError:
			perr = r.str()
		case resMeta:
			meta = r.bin()
		case resStream:
			p.Stream = r.boolPtr()
		case resSeq:
			p.Seq = r.int64Ptr()
		default:
			r.skip()
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	var err error
	if p.Data, err = customfields.ToValue(dataTyp, d); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if p.Error, err = customfields.UnmarshalError(perr); err != nil {
		return nil, err
	}
	if p.Meta, err = customfields.UnmarshalMeta(meta); err != nil {
		return nil, err
	}
	return p, nil
}

func unmarshalEvent(data []byte) (*packets.Event, error) {
	p := new(packets.Event)
	r := newReader(data)
	var (
		d       []byte
		dataTyp int32
		meta    []byte
	)
	for r.next() {
		switch r.key {
		case envVer:
			p.Ver = r.str()
		case envSender:
			p.Sender = r.str()
		case evID:
			p.ID = r.str()
		case evEvent:
			p.Event = r.str()
		case evData:
			d = r.bin()
		case evDataType:
			dataTyp = r.i32()
		case evGroups:
			p.Groups = r.strs()
		case evBroadcast:
			p.Broadcast = r.boolean()
		case evMeta:
			meta = r.bin()
		case evLevel:
			p.Level = int(r.i32())
		case evTracing:
			p.Tracing = r.boolPtr()
		case evParentID:
			p.ParentID = r.nullString()
		case evRequestID:
			p.RequestID = r.str()
		case evCaller:
			p.Caller = r.nullString()
		case evNeedAck:
			p.NeedAck = r.boolPtr()
		default:
			r.skip()
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(p.Groups) == 0 {
		p.Groups = nil // no groups, as a JS event without them
	}
	var err error
	if p.Data, err = customfields.ToValue(dataTyp, d); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if p.Meta, err = customfields.UnmarshalMeta(meta); err != nil {
		return nil, err
	}
	return p, nil
}

// unmarshalInfo reads INFO; all of it is kept, so the whole packet becomes
// one string.
func unmarshalInfo(data []byte) (*packets.Info, error) {
	p := new(packets.Info)
	r := newReader(data)
	var services, config, metadata string
	for r.next() {
		switch r.key {
		case envVer:
			p.Ver = r.str()
		case envSender:
			p.Sender = r.str()
		case infoServices:
			services = r.str()
		case infoConfig:
			config = r.str()
		case infoIPList:
			p.IPList = r.strs()
		case infoHostname:
			p.Hostname = r.str()
		case infoClient:
			p.Client = readClient(&r)
		case infoSeq:
			p.Seq = int64(r.i32())
		case infoInstanceID:
			p.InstanceID = r.str()
		case infoMetadata:
			metadata = r.str()
		default:
			r.skip()
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if p.IPList == nil {
		p.IPList = []string{}
	}
	var err error
	if p.Services, err = customfields.UnmarshalServices(services); err != nil {
		return nil, err
	}
	if p.Config, err = customfields.UnmarshalObject(config); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if p.Metadata, err = customfields.UnmarshalObject(metadata); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return p, nil
}

// readClient reads INFO's client struct, the current field of r. A second
// client field replaces the first.
func readClient(r *reader) packets.ClientInfo {
	var c packets.ClientInfo
	sub := reader{b: r.b, pos: r.pos, text: r.text}
	for sub.next() {
		switch sub.key {
		case clientType:
			c.Type = sub.str()
		case clientVersion:
			c.Version = sub.str()
		case clientLangVersion:
			c.LangVersion = sub.str()
		default:
			sub.skip()
		}
	}
	r.pos = sub.pos
	if sub.err != nil {
		r.fail(sub.err)
	}
	return c
}

// unmarshalEnvelope reads DISCOVER and DISCONNECT.
// readStruct reads the struct of a packet off the call path: ver and
// sender into e, every other field through field, which reports false for
// a field it does not know (skipped). REQ, RES, EVENT and INFO have loops
// of their own, without a call per field.
func readStruct(data []byte, e *packets.Envelope, field func(r *reader) bool) error {
	r := newReader(data)
	for r.next() {
		switch r.key {
		case envVer:
			e.Ver = r.str()
		case envSender:
			e.Sender = r.str()
		default:
			if field == nil || !field(&r) {
				r.skip()
			}
		}
	}
	return r.err
}

func unmarshalEnvelope(data []byte) (packets.Envelope, error) {
	var e packets.Envelope
	err := readStruct(data, &e, nil)
	return e, err
}

func unmarshalHeartbeat(data []byte) (*packets.Heartbeat, error) {
	p := new(packets.Heartbeat)
	err := readStruct(data, &p.Envelope, func(r *reader) bool {
		if r.key != heartbeatCPU {
			return false
		}
		p.CPU = r.double()
		return true
	})
	return result(p, err)
}

func unmarshalPing(data []byte) (*packets.Ping, error) {
	p := new(packets.Ping)
	err := readStruct(data, &p.Envelope, func(r *reader) bool {
		switch r.key {
		case pingTime:
			p.Time = r.i64()
		case pingID:
			p.ID = r.str()
		default:
			return false
		}
		return true
	})
	return result(p, err)
}

func unmarshalPong(data []byte) (*packets.Pong, error) {
	p := new(packets.Pong)
	err := readStruct(data, &p.Envelope, func(r *reader) bool {
		switch r.key {
		case pongTime:
			p.Time = r.i64()
		case pongArrived:
			p.Arrived = r.i64()
		case pongID:
			p.ID = r.str()
		default:
			return false
		}
		return true
	})
	return result(p, err)
}

func unmarshalGossipHello(data []byte) (*packets.GossipHello, error) {
	p := new(packets.GossipHello)
	err := readStruct(data, &p.Envelope, func(r *reader) bool {
		switch r.key {
		case helloHost:
			p.Host = r.str()
		case helloPort:
			p.Port = int(r.i32())
		default:
			return false
		}
		return true
	})
	return result(p, err)
}

// unmarshalGossip reads GOSSIP_REQ and GOSSIP_RES.
func unmarshalGossip(data []byte) (packets.Envelope, customfields.Gossip, error) {
	var (
		e               packets.Envelope
		online, offline string
	)
	err := readStruct(data, &e, func(r *reader) bool {
		switch r.key {
		case gossipOnline:
			online = r.str()
		case gossipOffline:
			offline = r.str()
		default:
			return false
		}
		return true
	})
	if err != nil {
		return e, customfields.Gossip{}, err
	}
	g, err := customfields.UnmarshalGossip(online, offline)
	return e, g, err
}

// result returns p, or nil with a non-nil err.
func result[T any](p *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}
