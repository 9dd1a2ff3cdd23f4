package json

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/molbridge/molbridge/packets"
)

// The packets of every call and event (REQ, RES, EVENT) are written by hand:
// encoding/json's reflection costs more than the rest of a call. The output
// is what encoding/json writes for the same payload, field for field.

func appendRequest(b []byte, p *packets.Request) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, p.ID)
	b = append(b, `,"action":`...)
	b = appendString(b, p.Action)
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
	b = appendFloat(b, p.Timeout)
	b = append(b, `,"level":`...)
	b = strconv.AppendInt(b, int64(p.Level), 10)
	b = append(b, `,"tracing":`...)
	b = appendBoolPtr(b, p.Tracing)
	b = append(b, `,"parentID":`...)
	b = appendNullString(b, string(p.ParentID))
	b = append(b, `,"requestID":`...)
	b = appendString(b, p.RequestID)
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
	b = appendString(b, p.ID)
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
	b = appendString(b, p.ID)
	b = append(b, `,"event":`...)
	b = appendString(b, p.Event)
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
			b = appendString(b, g)
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
	b = appendString(b, p.RequestID)
	b = append(b, `,"caller":`...)
	b = appendNullString(b, string(p.Caller))
	b = append(b, `,"needAck":`...)
	b = appendBoolPtr(b, p.NeedAck)
	return appendEnvelope(b, &p.Envelope), nil
}

func appendEnvelope(b []byte, e *packets.Envelope) []byte {
	b = append(b, `,"ver":`...)
	b = appendString(b, e.Ver)
	b = append(b, `,"sender":`...)
	b = appendString(b, e.Sender)
	return append(b, '}')
}

func appendMeta(b []byte, m packets.Meta) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	return appendObject(b, m)
}

func appendValue(b []byte, v packets.Value) ([]byte, error) {
	if raw, ok := v.Raw(packets.JSONFormat); ok {
		return append(b, raw...), nil
	}
	if g, ok := v.Go(); ok {
		return appendAny(b, g)
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
	return appendString(b, s)
}

// appendFloat writes a number as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...) // JSON.stringify writes null for them
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json and JS do
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hex = "0123456789abcdef"

// appendString writes s as a JSON string, escaping what JSON requires;
// invalid UTF-8 becomes U+FFFD, as encoding/json writes it.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' { // escaped by encoding/json too
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
