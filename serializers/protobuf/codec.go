package protobuf

import (
	"fmt"
	"math"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/serializers/internal/customfields"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

// REQ, RES, EVENT and INFO, the packets of every call and of discovery,
// are written and read here directly in the Protocol Buffers wire format,
// rather than through the generated message types: those hold every
// optional field behind its own pointer, one allocation per field. The
// result is what proto.Marshal and proto.Unmarshal of the generated types
// give (the tests compare both on every payload and on fuzzed input):
// fields in field-number order, unknown fields and known fields of another
// wire type skipped, the last of repeated scalar fields winning, repeated
// occurrences of the client message merged.

// Field numbers of the messages in packets.proto.
const (
	fVer    = 1
	fSender = 2

	reqID, reqAction, reqParams, reqParamsType, reqMeta, reqTimeout, reqLevel, reqTracing,
	reqParentID, reqRequestID, reqStream, reqSeq, reqCaller = 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15

	resID, resSuccess, resData, resDataType, resError, resMeta, resStream, resSeq = 3, 4, 5, 6, 7, 8, 9, 10

	evID, evEvent, evData, evDataType, evGroups, evBroadcast, evMeta, evLevel, evTracing, evParentID,
	evRequestID, evStream, evSeq, evCaller, evNeedAck = 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17

	infoServices, infoConfig, infoIPList, infoHostname, infoClient, infoSeq, infoInstanceID, infoMetadata = 3, 4, 5, 6, 7, 8, 9, 10

	clientType, clientVersion, clientLangVersion = 1, 2, 3
)

// ---------------------------------------------------------------- encoding

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendOptString(b []byte, num protowire.Number, s packets.NullString) []byte {
	if s == "" {
		return b
	}
	return appendString(b, num, string(s))
}

func appendBool(b []byte, num protowire.Number, v bool) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeBool(v))
}

func appendOptBool(b []byte, num protowire.Number, v *bool) []byte {
	if v == nil {
		return b
	}
	return appendBool(b, num, *v)
}

// appendInt32 writes an int32 field: a negative number takes ten bytes, as
// in every protobuf implementation.
func appendInt32(b []byte, num protowire.Number, v int32) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(int64(v)))
}

func appendCheckedInt32(b []byte, num protowire.Number, field string, v int64) ([]byte, error) {
	n, err := customfields.Int32(field, v)
	if err != nil {
		return nil, err
	}
	return appendInt32(b, num, n), nil
}

// appendDelimited writes a length-delimited field whose content write
// appends, without an intermediate buffer: the content is written after a
// one-byte length, moved when the length needs more bytes.
func appendDelimited(b []byte, num protowire.Number, write func([]byte) ([]byte, error)) ([]byte, error) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	at := len(b)
	b = append(b, 0)
	b, err := write(b)
	if err != nil {
		return nil, err
	}
	n := len(b) - at - 1
	size := protowire.SizeVarint(uint64(n))
	if size > 1 {
		b = append(b, make([]byte, size-1)...)
		copy(b[at+size:], b[at+1:at+1+n])
	}
	protowire.AppendVarint(b[at:at], uint64(n))
	return b, nil
}

// appendValue writes params or data (when they have bytes) and their data
// type.
func appendValue(b []byte, num, typeNum protowire.Number, v packets.Value) ([]byte, error) {
	typ, direct, goVal, err := customfields.Classify(v)
	if err != nil {
		return nil, err
	}
	switch {
	case goVal != nil:
		b, err = appendDelimited(b, num, func(b []byte) ([]byte, error) { return jsonlike.AppendAny(b, goVal) })
		if err != nil {
			return nil, err
		}
	case direct != nil:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendBytes(b, direct)
	}
	return appendInt32(b, typeNum, typ), nil
}

// appendObject writes INFO's config or metadata as JSON text, {} when empty.
func appendObject(b []byte, num protowire.Number, m map[string]any) ([]byte, error) {
	if len(m) == 0 {
		return appendString(b, num, "{}"), nil
	}
	return appendDelimited(b, num, func(b []byte) ([]byte, error) { return jsonlike.AppendObject(b, m) })
}

// appendMeta writes a context's meta as JSON text.
func appendMeta(b []byte, num protowire.Number, m packets.Value) ([]byte, error) {
	return appendDelimited(b, num, func(b []byte) ([]byte, error) { return customfields.AppendMeta(b, m) })
}

func appendEnvelope(b []byte, e *packets.Envelope) []byte {
	return appendString(appendString(b, fVer, e.Ver), fSender, e.Sender)
}

func envSize(e *packets.Envelope) int { return len(e.Ver) + len(e.Sender) + 4 }

func marshalRequest(p *packets.Request) ([]byte, error) {
	b := make([]byte, 0, envSize(&p.Envelope)+len(p.ID)+len(p.Action)+len(p.ParentID)+len(p.RequestID)+len(p.Caller)+160)
	b = appendEnvelope(b, &p.Envelope)
	b = appendString(b, reqID, p.ID)
	b = appendString(b, reqAction, p.Action)
	b, err := appendValue(b, reqParams, reqParamsType, p.Params)
	if err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if b, err = appendMeta(b, reqMeta, p.Meta); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	b = protowire.AppendTag(b, reqTimeout, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(p.Timeout))
	if b, err = appendCheckedInt32(b, reqLevel, "level", int64(p.Level)); err != nil {
		return nil, err
	}
	b = appendOptBool(b, reqTracing, p.Tracing)
	b = appendOptString(b, reqParentID, p.ParentID)
	b = appendString(b, reqRequestID, p.RequestID)
	b = appendBool(b, reqStream, p.Stream)
	if p.Seq != nil {
		if b, err = appendCheckedInt32(b, reqSeq, "seq", *p.Seq); err != nil {
			return nil, err
		}
	}
	return appendOptString(b, reqCaller, p.Caller), nil
}

func marshalResponse(p *packets.Response) ([]byte, error) {
	b := make([]byte, 0, envSize(&p.Envelope)+len(p.ID)+128)
	b = appendEnvelope(b, &p.Envelope)
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
		b = protowire.AppendTag(b, resError, protowire.BytesType)
		b = protowire.AppendBytes(b, perr)
	}
	if b, err = appendMeta(b, resMeta, p.Meta); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	b = appendOptBool(b, resStream, p.Stream)
	if p.Seq != nil {
		if b, err = appendCheckedInt32(b, resSeq, "seq", *p.Seq); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func marshalEvent(p *packets.Event) ([]byte, error) {
	size := envSize(&p.Envelope) + len(p.ID) + len(p.Event) + len(p.ParentID) + len(p.RequestID) + len(p.Caller) + 128
	for _, g := range p.Groups {
		size += len(g) + 2
	}
	b := appendEnvelope(make([]byte, 0, size), &p.Envelope)
	b = appendString(b, evID, p.ID)
	b = appendString(b, evEvent, p.Event)
	b, err := appendValue(b, evData, evDataType, p.Data)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	for _, g := range p.Groups {
		b = appendString(b, evGroups, g)
	}
	b = appendBool(b, evBroadcast, p.Broadcast)
	if b, err = appendMeta(b, evMeta, p.Meta); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	if b, err = appendCheckedInt32(b, evLevel, "level", int64(p.Level)); err != nil {
		return nil, err
	}
	b = appendOptBool(b, evTracing, p.Tracing)
	b = appendOptString(b, evParentID, p.ParentID)
	b = appendString(b, evRequestID, p.RequestID)
	b = appendOptString(b, evCaller, p.Caller)
	return appendOptBool(b, evNeedAck, p.NeedAck), nil
}

func marshalInfo(p *packets.Info) ([]byte, error) {
	b := appendEnvelope(make([]byte, 0, 4096), &p.Envelope)
	b, err := appendDelimited(b, infoServices, func(b []byte) ([]byte, error) {
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
	for _, ip := range p.IPList {
		b = appendString(b, infoIPList, ip)
	}
	b = appendString(b, infoHostname, p.Hostname)
	b, _ = appendDelimited(b, infoClient, func(b []byte) ([]byte, error) {
		b = appendString(b, clientType, p.Client.Type)
		b = appendString(b, clientVersion, p.Client.Version)
		return appendString(b, clientLangVersion, p.Client.LangVersion), nil
	})
	if b, err = appendCheckedInt32(b, infoSeq, "seq", p.Seq); err != nil {
		return nil, err
	}
	b = appendString(b, infoInstanceID, p.InstanceID)
	if b, err = appendObject(b, infoMetadata, p.Metadata); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return b, nil
}

// ---------------------------------------------------------------- decoding

// reader reads the fields of one message.
type reader struct {
	b    []byte // the message
	pos  int
	text string // b as a string, or ""
	// the current field
	num protowire.Number
	typ protowire.Type
	val []byte // a length-delimited field's content
	u   uint64 // a varint or fixed64 field's value
}

// newReader returns a reader of b whose strings are slices of b itself, as
// params and data are: a decoder may keep references into the bytes it
// decodes, which nobody changes afterwards (serializers.Serializer).
func newReader(b []byte) reader {
	r := reader{b: b}
	if len(b) > 0 {
		r.text = unsafe.String(unsafe.SliceData(b), len(b))
	}
	return r
}

// next reads the next field, reporting false at the end of the message.
// Fields of a wire type other than varint, fixed64 and length-delimited
// are skipped; the caller skips known fields of the wrong wire type with
// skip.
func (r *reader) next() (bool, error) {
	for r.pos < len(r.b) {
		num, typ, n := protowire.ConsumeTag(r.b[r.pos:])
		if n < 0 {
			return false, protowire.ParseError(n)
		}
		r.pos += n
		r.num, r.typ = num, typ
		switch typ {
		case protowire.VarintType:
			r.u, n = protowire.ConsumeVarint(r.b[r.pos:])
		case protowire.Fixed64Type:
			r.u, n = protowire.ConsumeFixed64(r.b[r.pos:])
		case protowire.BytesType:
			r.val, n = protowire.ConsumeBytes(r.b[r.pos:])
		default:
			n = protowire.ConsumeFieldValue(num, typ, r.b[r.pos:])
			if n < 0 {
				return false, protowire.ParseError(n)
			}
			r.pos += n
			continue
		}
		if n < 0 {
			return false, protowire.ParseError(n)
		}
		r.pos += n
		return true, nil
	}
	return false, nil
}

// str returns the current length-delimited field as a string.
func (r *reader) str() string {
	if r.text != "" {
		end := r.pos // the field's content ends where the reader is
		return r.text[end-len(r.val) : end]
	}
	return string(r.val)
}

// bytes returns the current length-delimited field's content, never nil.
func (r *reader) bytes() []byte {
	if r.val == nil {
		return []byte{}
	}
	return r.val
}

var trueVal, falseVal = true, false

func (r *reader) boolPtr() *bool {
	if r.u != 0 {
		return &trueVal
	}
	return &falseVal
}

func (r *reader) int64Ptr() *int64 {
	n := int64(int32(r.u))
	return &n
}

// is reports whether the current field is num with wire type typ.
func (r *reader) is(typ protowire.Type) bool { return r.typ == typ }

func unmarshalRequest(data []byte) (*packets.Request, error) {
	p := new(packets.Request)
	r := newReader(data)
	var (
		params    []byte
		paramsTyp int32
		meta      []byte
	)
	for {
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		bytesField, varint := r.is(protowire.BytesType), r.is(protowire.VarintType)
		switch {
		case r.num == fVer && bytesField:
			p.Ver = r.str()
		case r.num == fSender && bytesField:
			p.Sender = r.str()
		case r.num == reqID && bytesField:
			p.ID = r.str()
		case r.num == reqAction && bytesField:
			p.Action = r.str()
		case r.num == reqParams && bytesField:
			params = r.bytes()
		case r.num == reqParamsType && varint:
			paramsTyp = int32(r.u)
		case r.num == reqMeta && bytesField:
			meta = r.bytes()
		case r.num == reqTimeout && r.is(protowire.Fixed64Type):
			p.Timeout = math.Float64frombits(r.u)
		case r.num == reqLevel && varint:
			p.Level = int(int32(r.u))
		case r.num == reqTracing && varint:
			p.Tracing = r.boolPtr()
		case r.num == reqParentID && bytesField:
			p.ParentID = packets.NullString(r.str())
		case r.num == reqRequestID && bytesField:
			p.RequestID = r.str()
		case r.num == reqStream && varint:
			p.Stream = r.u != 0
		case r.num == reqSeq && varint:
			p.Seq = r.int64Ptr()
		case r.num == reqCaller && bytesField:
			p.Caller = packets.NullString(r.str())
		}
	}
	var err error
	if p.Params, err = customfields.ToValue(paramsTyp, params); err != nil {
		return nil, err
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
		meta    []byte
		perr    string
	)
	for {
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		bytesField, varint := r.is(protowire.BytesType), r.is(protowire.VarintType)
		switch {
		case r.num == fVer && bytesField:
			p.Ver = r.str()
		case r.num == fSender && bytesField:
			p.Sender = r.str()
		case r.num == resID && bytesField:
			p.ID = r.str()
		case r.num == resSuccess && varint:
			p.Success = r.u != 0
		case r.num == resData && bytesField:
			d = r.bytes()
		case r.num == resDataType && varint:
			dataTyp = int32(r.u)
		case r.num == resError && bytesField:
			perr = r.str()
		case r.num == resMeta && bytesField:
			meta = r.bytes()
		case r.num == resStream && varint:
			p.Stream = r.boolPtr()
		case r.num == resSeq && varint:
			p.Seq = r.int64Ptr()
		}
	}
	var err error
	if p.Data, err = customfields.ToValue(dataTyp, d); err != nil {
		return nil, err
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
	for {
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		bytesField, varint := r.is(protowire.BytesType), r.is(protowire.VarintType)
		switch {
		case r.num == fVer && bytesField:
			p.Ver = r.str()
		case r.num == fSender && bytesField:
			p.Sender = r.str()
		case r.num == evID && bytesField:
			p.ID = r.str()
		case r.num == evEvent && bytesField:
			p.Event = r.str()
		case r.num == evData && bytesField:
			d = r.bytes()
		case r.num == evDataType && varint:
			dataTyp = int32(r.u)
		case r.num == evGroups && bytesField:
			if p.Groups == nil {
				p.Groups = make([]string, 0, 2)
			}
			p.Groups = append(p.Groups, r.str())
		case r.num == evBroadcast && varint:
			p.Broadcast = r.u != 0
		case r.num == evMeta && bytesField:
			meta = r.bytes()
		case r.num == evLevel && varint:
			p.Level = int(int32(r.u))
		case r.num == evTracing && varint:
			p.Tracing = r.boolPtr()
		case r.num == evParentID && bytesField:
			p.ParentID = packets.NullString(r.str())
		case r.num == evRequestID && bytesField:
			p.RequestID = r.str()
		case r.num == evCaller && bytesField:
			p.Caller = packets.NullString(r.str())
		case r.num == evNeedAck && varint:
			p.NeedAck = r.boolPtr()
		}
	}
	var err error
	if p.Data, err = customfields.ToValue(dataTyp, d); err != nil {
		return nil, err
	}
	if p.Meta, err = customfields.UnmarshalMeta(meta); err != nil {
		return nil, err
	}
	return p, nil
}

// unmarshalInfo reads INFO; all of it is kept, so the whole message becomes
// one string.
func unmarshalInfo(data []byte) (*packets.Info, error) {
	p := &packets.Info{IPList: []string{}}
	r := newReader(data)
	var services, config, metadata string
	for {
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		bytesField := r.is(protowire.BytesType)
		switch {
		case r.num == fVer && bytesField:
			p.Ver = r.str()
		case r.num == fSender && bytesField:
			p.Sender = r.str()
		case r.num == infoServices && bytesField:
			services = r.str()
		case r.num == infoConfig && bytesField:
			config = r.str()
		case r.num == infoIPList && bytesField:
			p.IPList = append(p.IPList, r.str())
		case r.num == infoHostname && bytesField:
			p.Hostname = r.str()
		case r.num == infoClient && bytesField:
			if err := r.client(&p.Client); err != nil {
				return nil, err
			}
		case r.num == infoSeq && r.is(protowire.VarintType):
			p.Seq = int64(int32(r.u))
		case r.num == infoInstanceID && bytesField:
			p.InstanceID = r.str()
		case r.num == infoMetadata && bytesField:
			metadata = r.str()
		}
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

// client reads the client message in the current field into c, over what
// an earlier occurrence left there (protobuf merges repeated messages).
func (r *reader) client(c *packets.ClientInfo) error {
	sub := reader{b: r.val}
	if r.text != "" {
		start := r.pos - len(r.val)
		sub.text = r.text[start:r.pos]
	}
	for {
		ok, err := sub.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if !sub.is(protowire.BytesType) {
			continue
		}
		switch sub.num {
		case clientType:
			c.Type = sub.str()
		case clientVersion:
			c.Version = sub.str()
		case clientLangVersion:
			c.LangVersion = sub.str()
		}
	}
}
