package json

import (
	"encoding/json"
	"strconv"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

// The packets of every call and event (REQ, RES, EVENT) are written by hand:
// encoding/json's reflection costs more than the rest of a call. The output
// is what encoding/json writes for the same payload, field for field.

func appendRequest(b []byte, p *packets.Request) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = jsonlike.AppendString(b, p.ID)
	b = append(b, `,"action":`...)
	b = jsonlike.AppendString(b, p.Action)
	if !p.Params.IsUndefined() {
		b = append(b, `,"params":`...)
		if b, err = appendValue(b, p.Params); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"meta":`...)
	if b, err = appendMeta(b, p.Meta); err != nil {
		return nil, err
	}
	b = append(b, `,"timeout":`...)
	b = jsonlike.AppendFloat(b, p.Timeout)
	b = append(b, `,"level":`...)
	b = strconv.AppendInt(b, int64(p.Level), 10)
	b = append(b, `,"tracing":`...)
	b = appendBoolPtr(b, p.Tracing)
	b = append(b, `,"parentID":`...)
	b = appendNullString(b, string(p.ParentID))
	b = append(b, `,"requestID":`...)
	b = jsonlike.AppendString(b, p.RequestID)
	b = append(b, `,"caller":`...)
	b = appendNullString(b, string(p.Caller))
	b = append(b, `,"stream":`...)
	b = strconv.AppendBool(b, p.Stream)
	if p.Seq != nil {
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, *p.Seq, 10)
	}
	return appendEnvelope(b, &p.Envelope), nil
}

func appendResponse(b []byte, p *packets.Response) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = jsonlike.AppendString(b, p.ID)
	b = append(b, `,"meta":`...)
	if b, err = appendMeta(b, p.Meta); err != nil {
		return nil, err
	}
	b = append(b, `,"success":`...)
	b = strconv.AppendBool(b, p.Success)
	if !p.Data.IsUndefined() {
		b = append(b, `,"data":`...)
		if b, err = appendValue(b, p.Data); err != nil {
			return nil, err
		}
	}
	if p.Error != nil {
		e, err := json.Marshal(p.Error)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"error":`...)
		b = append(b, e...)
	}
	if p.Stream != nil {
		b = append(b, `,"stream":`...)
		b = strconv.AppendBool(b, *p.Stream)
	}
	if p.Seq != nil {
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, *p.Seq, 10)
	}
	return appendEnvelope(b, &p.Envelope), nil
}

func appendEvent(b []byte, p *packets.Event) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = jsonlike.AppendString(b, p.ID)
	b = append(b, `,"event":`...)
	b = jsonlike.AppendString(b, p.Event)
	if !p.Data.IsUndefined() {
		b = append(b, `,"data":`...)
		if b, err = appendValue(b, p.Data); err != nil {
			return nil, err
		}
	}
	if len(p.Groups) > 0 {
		b = append(b, `,"groups":[`...)
		for i, g := range p.Groups {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonlike.AppendString(b, g)
		}
		b = append(b, ']')
	}
	b = append(b, `,"broadcast":`...)
	b = strconv.AppendBool(b, p.Broadcast)
	b = append(b, `,"meta":`...)
	if b, err = appendMeta(b, p.Meta); err != nil {
		return nil, err
	}
	b = append(b, `,"level":`...)
	b = strconv.AppendInt(b, int64(p.Level), 10)
	b = append(b, `,"tracing":`...)
	b = appendBoolPtr(b, p.Tracing)
	b = append(b, `,"parentID":`...)
	b = appendNullString(b, string(p.ParentID))
	b = append(b, `,"requestID":`...)
	b = jsonlike.AppendString(b, p.RequestID)
	b = append(b, `,"caller":`...)
	b = appendNullString(b, string(p.Caller))
	b = append(b, `,"needAck":`...)
	b = appendBoolPtr(b, p.NeedAck)
	return appendEnvelope(b, &p.Envelope), nil
}

func appendEnvelope(b []byte, e *packets.Envelope) []byte {
	b = append(b, `,"ver":`...)
	b = jsonlike.AppendString(b, e.Ver)
	b = append(b, `,"sender":`...)
	b = jsonlike.AppendString(b, e.Sender)
	return append(b, '}')
}

// appendMeta writes a context's meta; undefined is written as null.
func appendMeta(b []byte, m packets.Value) ([]byte, error) {
	if m.IsUndefined() {
		return append(b, "null"...), nil
	}
	return appendValue(b, m)
}

func appendValue(b []byte, v packets.Value) ([]byte, error) {
	if raw, ok := v.Raw(packets.JSONFormat); ok {
		return append(b, raw...), nil
	}
	if g, ok := v.Go(); ok {
		return jsonlike.AppendAny(b, g)
	}
	enc, err := v.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

func appendBoolPtr(b []byte, v *bool) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return strconv.AppendBool(b, *v)
}

func appendNullString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return jsonlike.AppendString(b, s)
}
