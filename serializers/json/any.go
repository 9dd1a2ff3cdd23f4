package json

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/molbridge/molbridge/packets"
)

// JSON-like values (meta, INFO's services and settings, gossip maps) are
// written and read by hand as well: plain Go data, with encoding/json as the
// fallback for the types it alone knows (structs, typed maps).

// appendAny writes v as encoding/json would, map keys sorted.
func appendAny(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		return appendFloat(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case map[string]any:
		return appendObject(b, x)
	case packets.ActionInfo:
		return appendObject(b, x)
	case packets.EventInfo:
		return appendObject(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendAny(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']'), nil
	case packets.Value:
		return appendValue(b, x)
	case []byte:
		enc, err := packets.Buffer(x).MarshalJSON()
		return append(b, enc...), err
	}
	enc, err := json.Marshal(packets.ValueOf(v))
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

func appendObject(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '{')
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendAny(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// parseAny reads one checked JSON value into plain Go data, as
// encoding/json decodes into an interface.
func parseAny(raw []byte) (any, error) {
	p := anyParser{data: raw}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.pos != len(p.data) {
		return nil, errSyntax
	}
	return v, nil
}

type anyParser struct {
	data []byte
	pos  int
}

func (p *anyParser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses input the scanner has already checked, so it can be brief
// about errors; it still never reads out of bounds.
func (p *anyParser) value() (any, error) {
	p.ws()
	if p.pos >= len(p.data) {
		return nil, errSyntax
	}
	switch c := p.data[p.pos]; c {
	case '{':
		p.pos++
		m := map[string]any{}
		p.ws()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			return m, nil
		}
		for {
			p.ws()
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.pos >= len(p.data) || p.data[p.pos] != ':' {
				return nil, errSyntax
			}
			p.pos++
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			m[k] = v
			p.ws()
			if p.pos >= len(p.data) {
				return nil, errSyntax
			}
			if p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.data[p.pos] == '}' {
				p.pos++
				return m, nil
			}
			return nil, errSyntax
		}
	case '[':
		p.pos++
		a := []any{}
		p.ws()
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return a, nil
		}
		for {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			p.ws()
			if p.pos >= len(p.data) {
				return nil, errSyntax
			}
			if p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.data[p.pos] == ']' {
				p.pos++
				return a, nil
			}
			return nil, errSyntax
		}
	case '"':
		return p.str()
	case 't':
		p.pos += 4
		return true, nil
	case 'f':
		p.pos += 5
		return false, nil
	case 'n':
		p.pos += 4
		return nil, nil
	}
	s := scanner{data: p.data, pos: p.pos}
	if err := s.skipNumber(); err != nil {
		return nil, err
	}
	f, err := strconv.ParseFloat(string(p.data[p.pos:s.pos]), 64)
	if err != nil {
		return nil, err
	}
	p.pos = s.pos
	return f, nil
}

// str reads a string, decoding escapes; invalid UTF-8 becomes U+FFFD as
// encoding/json decodes it.
func (p *anyParser) str() (string, error) {
	s := scanner{data: p.data, pos: p.pos}
	if err := s.skipString(); err != nil {
		return "", err
	}
	inner := p.data[p.pos+1 : s.pos-1]
	p.pos = s.pos
	plain := true
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), nil
	}
	out := make([]byte, 0, len(inner))
	for i := 0; i < len(inner); {
		c := inner[i]
		if c != '\\' {
			r, size := utf8.DecodeRune(inner[i:])
			out = utf8.AppendRune(out, r)
			i += size
			continue
		}
		i++
		switch inner[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := rune(hex4(inner[i+1 : i+5]))
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 < len(inner) && inner[i+1] == '\\' && inner[i+2] == 'u' {
					r2 = rune(hex4(inner[i+3 : i+7]))
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default: // " \ /
			out = append(out, inner[i])
		}
		i++
	}
	return string(out), nil
}

func hex4(h []byte) int {
	n := 0
	for _, c := range h {
		n <<= 4
		switch {
		case c >= '0' && c <= '9':
			n |= int(c - '0')
		case c >= 'a' && c <= 'f':
			n |= int(c-'a') + 10
		default:
			n |= int(c-'A') + 10
		}
	}
	return n
}
