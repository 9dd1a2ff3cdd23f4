package json

import (
	"encoding/json"
	"unsafe"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

// The packets of every call and event (REQ, RES, EVENT) and INFO are read
// in one pass by jsonlike's parser: it checks the JSON as strictly as
// encoding/json, keeps params and data as slices of the input, and decodes
// the other fields directly.

var trueVal, falseVal = true, false

// parser returns a parser over data. The strings it reads are slices of
// data, as params and data are: a serializer may keep references into the
// bytes it decodes, which nobody changes afterwards (serializers.Serializer).
func parser(data []byte) *jsonlike.Parser {
	return jsonlike.NewParser(unsafe.String(unsafe.SliceData(data), len(data)))
}

// str reads a string or null ("").
func str(p *jsonlike.Parser, field string) (string, error) {
	switch p.Peek() {
	case '"':
		return p.Str()
	case 'n':
		_, err := p.Literal()
		return "", err
	}
	return p.NullableString(field) // the error
}

// integer reads an integral number or null (0).
func integer(p *jsonlike.Parser, field string) (int64, error) {
	if c := p.Peek(); c == '-' || c >= '0' && c <= '9' {
		n, ok, err := p.Int()
		if err == nil && !ok {
			err = jsonlike.FieldError(field, "an integer")
		}
		return n, err
	}
	return p.NullableInt(field) // null, or the error
}

// boolean reads a boolean or null (false).
func boolean(p *jsonlike.Parser, field string) (bool, error) {
	switch c, err := p.Literal(); c {
	case 't':
		return true, err
	case 'f', 'n':
		return false, err
	}
	if err := p.Skip(1); err != nil {
		return false, err
	}
	return false, jsonlike.FieldError(field, "a boolean")
}

// boolPtr reads a boolean or null (nil).
func boolPtr(p *jsonlike.Parser, field string) (*bool, error) {
	switch c, err := p.Literal(); c {
	case 't':
		return &trueVal, err
	case 'f':
		return &falseVal, err
	case 'n':
		return nil, err
	}
	if err := p.Skip(1); err != nil {
		return nil, err
	}
	return nil, jsonlike.FieldError(field, "a boolean or null")
}

// level reads a level: an integral number that fits an int, or null (0).
func level(p *jsonlike.Parser) (int, error) {
	n, err := integer(p, "level")
	if err == nil && int64(int(n)) != n { // where int has 32 bits
		err = jsonlike.FieldError("level", "an int")
	}
	return int(n), err
}

// groups reads EVENT's groups, as jsonlike's Strings does, but into a
// slice of their number: the strings are gathered on the stack first.
func groups(p *jsonlike.Parser) ([]string, error) {
	if p.Peek() != '[' {
		return p.Strings(1, "groups") // null, or the error
	}
	var buf [8]string
	got := buf[:0]
	err := p.Array(1, func() error {
		switch p.Peek() {
		case '"':
			s, err := p.Str()
			got = append(got, s)
			return err
		case 'n':
			_, err := p.Null()
			got = append(got, "")
			return err
		}
		if err := p.Skip(2); err != nil {
			return err
		}
		return jsonlike.FieldError("groups", "an array of strings")
	})
	if err != nil {
		return nil, err
	}
	return append(make([]string, 0, len(got)), got...), nil
}

// float reads a number or null (0).
func float(p *jsonlike.Parser, field string) (float64, error) {
	if null, err := p.Null(); null || err != nil {
		return 0, err
	}
	switch c := p.Peek(); {
	case c == '-' || c >= '0' && c <= '9':
		return p.Number()
	}
	if err := p.Skip(1); err != nil {
		return 0, err
	}
	return 0, jsonlike.FieldError(field, "a number")
}

// value keeps the JSON text of params or data, a slice of data.
func value(p *jsonlike.Parser, data []byte) (packets.Value, error) {
	start := p.Pos()
	if err := p.Skip(1); err != nil {
		return packets.Value{}, err
	}
	if data[start] == 'n' {
		return packets.Null, nil
	}
	return packets.RawValue(jsonlike.Codec, data[start:p.Pos()]), nil
}

// meta reads meta: an object, kept as JSON text, or null.
func meta(p *jsonlike.Parser) (packets.Value, error) { return p.RawObject(1, "meta") }

// seq reads a stream's sequence number: an integer or null (nil).
func seq(p *jsonlike.Parser) (*int64, error) {
	if null, err := p.Null(); null || err != nil {
		return nil, err
	}
	n, err := integer(p, "seq")
	return &n, err
}

// The keys of REQ, RES and EVENT, in the order that moleculer and this
// package's encoder write them.
const (
	reqID = iota
	reqAction
	reqParams
	reqMeta
	reqTimeout
	reqLevel
	reqTracing
	reqParentID
	reqRequestID
	reqCaller
	reqStream
	reqSeq
	reqVer
	reqSender
)

const (
	resID = iota
	resMeta
	resSuccess
	resData
	resError
	resStream
	resSeq
	resVer
	resSender
)

const (
	evID = iota
	evEvent
	evData
	evGroups
	evBroadcast
	evMeta
	evLevel
	evTracing
	evParentID
	evRequestID
	evCaller
	evNeedAck
	evVer
	evSender
)

var (
	requestKeys = jsonlike.NewKeys([]string{
		reqID: "id", reqAction: "action", reqParams: "params", reqMeta: "meta", reqTimeout: "timeout",
		reqLevel: "level", reqTracing: "tracing", reqParentID: "parentID", reqRequestID: "requestID",
		reqCaller: "caller", reqStream: "stream", reqSeq: "seq", reqVer: "ver", reqSender: "sender",
	})
	responseKeys = jsonlike.NewKeys([]string{
		resID: "id", resMeta: "meta", resSuccess: "success", resData: "data", resError: "error",
		resStream: "stream", resSeq: "seq", resVer: "ver", resSender: "sender",
	})
	eventKeys = jsonlike.NewKeys([]string{
		evID: "id", evEvent: "event", evData: "data", evGroups: "groups", evBroadcast: "broadcast",
		evMeta: "meta", evLevel: "level", evTracing: "tracing", evParentID: "parentID",
		evRequestID: "requestID", evCaller: "caller", evNeedAck: "needAck", evVer: "ver", evSender: "sender",
	})
)

func unmarshalRequest(data []byte) (*packets.Request, error) {
	r := new(packets.Request)
	p := parser(data)
	err := p.Fields(0, requestKeys, func(key int) (err error) {
		switch key {
		case reqID:
			r.ID, err = str(p, "id")
		case reqAction:
			r.Action, err = str(p, "action")
		case reqParams:
			r.Params, err = value(p, data)
		case reqMeta:
			r.Meta, err = meta(p)
		case reqTimeout:
			r.Timeout, err = float(p, "timeout")
		case reqLevel:
			r.Level, err = level(p)
		case reqTracing:
			r.Tracing, err = boolPtr(p, "tracing")
		case reqParentID:
			var v string
			v, err = str(p, "parentID")
			r.ParentID = packets.NullString(v)
		case reqRequestID:
			r.RequestID, err = str(p, "requestID")
		case reqCaller:
			var v string
			v, err = str(p, "caller")
			r.Caller = packets.NullString(v)
		case reqStream:
			r.Stream, err = boolean(p, "stream")
		case reqSeq:
			r.Seq, err = seq(p)
		case reqVer:
			r.Ver, err = str(p, "ver")
		case reqSender:
			r.Sender, err = str(p, "sender")
		default:
			err = p.Skip(1)
		}
		return err
	})
	if err == nil {
		err = p.End()
	}
	return r, err
}

func unmarshalResponse(data []byte) (*packets.Response, error) {
	r := new(packets.Response)
	p := parser(data)
	err := p.Fields(0, responseKeys, func(key int) (err error) {
		switch key {
		case resID:
			r.ID, err = str(p, "id")
		case resMeta:
			r.Meta, err = meta(p)
		case resSuccess:
			r.Success, err = boolean(p, "success")
		case resData:
			r.Data, err = value(p, data)
		case resError:
			start := p.Pos()
			if err = p.Skip(1); err == nil && data[start] != 'n' {
				r.Error = new(packets.ErrorPayload)
				err = json.Unmarshal(data[start:p.Pos()], r.Error)
			}
		case resStream:
			r.Stream, err = boolPtr(p, "stream")
		case resSeq:
			r.Seq, err = seq(p)
		case resVer:
			r.Ver, err = str(p, "ver")
		case resSender:
			r.Sender, err = str(p, "sender")
		default:
			err = p.Skip(1)
		}
		return err
	})
	if err == nil {
		err = p.End()
	}
	return r, err
}

func unmarshalEvent(data []byte) (*packets.Event, error) {
	e := new(packets.Event)
	p := parser(data)
	err := p.Fields(0, eventKeys, func(key int) (err error) {
		switch key {
		case evID:
			e.ID, err = str(p, "id")
		case evEvent:
			e.Event, err = str(p, "event")
		case evData:
			e.Data, err = value(p, data)
		case evGroups:
			e.Groups, err = groups(p)
		case evBroadcast:
			e.Broadcast, err = boolean(p, "broadcast")
		case evMeta:
			e.Meta, err = meta(p)
		case evLevel:
			e.Level, err = level(p)
		case evTracing:
			e.Tracing, err = boolPtr(p, "tracing")
		case evParentID:
			var v string
			v, err = str(p, "parentID")
			e.ParentID = packets.NullString(v)
		case evRequestID:
			e.RequestID, err = str(p, "requestID")
		case evCaller:
			var v string
			v, err = str(p, "caller")
			e.Caller = packets.NullString(v)
		case evNeedAck:
			e.NeedAck, err = boolPtr(p, "needAck")
		case evVer:
			e.Ver, err = str(p, "ver")
		case evSender:
			e.Sender, err = str(p, "sender")
		default:
			err = p.Skip(1)
		}
		return err
	})
	if err == nil {
		err = p.End()
	}
	return e, err
}

// unmarshalInfo reads INFO, its strings and encoded parts slices of data.
func unmarshalInfo(data []byte) (*packets.Info, error) {
	info := new(packets.Info)
	return info, parser(data).Info(info)
}
