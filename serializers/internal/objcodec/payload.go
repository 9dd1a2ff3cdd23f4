package objcodec

import (
	"fmt"
	"math"
	"reflect"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

// Marshal encodes a payload as one map with the JSON serializer's field
// names. Undefined values are left out, except in CBOR, where JS writes the
// fields its packets always have (params; data; an event's groups) with
// the undefined value.
func Marshal(f Format, p packets.Payload) ([]byte, error) {
	w := writer{f: f}
	var err error
	switch x := p.(type) {
	case *packets.Request:
		w.b = make([]byte, 0, 256)
		err = w.request(x)
	case *packets.Response:
		w.b = make([]byte, 0, 160)
		err = w.response(x)
	case *packets.Event:
		w.b = make([]byte, 0, 256)
		err = w.event(x)
	case *packets.Info:
		w.b = make([]byte, 0, 2048)
		err = w.info(x)
	default:
		rv := reflect.ValueOf(p)
		if rv.Kind() != reflect.Pointer || rv.IsNil() {
			return nil, fmt.Errorf("cannot encode a %T payload", p)
		}
		w.b = make([]byte, 0, 128)
		err = w.reflectStruct(rv.Elem(), 0)
	}
	if err != nil {
		return nil, err
	}
	return w.b, nil
}

func (w *writer) request(p *packets.Request) error {
	hasParams := w.f == CBOR || !p.Params.IsUndefined()
	n := 12
	if hasParams {
		n++
	}
	if p.Seq != nil {
		n++
	}
	w.mapHeader(n)
	w.key("id")
	w.str(p.ID)
	w.key("action")
	w.str(p.Action)
	if hasParams {
		w.key("params")
		if err := w.value(p.Params, 0); err != nil {
			return fmt.Errorf("params: %w", err)
		}
	}
	w.key("meta")
	if err := w.meta(p.Meta); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	w.key("timeout")
	w.number(p.Timeout)
	w.key("level")
	w.int(int64(p.Level))
	w.key("tracing")
	w.boolPtr(p.Tracing)
	w.key("parentID")
	w.nullString(p.ParentID)
	w.key("requestID")
	w.str(p.RequestID)
	w.key("caller")
	w.nullString(p.Caller)
	w.key("stream")
	w.boolean(p.Stream)
	if p.Seq != nil {
		w.key("seq")
		w.int(*p.Seq)
	}
	w.envelope(&p.Envelope)
	return nil
}

func (w *writer) response(p *packets.Response) error {
	hasData := w.f == CBOR || !p.Data.IsUndefined()
	n := 5
	for _, present := range []bool{hasData, p.Error != nil, p.Stream != nil, p.Seq != nil} {
		if present {
			n++
		}
	}
	w.mapHeader(n)
	w.key("id")
	w.str(p.ID)
	w.key("meta")
	if err := w.meta(p.Meta); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	w.key("success")
	w.boolean(p.Success)
	if hasData {
		w.key("data")
		if err := w.value(p.Data, 0); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	}
	if p.Error != nil {
		w.key("error")
		if err := w.reflectStruct(reflect.ValueOf(p.Error).Elem(), 0); err != nil {
			return fmt.Errorf("error: %w", err)
		}
	}
	if p.Stream != nil {
		w.key("stream")
		w.boolean(*p.Stream)
	}
	if p.Seq != nil {
		w.key("seq")
		w.int(*p.Seq)
	}
	w.envelope(&p.Envelope)
	return nil
}

func (w *writer) event(p *packets.Event) error {
	hasData := w.f == CBOR || !p.Data.IsUndefined()
	hasGroups := w.f == CBOR || len(p.Groups) > 0
	n := 12
	if hasData {
		n++
	}
	if hasGroups {
		n++
	}
	w.mapHeader(n)
	w.key("id")
	w.str(p.ID)
	w.key("event")
	w.str(p.Event)
	if hasData {
		w.key("data")
		if err := w.value(p.Data, 0); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	}
	if hasGroups {
		w.key("groups")
		if len(p.Groups) == 0 {
			w.undefined()
		} else {
			w.arrayHeader(len(p.Groups))
			for _, g := range p.Groups {
				w.str(g)
			}
		}
	}
	w.key("broadcast")
	w.boolean(p.Broadcast)
	w.key("meta")
	if err := w.meta(p.Meta); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	w.key("level")
	w.int(int64(p.Level))
	w.key("tracing")
	w.boolPtr(p.Tracing)
	w.key("parentID")
	w.nullString(p.ParentID)
	w.key("requestID")
	w.str(p.RequestID)
	w.key("caller")
	w.nullString(p.Caller)
	w.key("needAck")
	w.boolPtr(p.NeedAck)
	w.envelope(&p.Envelope)
	return nil
}

func (w *writer) envelope(e *packets.Envelope) {
	w.key("ver")
	w.str(e.Ver)
	w.key("sender")
	w.str(e.Sender)
}

func (w *writer) boolPtr(b *bool) {
	if b == nil {
		w.null()
	} else {
		w.boolean(*b)
	}
}

func (w *writer) nullString(s packets.NullString) {
	if s == "" {
		w.null()
	} else {
		w.str(string(s))
	}
}

// Unmarshal decodes a payload of type t. Params and data stay sub-slices of
// data, held with codec.
func Unmarshal(f Format, t protocol.PacketType, data []byte) (packets.Payload, error) {
	r := reader{f: f, d: data}
	r.shareText()
	var (
		p   packets.Payload
		err error
	)
	switch t {
	case protocol.Request:
		p, err = r.request()
	case protocol.Response:
		p, err = r.response()
	case protocol.Event:
		p, err = r.event()
	case protocol.Info:
		p, err = r.info()
	default:
		p, err = r.generic(t)
	}
	if err != nil {
		return nil, err
	}
	// msgpack5 stops after the first value; notepack.io and cbor-x refuse
	// bytes after it.
	if f != MsgPack && r.p != len(data) {
		return nil, fmt.Errorf("%d bytes after the payload", len(data)-r.p)
	}
	return p, nil
}

// generic decodes the packets that are not on the call path: the whole map
// into JSON-like data, then into the payload struct.
func (r *reader) generic(t protocol.PacketType) (packets.Payload, error) {
	p, err := packets.New(t)
	if err != nil {
		return nil, err
	}
	v, err := r.value(0, true)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("payload is %s, not a map", describe(v))
	}
	if err := assign(reflect.ValueOf(p).Elem(), v); err != nil {
		return nil, err
	}
	return p, nil
}

// object reads the payload map, calling field for each key; field must
// read the key's value.
func (r *reader) object(field func(key []byte) error) error {
	n, err := r.payloadMap()
	if err != nil {
		return err
	}
	for r.more(&n) {
		key, err := r.fieldName()
		if err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
	}
	return nil
}

// payloadMap reads the head of the payload map and returns its number of
// entries, -1 for a CBOR map of indefinite length.
func (r *reader) payloadMap() (int, error) {
	if h := r.peek(); h.kind == hMap {
		return r.count(h, kMap)
	}
	it, err := r.next()
	if err != nil {
		return 0, err
	}
	if it.k != kMap {
		return 0, fmt.Errorf("payload is %s, not a map", it.k)
	}
	return it.l, nil
}

// fieldName reads the key of a payload field. The key is a sub-slice of
// the input, unless it is not a string: then it is what JS makes of it.
func (r *reader) fieldName() ([]byte, error) {
	if start, end, ok := r.shortKey(); ok {
		return r.d[start:end], nil
	}
	return r.otherFieldName()
}

// otherFieldName is fieldName for the keys whose length is not in their
// head byte, or that are not strings.
func (r *reader) otherFieldName() ([]byte, error) {
	keyStart := r.p
	it, err := r.next()
	if err != nil {
		return nil, err
	}
	if it.k == kString {
		return it.s, nil
	}
	r.p = keyStart
	k, err := r.key()
	return []byte(k), err
}

func fieldError(field, want string) error {
	return fmt.Errorf("field %q must be %s", field, want)
}

func (r *reader) str(field string) (string, error) {
	switch h := r.peek(); h.kind {
	case hString:
		r.p++
		n, err := r.arg(h)
		if err != nil {
			return "", err
		}
		if n > uint64(len(r.d)-r.p) {
			return "", errTruncated
		}
		start := r.p
		r.p += int(n)
		return r.textAt(start, r.p), nil
	case hNull, hUndefined:
		r.p++
		return "", nil
	}
	it, err := r.next()
	if err != nil {
		return "", err
	}
	switch it.k {
	case kString:
		return r.string(it.s), nil
	case kNull, kUndefined:
		return "", nil
	}
	return "", fieldError(field, "a string")
}

func (r *reader) nullString(field string) (packets.NullString, error) {
	s, err := r.str(field)
	return packets.NullString(s), err
}

func (r *reader) num(field string) (float64, error) {
	if h := r.peek(); h.isNumber() {
		r.p++
		u, err := r.arg(h)
		if err != nil {
			return 0, err
		}
		return h.number(u), nil
	}
	it, err := r.next()
	if err != nil {
		return 0, err
	}
	switch it.k {
	case kNumber:
		return it.n, nil
	case kNull, kUndefined:
		return 0, nil
	}
	return 0, fieldError(field, "a number")
}

func (r *reader) integer(field string) (int64, error) {
	if h := r.peek(); h.kind == hUint && h.size == 0 { // a level, a small seq
		r.p++
		return int64(h.arg), nil
	}
	f, err := r.num(field)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, fieldError(field, "an integer")
	}
	return int64(f), nil
}

func (r *reader) optInteger(field string) (*int64, error) {
	start := r.p
	it, err := r.next()
	if err != nil {
		return nil, err
	}
	if it.k == kNull || it.k == kUndefined {
		return nil, nil
	}
	r.p = start
	n, err := r.integer(field)
	return &n, err
}

func (r *reader) boolean(field string) (bool, error) {
	switch r.simple() {
	case sTrue:
		return true, nil
	case sFalse, sNull:
		return false, nil
	}
	it, err := r.next()
	if err != nil {
		return false, err
	}
	switch it.k {
	case kBool:
		return it.b, nil
	case kNull, kUndefined:
		return false, nil
	}
	return false, fieldError(field, "a boolean")
}

var trueVal, falseVal = true, false

func (r *reader) boolPtr(field string) (*bool, error) {
	switch r.simple() {
	case sTrue:
		return &trueVal, nil
	case sFalse:
		return &falseVal, nil
	case sNull:
		return nil, nil
	}
	it, err := r.next()
	if err != nil {
		return nil, err
	}
	switch {
	case it.k == kBool && it.b:
		return &trueVal, nil
	case it.k == kBool:
		return &falseVal, nil
	case it.k == kNull, it.k == kUndefined:
		return nil, nil
	}
	return nil, fieldError(field, "a boolean or null")
}

// rawValue checks the next value and keeps its bytes.
func (r *reader) rawValue() (packets.Value, error) {
	start := r.p
	switch r.peek().kind {
	case hNull:
		r.p++
		return packets.Null, nil
	case hUndefined:
		r.p++
		return packets.Undefined, nil
	case hOther: // a CBOR tag or a MessagePack extension: may be null too
		it, err := r.next()
		if err != nil {
			return packets.Undefined, err
		}
		switch it.k {
		case kNull:
			return packets.Null, nil
		case kUndefined:
			return packets.Undefined, nil
		}
		if _, err := r.finish(it, 0, false); err != nil {
			return packets.Undefined, err
		}
	default:
		if err := r.skipValue(0); err != nil {
			return packets.Undefined, err
		}
	}
	return packets.RawValue(codecs[r.f], r.d[start:r.p]), nil
}

var codecs = [...]packets.RawCodec{MsgPack: Codec{MsgPack}, Notepack: Codec{Notepack}, CBOR: Codec{CBOR}}

// meta reads meta, a map kept encoded, or null; an undefined meta reads
// as null.
func (r *reader) meta() (packets.Value, error) {
	v, err := r.rawObject("meta", 0)
	if v.IsUndefined() && err == nil {
		v = packets.Null
	}
	return v, err
}

func (r *reader) groups() ([]string, error) { return r.strings("groups") }

func (r *reader) strings(field string) ([]string, error) {
	it, err := r.next()
	if err != nil {
		return nil, err
	}
	switch it.k {
	case kNull, kUndefined:
		return nil, nil
	case kArray:
		out := make([]string, 0, max(it.l, 0))
		for n := it.l; r.more(&n); {
			s, err := r.str(field)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fieldError(field, "an array of strings")
}

func (r *reader) errorPayload() (*packets.ErrorPayload, error) {
	v, err := r.value(0, true)
	if err != nil {
		return nil, err
	}
	switch v.(type) {
	case nil, undefinedValue:
		return nil, nil
	case map[string]any:
		e := new(packets.ErrorPayload)
		if err := assign(reflect.ValueOf(e).Elem(), v); err != nil {
			return nil, fmt.Errorf("error: %w", err)
		}
		return e, nil
	}
	return nil, fieldError("error", "a map")
}

func (r *reader) skip() error { return r.skipValue(0) }

func (r *reader) request() (*packets.Request, error) {
	n, err := r.payloadMap()
	if err != nil {
		return nil, err
	}
	p := new(packets.Request)
	for r.more(&n) {
		var key []byte
		if start, end, ok := r.shortKey(); ok {
			key = r.d[start:end]
		} else if key, err = r.otherFieldName(); err != nil {
			return nil, err
		}
		switch string(key) {
		case "id":
			p.ID, err = r.str("id")
		case "action":
			p.Action, err = r.str("action")
		case "params":
			p.Params, err = r.rawValue()
		case "meta":
			p.Meta, err = r.meta()
		case "timeout":
			p.Timeout, err = r.num("timeout")
		case "level":
			var level int64
			level, err = r.integer("level")
			p.Level = int(level)
		case "tracing":
			p.Tracing, err = r.boolPtr("tracing")
		case "parentID":
			p.ParentID, err = r.nullString("parentID")
		case "requestID":
			p.RequestID, err = r.str("requestID")
		case "caller":
			p.Caller, err = r.nullString("caller")
		case "stream":
			p.Stream, err = r.boolean("stream")
		case "seq":
			p.Seq, err = r.optInteger("seq")
		case "ver":
			p.Ver, err = r.str("ver")
		case "sender":
			p.Sender, err = r.str("sender")
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (r *reader) response() (*packets.Response, error) {
	n, err := r.payloadMap()
	if err != nil {
		return nil, err
	}
	p := new(packets.Response)
	for r.more(&n) {
		var key []byte
		if start, end, ok := r.shortKey(); ok {
			key = r.d[start:end]
		} else if key, err = r.otherFieldName(); err != nil {
			return nil, err
		}
		switch string(key) {
		case "id":
			p.ID, err = r.str("id")
		case "meta":
			p.Meta, err = r.meta()
		case "success":
			p.Success, err = r.boolean("success")
		case "data":
			p.Data, err = r.rawValue()
		case "error":
			p.Error, err = r.errorPayload()
		case "stream":
			p.Stream, err = r.boolPtr("stream")
		case "seq":
			p.Seq, err = r.optInteger("seq")
		case "ver":
			p.Ver, err = r.str("ver")
		case "sender":
			p.Sender, err = r.str("sender")
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (r *reader) event() (*packets.Event, error) {
	n, err := r.payloadMap()
	if err != nil {
		return nil, err
	}
	p := new(packets.Event)
	for r.more(&n) {
		var key []byte
		if start, end, ok := r.shortKey(); ok {
			key = r.d[start:end]
		} else if key, err = r.otherFieldName(); err != nil {
			return nil, err
		}
		switch string(key) {
		case "id":
			p.ID, err = r.str("id")
		case "event":
			p.Event, err = r.str("event")
		case "data":
			p.Data, err = r.rawValue()
		case "groups":
			p.Groups, err = r.groups()
		case "broadcast":
			p.Broadcast, err = r.boolean("broadcast")
		case "meta":
			p.Meta, err = r.meta()
		case "level":
			var level int64
			level, err = r.integer("level")
			p.Level = int(level)
		case "tracing":
			p.Tracing, err = r.boolPtr("tracing")
		case "parentID":
			p.ParentID, err = r.nullString("parentID")
		case "requestID":
			p.RequestID, err = r.str("requestID")
		case "caller":
			p.Caller, err = r.nullString("caller")
		case "needAck":
			p.NeedAck, err = r.boolPtr("needAck")
		case "ver":
			p.Ver, err = r.str("ver")
		case "sender":
			p.Sender, err = r.str("sender")
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}
