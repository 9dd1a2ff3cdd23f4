// Package avro is moleculer's Avro serializer (0.14; removed in 0.15).
// Importing it registers it under the name "Avro".
//
// A packet is the bare Avro binary body of one record: no object container,
// no single-object marker, no schema fingerprint. The schema is chosen by
// the packet type, which comes from the topic, never from the bytes; the
// schemas, which Schema returns, mirror the ones moleculer defines in
// src/serializers/avro.js. services, config, metadata, meta, error, online
// and offline travel as JSON text; params and data as bytes tagged with a
// data type (0 undefined, 1 null, 2 JSON, 3 Buffer), as in JS.
//
// The codec is written for these twelve schemas rather than built on a
// generic Avro library: it allocates little, and it never sizes an
// allocation by a count read from the wire (goavro v2.15.0 allocates an
// array of the length it reads, so a few bytes can make it ask for 32 GiB
// and kill the process). The tests check it byte for byte against
// github.com/linkedin/goavro/v2 and against moleculer's own serializer
// (avsc).
//
// Encoding writes what avsc writes for the payload JS would have: every
// union field JS has a value for (requestID, the timeout, a request's
// stream, a ping's id) as a value, and the ones JS has as null (tracing,
// parentID, caller, needAck, seq of a plain call, stream of a plain
// response, groups of a broadcast) as null. An EVENT's stream and seq,
// which JS never sets, are always null.
//
// Decoding follows avsc: a boolean byte other than 0 is true, a union
// branch other than 0 (null) and 1 (the value) is an error, and data after
// the record is an error ("trailing data"). Integers are checked against
// their type: an int must fit 32 bits. avsc itself refuses a long beyond
// ±9007199254740990 (a PING or PONG time) in both directions; Go encodes
// and decodes the whole int64 range.
package avro

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/serializers/internal/customfields"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

// Name is the serializer's registered name.
const Name = "Avro"

func init() { serializers.Register(Name, func() serializers.Serializer { return Serializer{} }) }

// Serializer encodes payloads as moleculer's Avro serializer does.
type Serializer struct{}

// Name returns "Avro".
func (Serializer) Name() string { return Name }

// Marshal encodes p.
func (Serializer) Marshal(p packets.Payload) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	switch x := p.(type) {
	case *packets.Event:
		b, err = appendEvent(x)
	case *packets.Request:
		b, err = appendRequest(x)
	case *packets.Response:
		b, err = appendResponse(x)
	case *packets.Discover:
		b = appendEnvelope(make([]byte, 0, envSize(&x.Envelope)), &x.Envelope)
	case *packets.Info:
		b, err = appendInfo(x)
	case *packets.Disconnect:
		b = appendEnvelope(make([]byte, 0, envSize(&x.Envelope)), &x.Envelope)
	case *packets.Heartbeat:
		b = appendEnvelope(make([]byte, 0, envSize(&x.Envelope)+8), &x.Envelope)
		b = appendDouble(b, x.CPU)
	case *packets.Ping:
		b = appendEnvelope(make([]byte, 0, envSize(&x.Envelope)+len(x.ID)+16), &x.Envelope)
		b = appendLong(b, x.Time)
		b = appendSome(b)
		b = appendString(b, x.ID)
	case *packets.Pong:
		b = appendEnvelope(make([]byte, 0, envSize(&x.Envelope)+len(x.ID)+26), &x.Envelope)
		b = appendLong(b, x.Time)
		b = appendLong(b, x.Arrived)
		b = appendSome(b)
		b = appendString(b, x.ID)
	case *packets.GossipHello:
		b, err = appendGossipHello(x)
	case *packets.GossipReq:
		b, err = appendGossip(&x.Envelope, customfields.Gossip{Online: x.Online, Offline: x.Offline})
	case *packets.GossipRes:
		b, err = appendGossip(&x.Envelope, customfields.Gossip{Online: x.Online, Offline: x.Offline})
	default:
		return nil, fmt.Errorf("avro: cannot encode payload type %T", p)
	}
	if err != nil {
		return nil, fmt.Errorf("avro: encode %s: %w", p.Type(), err)
	}
	return b, nil
}

// Unmarshal decodes a payload of type t. Params and data keep referring to
// data.
func (Serializer) Unmarshal(t protocol.PacketType, data []byte) (packets.Payload, error) {
	d := decoder{b: data}
	if len(data) > 0 {
		// strings are slices of data, as params and data are: a decoder
		// may keep references into the bytes it decodes
		d.text = unsafe.String(unsafe.SliceData(data), len(data))
	}
	var (
		p   packets.Payload
		err error
	)
	switch t {
	case protocol.Event:
		p, err = d.event()
	case protocol.Request:
		p, err = d.request()
	case protocol.Response:
		p, err = d.response()
	case protocol.Discover:
		x := new(packets.Discover)
		d.envelope(&x.Envelope)
		p = x
	case protocol.Info:
		p, err = d.info()
	case protocol.Disconnect:
		x := new(packets.Disconnect)
		d.envelope(&x.Envelope)
		p = x
	case protocol.Heartbeat:
		x := new(packets.Heartbeat)
		d.envelope(&x.Envelope)
		x.CPU = d.double()
		p = x
	case protocol.Ping:
		x := new(packets.Ping)
		d.envelope(&x.Envelope)
		x.Time = d.long()
		x.ID = d.optString()
		p = x
	case protocol.Pong:
		x := new(packets.Pong)
		d.envelope(&x.Envelope)
		x.Time = d.long()
		x.Arrived = d.long()
		x.ID = d.optString()
		p = x
	case protocol.GossipHello:
		x := new(packets.GossipHello)
		d.envelope(&x.Envelope)
		x.Host = d.string()
		x.Port = int(d.int())
		p = x
	case protocol.GossipReq:
		x := new(packets.GossipReq)
		d.envelope(&x.Envelope)
		var g customfields.Gossip
		g, err = d.gossip()
		x.Online, x.Offline = g.Online, g.Offline
		p = x
	case protocol.GossipRes:
		x := new(packets.GossipRes)
		d.envelope(&x.Envelope)
		var g customfields.Gossip
		g, err = d.gossip()
		x.Online, x.Offline = g.Online, g.Offline
		p = x
	default:
		return nil, fmt.Errorf("avro: unknown packet type %q", t)
	}
	if err == nil {
		err = d.finish()
	}
	if err != nil {
		return nil, fmt.Errorf("avro: decode %s: %w", t, err)
	}
	return p, nil
}

// ---------------------------------------------------------------- encoding

// Unions of the schemas are all [null, X]: branch 0 is null, branch 1 the
// value; the branch index is a zigzag long, so 1 is the byte 2.
func appendNull(b []byte) []byte { return append(b, 0) }
func appendSome(b []byte) []byte { return append(b, 2) }

func appendLong(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendDouble(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

func appendString(b []byte, s string) []byte {
	b = appendLong(b, int64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, s []byte) []byte {
	b = appendLong(b, int64(len(s)))
	return append(b, s...)
}

// appendOptString writes a [null, string] union: null for "".
func appendOptString(b []byte, s string) []byte {
	if s == "" {
		return appendNull(b)
	}
	return appendString(appendSome(b), s)
}

func appendOptBool(b []byte, v *bool) []byte {
	if v == nil {
		return appendNull(b)
	}
	return appendBool(appendSome(b), *v)
}

// appendOptBytes writes a [null, bytes] union: null for nil.
func appendOptBytes(b []byte, v []byte) []byte {
	if v == nil {
		return appendNull(b)
	}
	return appendBytes(appendSome(b), v)
}

func appendOptInt(b []byte, field string, v *int64) ([]byte, error) {
	if v == nil {
		return appendNull(b), nil
	}
	n, err := customfields.Int32(field, *v)
	if err != nil {
		return nil, err
	}
	return appendLong(appendSome(b), int64(n)), nil
}

func appendInt(b []byte, field string, v int64) ([]byte, error) {
	n, err := customfields.Int32(field, v)
	if err != nil {
		return nil, err
	}
	return appendLong(b, int64(n)), nil
}

func envSize(e *packets.Envelope) int { return len(e.Ver) + len(e.Sender) + 4 }

func appendEnvelope(b []byte, e *packets.Envelope) []byte {
	return appendString(appendString(b, e.Ver), e.Sender)
}

// appendJSON writes a bytes value whose content, JSON text, write appends:
// in place, after a one-byte length that is widened when the text needs a
// longer one.
func appendJSON(b []byte, write func([]byte) ([]byte, error)) ([]byte, error) {
	at := len(b)
	b = append(b, 0)
	b, err := write(b)
	if err != nil {
		return nil, err
	}
	n := len(b) - at - 1
	var buf [10]byte
	length := appendLong(buf[:0], int64(n))
	if len(length) > 1 {
		b = append(b, length[1:]...)
		copy(b[at+len(length):], b[at+1:at+1+n])
	}
	copy(b[at:], length)
	return b, nil
}

// appendValue writes params or data, a [null, bytes] union, and its data
// type.
func appendValue(b []byte, v packets.Value) ([]byte, error) {
	typ, direct, goVal, err := customfields.Classify(v)
	if err != nil {
		return nil, err
	}
	switch {
	case goVal != nil:
		b, err = appendJSON(appendSome(b), func(b []byte) ([]byte, error) { return jsonlike.AppendAny(b, goVal) })
		if err != nil {
			return nil, err
		}
	case direct != nil:
		b = appendBytes(appendSome(b), direct)
	default:
		b = appendNull(b)
	}
	return appendLong(b, int64(typ)), nil
}

// appendObject writes meta, config or metadata as JSON text, {} when empty.
func appendObject(b []byte, m map[string]any) ([]byte, error) {
	if len(m) == 0 {
		return appendString(b, "{}"), nil
	}
	return appendJSON(b, func(b []byte) ([]byte, error) { return jsonlike.AppendObject(b, m) })
}

// appendMeta writes a context's meta as JSON text.
func appendMeta(b []byte, m packets.Value) ([]byte, error) {
	return appendJSON(b, func(b []byte) ([]byte, error) { return customfields.AppendMeta(b, m) })
}

func appendEvent(p *packets.Event) ([]byte, error) {
	size := envSize(&p.Envelope) + len(p.ID) + len(p.Event) + len(p.ParentID) +
		len(p.RequestID) + len(p.Caller) + 128
	for _, g := range p.Groups {
		size += len(g) + 2
	}
	b := appendEnvelope(make([]byte, 0, size), &p.Envelope)
	b = appendString(b, p.ID)
	b = appendString(b, p.Event)
	b, err := appendValue(b, p.Data)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if len(p.Groups) == 0 {
		b = appendNull(b)
	} else {
		b = appendSome(b)
		b = appendLong(b, int64(len(p.Groups)))
		for _, g := range p.Groups {
			b = appendString(b, g)
		}
		b = appendLong(b, 0)
	}
	b = appendBool(b, p.Broadcast)
	if b, err = appendMeta(b, p.Meta); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	if b, err = appendInt(b, "level", int64(p.Level)); err != nil {
		return nil, err
	}
	b = appendOptBool(b, p.Tracing)
	b = appendOptString(b, string(p.ParentID))
	b = appendString(appendSome(b), p.RequestID)
	b = appendNull(b) // stream: JS never sets it on events
	b = appendNull(b) // seq, likewise
	b = appendOptString(b, string(p.Caller))
	return appendOptBool(b, p.NeedAck), nil
}

func appendRequest(p *packets.Request) ([]byte, error) {
	size := envSize(&p.Envelope) + len(p.ID) + len(p.Action) + len(p.ParentID) +
		len(p.RequestID) + len(p.Caller) + 160
	b := appendEnvelope(make([]byte, 0, size), &p.Envelope)
	b = appendString(b, p.ID)
	b = appendString(b, p.Action)
	b, err := appendValue(b, p.Params)
	if err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if b, err = appendMeta(b, p.Meta); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	b = appendDouble(appendSome(b), p.Timeout)
	if b, err = appendInt(b, "level", int64(p.Level)); err != nil {
		return nil, err
	}
	b = appendOptBool(b, p.Tracing)
	b = appendOptString(b, string(p.ParentID))
	b = appendString(appendSome(b), p.RequestID)
	b = appendBool(appendSome(b), p.Stream)
	if b, err = appendOptInt(b, "seq", p.Seq); err != nil {
		return nil, err
	}
	return appendOptString(b, string(p.Caller)), nil
}

func appendResponse(p *packets.Response) ([]byte, error) {
	perr, err := customfields.MarshalError(p.Error)
	if err != nil {
		return nil, err
	}
	size := envSize(&p.Envelope) + len(p.ID) + len(perr) + 128
	b := appendEnvelope(make([]byte, 0, size), &p.Envelope)
	b = appendString(b, p.ID)
	b = appendBool(b, p.Success)
	if b, err = appendValue(b, p.Data); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	b = appendOptBytes(b, perr)
	if b, err = appendMeta(b, p.Meta); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	b = appendOptBool(b, p.Stream)
	return appendOptInt(b, "seq", p.Seq)
}

func appendInfo(p *packets.Info) ([]byte, error) {
	b := appendEnvelope(make([]byte, 0, 4096), &p.Envelope)
	b, err := appendJSON(b, func(b []byte) ([]byte, error) {
		if len(p.Services) == 0 {
			return append(b, "[]"...), nil
		}
		return jsonlike.AppendServices(b, p.Services)
	})
	if err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	if b, err = appendObject(b, p.Config); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(p.IPList) > 0 {
		b = appendLong(b, int64(len(p.IPList)))
		for _, ip := range p.IPList {
			b = appendString(b, ip)
		}
	}
	b = appendLong(b, 0)
	b = appendString(b, p.Hostname)
	b = appendString(b, p.Client.Type)
	b = appendString(b, p.Client.Version)
	b = appendString(b, p.Client.LangVersion)
	if b, err = appendInt(b, "seq", p.Seq); err != nil {
		return nil, err
	}
	b = appendString(b, p.InstanceID)
	if b, err = appendObject(b, p.Metadata); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return b, nil
}

func appendGossipHello(p *packets.GossipHello) ([]byte, error) {
	b := appendEnvelope(make([]byte, 0, envSize(&p.Envelope)+len(p.Host)+8), &p.Envelope)
	b = appendString(b, p.Host)
	return appendInt(b, "port", int64(p.Port))
}

func appendGossip(e *packets.Envelope, g customfields.Gossip) ([]byte, error) {
	online, offline, err := customfields.MarshalGossip(g)
	if err != nil {
		return nil, err
	}
	b := appendEnvelope(make([]byte, 0, envSize(e)+len(online)+len(offline)+8), e)
	b = appendOptBytes(b, online)
	return appendOptBytes(b, offline), nil
}

// ---------------------------------------------------------------- decoding

var (
	errTruncated = errors.New("truncated buffer")
	errTrailing  = errors.New("trailing data")
)

// decoder reads Avro binary values from b. The first error sticks: after
// it every read returns a zero value, and finish reports it.
type decoder struct {
	b   []byte
	pos int
	err error
	// text is b as a string: the decoded strings are slices of it.
	text string
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at offset %d", err, d.pos)
	}
}

func (d *decoder) finish() error {
	if d.err == nil && d.pos != len(d.b) {
		d.fail(errTrailing)
	}
	return d.err
}

// long reads a zigzag varint of at most 10 bytes.
func (d *decoder) long() int64 {
	var u uint64
	for shift := uint(0); ; shift += 7 {
		if d.err != nil {
			return 0
		}
		if d.pos >= len(d.b) {
			d.fail(errTruncated)
			return 0
		}
		c := d.b[d.pos]
		d.pos++
		if shift == 63 && c > 1 {
			d.fail(errors.New("long overflows 64 bits"))
			return 0
		}
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1)
		}
	}
}

func (d *decoder) int() int32 {
	v := d.long()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail(fmt.Errorf("int %d out of range", v))
		return 0
	}
	return int32(v)
}

// boolean reads a boolean byte; as in avsc, any byte but 0 is true.
func (d *decoder) boolean() bool {
	if d.err != nil {
		return false
	}
	if d.pos >= len(d.b) {
		d.fail(errTruncated)
		return false
	}
	d.pos++
	return d.b[d.pos-1] != 0
}

func (d *decoder) double() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.pos < 8 {
		d.fail(errTruncated)
		return 0
	}
	d.pos += 8
	return math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.pos-8:]))
}

// bytes reads a bytes value; the result refers to the input, and is not
// nil even when empty.
func (d *decoder) bytes() []byte {
	n := d.long()
	if d.err != nil {
		return nil
	}
	if n < 0 {
		d.fail(fmt.Errorf("negative length %d", n))
		return nil
	}
	if n > int64(len(d.b)-d.pos) {
		d.fail(errTruncated)
		return nil
	}
	s := d.b[d.pos : d.pos+int(n) : d.pos+int(n)]
	d.pos += int(n)
	return s
}

func (d *decoder) string() string {
	b := d.bytes()
	if d.text != "" && d.err == nil {
		return d.text[d.pos-len(b) : d.pos]
	}
	return string(b)
}

var trueVal, falseVal = true, false

// union reads the branch of a [null, X] union: false for null.
func (d *decoder) union() bool {
	switch i := d.long(); i {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail(fmt.Errorf("invalid union index %d", i))
		return false
	}
}

func (d *decoder) optString() string {
	if d.union() {
		return d.string()
	}
	return ""
}

func (d *decoder) optBytes() []byte {
	if d.union() {
		return d.bytes()
	}
	return nil
}

func (d *decoder) optBool() *bool {
	if d.union() {
		if d.boolean() {
			return &trueVal
		}
		return &falseVal
	}
	return nil
}

func (d *decoder) optInt() *int64 {
	if d.union() {
		v := int64(d.int())
		return &v
	}
	return nil
}

// strings reads an array of strings. Block counts are checked against the
// bytes left (every item takes at least one), never trusted to size an
// allocation.
func (d *decoder) strings() []string {
	out := []string{}
	for d.err == nil {
		n := d.long()
		if n == 0 {
			break
		}
		if n < 0 { // a negative count is followed by the block's size in bytes
			n = -n
			d.long()
		}
		if n < 0 || n > int64(len(d.b)-d.pos) {
			d.fail(fmt.Errorf("invalid array block count %d", n))
			break
		}
		for ; n > 0 && d.err == nil; n-- {
			out = append(out, d.string())
		}
	}
	if d.err != nil {
		return nil
	}
	return out
}

func (d *decoder) envelope(e *packets.Envelope) {
	e.Ver = d.string()
	e.Sender = d.string()
}

func (d *decoder) event() (*packets.Event, error) {
	p := new(packets.Event)
	d.envelope(&p.Envelope)
	p.ID = d.string()
	p.Event = d.string()
	data := d.optBytes()
	typ := d.int()
	if d.union() {
		if g := d.strings(); len(g) > 0 {
			p.Groups = g
		}
	}
	p.Broadcast = d.boolean()
	meta := d.bytes()
	p.Level = int(d.int())
	p.Tracing = d.optBool()
	p.ParentID = packets.NullString(d.optString())
	p.RequestID = d.optString()
	d.optBool() // stream and seq: JS never sets them on events
	d.optInt()
	p.Caller = packets.NullString(d.optString())
	p.NeedAck = d.optBool()
	if d.err != nil {
		return nil, d.err
	}
	var err error
	if p.Data, err = customfields.ToValue(typ, data); err != nil {
		return nil, err
	}
	if p.Meta, err = customfields.UnmarshalMeta(meta); err != nil {
		return nil, err
	}
	return p, nil
}

func (d *decoder) request() (*packets.Request, error) {
	p := new(packets.Request)
	d.envelope(&p.Envelope)
	p.ID = d.string()
	p.Action = d.string()
	params := d.optBytes()
	typ := d.int()
	meta := d.bytes()
	if d.union() {
		p.Timeout = d.double()
	}
	p.Level = int(d.int())
	p.Tracing = d.optBool()
	p.ParentID = packets.NullString(d.optString())
	p.RequestID = d.optString()
	if stream := d.optBool(); stream != nil {
		p.Stream = *stream
	}
	p.Seq = d.optInt()
	p.Caller = packets.NullString(d.optString())
	if d.err != nil {
		return nil, d.err
	}
	var err error
	if p.Params, err = customfields.ToValue(typ, params); err != nil {
		return nil, err
	}
	if p.Meta, err = customfields.UnmarshalMeta(meta); err != nil {
		return nil, err
	}
	return p, nil
}

func (d *decoder) response() (*packets.Response, error) {
	p := new(packets.Response)
	d.envelope(&p.Envelope)
	p.ID = d.string()
	p.Success = d.boolean()
	data := d.optBytes()
	typ := d.int()
	perr := d.optBytes()
	meta := d.bytes()
	p.Stream = d.optBool()
	p.Seq = d.optInt()
	if d.err != nil {
		return nil, d.err
	}
	var err error
	if p.Data, err = customfields.ToValue(typ, data); err != nil {
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

func (d *decoder) info() (*packets.Info, error) {
	p := new(packets.Info)
	d.envelope(&p.Envelope)
	services := d.string()
	config := d.string()
	p.IPList = d.strings()
	p.Hostname = d.string()
	p.Client.Type = d.string()
	p.Client.Version = d.string()
	p.Client.LangVersion = d.string()
	p.Seq = int64(d.int())
	p.InstanceID = d.string()
	metadata := d.string()
	if d.err != nil {
		return nil, d.err
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

func (d *decoder) gossip() (customfields.Gossip, error) {
	online := d.optBytes()
	offline := d.optBytes()
	if d.err != nil {
		return customfields.Gossip{}, d.err
	}
	return customfields.UnmarshalGossip(online, offline)
}
