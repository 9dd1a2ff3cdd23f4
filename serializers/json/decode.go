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

// shareLimit is the size up to which a packet is copied to one string
// whose slices become the decoded strings (one allocation for all of them).
// A larger packet is mostly params or data, which stay in the input; its
// strings are copied one by one instead.
const shareLimit = 2048

// parser returns a parser over data.
func parser(data []byte) *jsonlike.Parser {
	if len(data) <= shareLimit {
		return jsonlike.NewParser(string(data))
	}
	// A view of data, read only during this decode; every string kept from
	// it is copied (CopyStrings).
	p := jsonlike.NewParser(unsafe.String(unsafe.SliceData(data), len(data)))
	p.CopyStrings = true
	return p
}

func str(p *jsonlike.Parser, field string) (string, error) { return p.NullableString(field) }

func boolean(p *jsonlike.Parser, field string) (bool, error) {
	switch p.Peek() {
	case 't':
		return true, p.Skip(1)
	case 'f', 'n':
		return false, p.Skip(1)
	}
	if err := p.Skip(1); err != nil {
		return false, err
	}
	return false, jsonlike.FieldError(field, "a boolean")
}

func boolPtr(p *jsonlike.Parser, field string) (*bool, error) {
	switch p.Peek() {
	case 't':
		return &trueVal, p.Skip(1)
	case 'f':
		return &falseVal, p.Skip(1)
	case 'n':
		return nil, p.Skip(1)
	}
	if err := p.Skip(1); err != nil {
		return nil, err
	}
	return nil, jsonlike.FieldError(field, "a boolean or null")
}

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

func meta(p *jsonlike.Parser) (packets.Meta, error) {
	m, err := p.NullableMap(1, "meta")
	return m, err
}

func seq(p *jsonlike.Parser) (*int64, error) {
	if null, err := p.Null(); null || err != nil {
		return nil, err
	}
	n, err := p.NullableInt("seq")
	return &n, err
}

func unmarshalRequest(data []byte) (*packets.Request, error) {
	r := new(packets.Request)
	p := parser(data)
	err := p.Object(0, func(key string) (err error) {
		switch key {
		case "id":
			r.ID, err = str(p, "id")
		case "action":
			r.Action, err = str(p, "action")
		case "params":
			r.Params, err = value(p, data)
		case "meta":
			r.Meta, err = meta(p)
		case "timeout":
			r.Timeout, err = float(p, "timeout")
		case "level":
			var n int64
			n, err = p.NullableInt("level")
			r.Level = int(n)
		case "tracing":
			r.Tracing, err = boolPtr(p, "tracing")
		case "parentID":
			var v string
			v, err = str(p, "parentID")
			r.ParentID = packets.NullString(v)
		case "requestID":
			r.RequestID, err = str(p, "requestID")
		case "caller":
			var v string
			v, err = str(p, "caller")
			r.Caller = packets.NullString(v)
		case "stream":
			r.Stream, err = boolean(p, "stream")
		case "seq":
			r.Seq, err = seq(p)
		case "ver":
			r.Ver, err = str(p, "ver")
		case "sender":
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
	err := p.Object(0, func(key string) (err error) {
		switch key {
		case "id":
			r.ID, err = str(p, "id")
		case "meta":
			r.Meta, err = meta(p)
		case "success":
			r.Success, err = boolean(p, "success")
		case "data":
			r.Data, err = value(p, data)
		case "error":
			start := p.Pos()
			if err = p.Skip(1); err == nil && data[start] != 'n' {
				r.Error = new(packets.ErrorPayload)
				err = json.Unmarshal(data[start:p.Pos()], r.Error)
			}
		case "stream":
			r.Stream, err = boolPtr(p, "stream")
		case "seq":
			r.Seq, err = seq(p)
		case "ver":
			r.Ver, err = str(p, "ver")
		case "sender":
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
	err := p.Object(0, func(key string) (err error) {
		switch key {
		case "id":
			e.ID, err = str(p, "id")
		case "event":
			e.Event, err = str(p, "event")
		case "data":
			e.Data, err = value(p, data)
		case "groups":
			e.Groups, err = p.Strings(1, "groups")
		case "broadcast":
			e.Broadcast, err = boolean(p, "broadcast")
		case "meta":
			e.Meta, err = meta(p)
		case "level":
			var n int64
			n, err = p.NullableInt("level")
			e.Level = int(n)
		case "tracing":
			e.Tracing, err = boolPtr(p, "tracing")
		case "parentID":
			var v string
			v, err = str(p, "parentID")
			e.ParentID = packets.NullString(v)
		case "requestID":
			e.RequestID, err = str(p, "requestID")
		case "caller":
			var v string
			v, err = str(p, "caller")
			e.Caller = packets.NullString(v)
		case "needAck":
			e.NeedAck, err = boolPtr(p, "needAck")
		case "ver":
			e.Ver, err = str(p, "ver")
		case "sender":
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

// unmarshalInfo reads INFO. Everything in it is kept, so the whole packet
// becomes one string.
func unmarshalInfo(data []byte) (*packets.Info, error) {
	info := new(packets.Info)
	p := jsonlike.NewParser(string(data))
	return info, p.Info(info)
}
