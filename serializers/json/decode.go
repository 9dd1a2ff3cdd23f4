package json

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/molbridge/molbridge/packets"
)

// The packets of every call and event (REQ, RES, EVENT) are read by a
// hand-written scanner: it checks the JSON as strictly as encoding/json,
// keeps params and data as slices of the input, and decodes the small
// fields directly.

var (
	trueVal, falseVal = true, false
	errSyntax         = errors.New("invalid JSON")
)

const maxDepth = 1000

type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, s.pos)
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// object reads a JSON object, calling field with each key and the raw bytes
// of its value.
func (s *scanner) object(field func(key, raw []byte) error) error {
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return s.fail("expected an object")
	}
	s.pos++
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return s.end()
	}
	for {
		s.ws()
		start := s.pos
		if err := s.skipString(); err != nil {
			return err
		}
		key := s.data[start+1 : s.pos-1]
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail("expected ':'")
		}
		s.pos++
		s.ws()
		vstart := s.pos
		if err := s.skipValue(0); err != nil {
			return err
		}
		if err := field(key, s.data[vstart:s.pos]); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return s.end()
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

func (s *scanner) end() error {
	s.ws()
	if s.pos != len(s.data) {
		return s.fail("data after the object")
	}
	return nil
}

func (s *scanner) skipValue(depth int) error {
	if depth > maxDepth {
		return s.fail("too deeply nested")
	}
	if s.pos >= len(s.data) {
		return s.fail("unexpected end")
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		return s.skipString()
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		s.pos++
		s.ws()
		if s.pos < len(s.data) && s.data[s.pos] == closing {
			s.pos++
			return nil
		}
		for {
			s.ws()
			if c == '{' {
				if err := s.skipString(); err != nil {
					return err
				}
				s.ws()
				if s.pos >= len(s.data) || s.data[s.pos] != ':' {
					return s.fail("expected ':'")
				}
				s.pos++
				s.ws()
			}
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.pos >= len(s.data) {
				return s.fail("unexpected end")
			}
			if s.data[s.pos] == ',' {
				s.pos++
				continue
			}
			if s.data[s.pos] == closing {
				s.pos++
				return nil
			}
			return s.fail("expected ',' or a closing bracket")
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.skipNumber()
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (s *scanner) skipNumber() error {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return s.fail("invalid value")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return s.fail("invalid number")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return s.fail("invalid number")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	s.pos = i
	return nil
}

func (s *scanner) skipString() error {
	d, i := s.data, s.pos
	if i >= len(d) || d[i] != '"' {
		return s.fail("expected a string")
	}
	for i++; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			s.pos = i + 1
			return nil
		case c < 0x20:
			s.pos = i
			return s.fail("control character in string")
		case c == '\\':
			i++
			if i >= len(d) {
				return s.fail("unexpected end")
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d) {
					return s.fail("unexpected end")
				}
				for _, h := range d[i+1 : i+5] {
					if !(isDigit(h) || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						s.pos = i
						return s.fail("invalid escape")
					}
				}
				i += 4
			default:
				s.pos = i
				return s.fail("invalid escape")
			}
		}
	}
	return s.fail("unterminated string")
}

// The field decoders take the raw, already checked bytes of one value.

func decodeString(raw []byte, field string) (string, error) {
	if raw[0] == 'n' {
		return "", nil
	}
	if raw[0] != '"' {
		return "", fieldError(field, "a string")
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c >= 0x80 {
			var s string
			err := json.Unmarshal(raw, &s) // escapes and UTF-8 checks
			return s, err
		}
	}
	return string(inner), nil
}

func decodeFloat(raw []byte, field string) (float64, error) {
	if raw[0] == 'n' {
		return 0, nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return 0, fieldError(field, "a number")
	}
	return f, nil
}

func decodeInt(raw []byte, field string) (int64, error) {
	if raw[0] == 'n' {
		return 0, nil
	}
	var n int64
	neg, digits := false, raw
	if digits[0] == '-' {
		neg, digits = true, digits[1:]
	}
	if len(digits) > 0 && len(digits) < 16 {
		ok := true
		for _, c := range digits {
			if !isDigit(c) {
				ok = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if ok {
			if neg {
				n = -n
			}
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, fieldError(field, "an integer")
	}
	return int64(f), nil
}

func decodeBool(raw []byte, field string) (bool, error) {
	switch raw[0] {
	case 't':
		return true, nil
	case 'f', 'n':
		return false, nil
	}
	return false, fieldError(field, "a boolean")
}

func decodeBoolPtr(raw []byte, field string) (*bool, error) {
	switch raw[0] {
	case 't':
		return &trueVal, nil
	case 'f':
		return &falseVal, nil
	case 'n':
		return nil, nil
	}
	return nil, fieldError(field, "a boolean or null")
}

func decodeValue(raw []byte) packets.Value {
	if raw[0] == 'n' {
		return packets.Null
	}
	return packets.RawValue(packets.JSON, raw)
}

func decodeMeta(raw []byte) (packets.Meta, error) {
	if raw[0] == 'n' {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, fieldError("meta", "an object")
	}
	if len(raw) == 2 {
		return packets.Meta{}, nil
	}
	return decodeObject(raw, "meta")
}

func fieldError(field, want string) error {
	return fmt.Errorf("field %q must be %s", field, want)
}

func unmarshalRequest(data []byte) (*packets.Request, error) {
	p := new(packets.Request)
	s := scanner{data: data}
	err := s.object(func(key, raw []byte) (err error) {
		switch string(key) {
		case "id":
			p.ID, err = decodeString(raw, "id")
		case "action":
			p.Action, err = decodeString(raw, "action")
		case "params":
			p.Params = decodeValue(raw)
		case "meta":
			p.Meta, err = decodeMeta(raw)
		case "timeout":
			p.Timeout, err = decodeFloat(raw, "timeout")
		case "level":
			var n int64
			n, err = decodeInt(raw, "level")
			p.Level = int(n)
		case "tracing":
			p.Tracing, err = decodeBoolPtr(raw, "tracing")
		case "parentID":
			var v string
			v, err = decodeString(raw, "parentID")
			p.ParentID = packets.NullString(v)
		case "requestID":
			p.RequestID, err = decodeString(raw, "requestID")
		case "caller":
			var v string
			v, err = decodeString(raw, "caller")
			p.Caller = packets.NullString(v)
		case "stream":
			p.Stream, err = decodeBool(raw, "stream")
		case "seq":
			if raw[0] != 'n' {
				var n int64
				n, err = decodeInt(raw, "seq")
				p.Seq = &n
			}
		case "ver":
			p.Ver, err = decodeString(raw, "ver")
		case "sender":
			p.Sender, err = decodeString(raw, "sender")
		}
		return err
	})
	return p, err
}

func unmarshalResponse(data []byte) (*packets.Response, error) {
	p := new(packets.Response)
	s := scanner{data: data}
	err := s.object(func(key, raw []byte) (err error) {
		switch string(key) {
		case "id":
			p.ID, err = decodeString(raw, "id")
		case "meta":
			p.Meta, err = decodeMeta(raw)
		case "success":
			p.Success, err = decodeBool(raw, "success")
		case "data":
			p.Data = decodeValue(raw)
		case "error":
			if raw[0] != 'n' {
				p.Error = new(packets.ErrorPayload)
				err = json.Unmarshal(raw, p.Error)
			}
		case "stream":
			p.Stream, err = decodeBoolPtr(raw, "stream")
		case "seq":
			if raw[0] != 'n' {
				var n int64
				n, err = decodeInt(raw, "seq")
				p.Seq = &n
			}
		case "ver":
			p.Ver, err = decodeString(raw, "ver")
		case "sender":
			p.Sender, err = decodeString(raw, "sender")
		}
		return err
	})
	return p, err
}

func unmarshalEvent(data []byte) (*packets.Event, error) {
	p := new(packets.Event)
	s := scanner{data: data}
	err := s.object(func(key, raw []byte) (err error) {
		switch string(key) {
		case "id":
			p.ID, err = decodeString(raw, "id")
		case "event":
			p.Event, err = decodeString(raw, "event")
		case "data":
			p.Data = decodeValue(raw)
		case "groups":
			if raw[0] != 'n' {
				err = json.Unmarshal(raw, &p.Groups)
			}
		case "broadcast":
			p.Broadcast, err = decodeBool(raw, "broadcast")
		case "meta":
			p.Meta, err = decodeMeta(raw)
		case "level":
			var n int64
			n, err = decodeInt(raw, "level")
			p.Level = int(n)
		case "tracing":
			p.Tracing, err = decodeBoolPtr(raw, "tracing")
		case "parentID":
			var v string
			v, err = decodeString(raw, "parentID")
			p.ParentID = packets.NullString(v)
		case "requestID":
			p.RequestID, err = decodeString(raw, "requestID")
		case "caller":
			var v string
			v, err = decodeString(raw, "caller")
			p.Caller = packets.NullString(v)
		case "needAck":
			p.NeedAck, err = decodeBoolPtr(raw, "needAck")
		case "ver":
			p.Ver, err = decodeString(raw, "ver")
		case "sender":
			p.Sender, err = decodeString(raw, "sender")
		}
		return err
	})
	return p, err
}
