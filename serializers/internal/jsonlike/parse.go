package jsonlike

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/molbridge/molbridge/packets"
)

// ErrSyntax is wrapped by every error about malformed JSON text.
var ErrSyntax = errors.New("invalid JSON")

// MaxDepth bounds the nesting of JSON values the parser accepts.
const MaxDepth = 1000

// Parser reads JSON text in one pass: it checks it as strictly as
// encoding/json and builds JSON-like values as it goes. Unescaped strings
// are slices of the text, so a caller that holds the text as []byte should
// convert it to a string once, not value by value.
type Parser struct {
	s   string
	pos int
	Box Boxes
	// CopyStrings makes every string read a copy, not a slice of the text:
	// for text that is a temporary view of bytes.
	CopyStrings bool
}

// NewParser returns a parser at the start of text.
func NewParser(text string) *Parser { return &Parser{s: text} }

// Reset points p at the start of text, keeping its boxes.
func (p *Parser) Reset(text string) { p.s, p.pos = text, 0 }

// Pos is the offset of the next unread byte.
func (p *Parser) Pos() int { return p.pos }

// Text is the text p reads.
func (p *Parser) Text() string { return p.s }

// Fail returns a syntax error at the current offset.
func (p *Parser) Fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrSyntax, what, p.pos)
}

// WS skips white space.
func (p *Parser) WS() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// Peek skips white space and returns the next byte, 0 at the end.
func (p *Parser) Peek() byte {
	if p.pos < len(p.s) && p.s[p.pos] > ' ' { // compact JSON: no white space
		return p.s[p.pos]
	}
	p.WS()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// End checks that only white space is left.
func (p *Parser) End() error {
	p.WS()
	if p.pos != len(p.s) {
		return p.Fail("data after the value")
	}
	return nil
}

// Object reads an object, calling field for each key with the parser at
// the start of the key's value; field must read (or Skip) the value.
// depth is the nesting of the object itself.
func (p *Parser) Object(depth int, field func(key string) error) error {
	if p.Peek() != '{' {
		return p.Fail("expected an object")
	}
	if depth > MaxDepth {
		return p.Fail("too deeply nested")
	}
	p.pos++
	if p.Peek() == '}' {
		p.pos++
		return nil
	}
	for {
		p.WS()
		key, err := p.Str()
		if err != nil {
			return err
		}
		if p.Peek() != ':' {
			return p.Fail("expected ':'")
		}
		p.pos++
		p.WS()
		if err := field(key); err != nil {
			return err
		}
		switch p.Peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		case 0:
			return p.Fail("unexpected end")
		default:
			return p.Fail("expected ',' or '}'")
		}
	}
}

// Array reads an array, calling elem with the parser at the start of each
// element; elem must read (or Skip) it.
func (p *Parser) Array(depth int, elem func() error) error {
	if p.Peek() != '[' {
		return p.Fail("expected an array")
	}
	if depth > MaxDepth {
		return p.Fail("too deeply nested")
	}
	p.pos++
	if p.Peek() == ']' {
		p.pos++
		return nil
	}
	for {
		p.WS()
		if err := elem(); err != nil {
			return err
		}
		switch p.Peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		case 0:
			return p.Fail("unexpected end")
		default:
			return p.Fail("expected ',' or ']'")
		}
	}
}

// Null reads a null if one comes next and reports whether it did.
func (p *Parser) Null() (bool, error) {
	if p.Peek() != 'n' {
		return false, nil
	}
	return true, p.literal("null")
}

// Value reads one value into JSON-like data. depth is its nesting.
func (p *Parser) Value(depth int) (any, error) {
	switch p.Peek() {
	case '{':
		return p.Map(depth)
	case '[':
		return p.list(depth)
	case '"':
		s, err := p.Str()
		if err != nil {
			return nil, err
		}
		return p.Box.String(s), nil
	case 't':
		return true, p.literal("true")
	case 'f':
		return false, p.literal("false")
	case 'n':
		return nil, p.literal("null")
	case 0:
		if p.pos >= len(p.s) {
			return nil, p.Fail("unexpected end")
		}
	}
	f, err := p.Number()
	if err != nil {
		return nil, err
	}
	return p.Box.Number(f), nil
}

// Map reads an object into a map.
func (p *Parser) Map(depth int) (map[string]any, error) {
	if p.Peek() != '{' {
		return nil, p.Fail("expected an object")
	}
	if depth > MaxDepth {
		return nil, p.Fail("too deeply nested")
	}
	p.pos++
	m := make(map[string]any)
	if p.Peek() == '}' {
		p.pos++
		return m, nil
	}
	for {
		p.WS()
		key, err := p.Str()
		if err != nil {
			return nil, err
		}
		if p.Peek() != ':' {
			return nil, p.Fail("expected ':'")
		}
		p.pos++
		v, err := p.Value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[key] = v
		switch p.Peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return m, nil
		case 0:
			return nil, p.Fail("unexpected end")
		default:
			return nil, p.Fail("expected ',' or '}'")
		}
	}
}

func (p *Parser) list(depth int) ([]any, error) {
	if depth > MaxDepth {
		return nil, p.Fail("too deeply nested")
	}
	p.pos++
	if p.Peek() == ']' {
		p.pos++
		return []any{}, nil
	}
	a := make([]any, 0, 4) // one allocation for the usual short array
	if p.Peek() == ']' {
		p.pos++
		return a, nil
	}
	for {
		v, err := p.Value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		switch p.Peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return a, nil
		case 0:
			return nil, p.Fail("unexpected end")
		default:
			return nil, p.Fail("expected ',' or ']'")
		}
	}
}

// Skip checks and skips one value.
func (p *Parser) Skip(depth int) error {
	switch c := p.Peek(); c {
	case '{', '[':
		if depth > MaxDepth {
			return p.Fail("too deeply nested")
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		p.pos++
		if p.Peek() == closing {
			p.pos++
			return nil
		}
		for {
			p.WS()
			if c == '{' {
				if err := p.skipString(); err != nil {
					return err
				}
				if p.Peek() != ':' {
					return p.Fail("expected ':'")
				}
				p.pos++
			}
			if err := p.Skip(depth + 1); err != nil {
				return err
			}
			switch p.Peek() {
			case ',':
				p.pos++
			case closing:
				p.pos++
				return nil
			case 0:
				return p.Fail("unexpected end")
			default:
				return p.Fail("expected ',' or a closing bracket")
			}
		}
	case '"':
		return p.skipString()
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	}
	_, _, err := p.scanNumber()
	return err
}

func (p *Parser) literal(lit string) error {
	if len(p.s)-p.pos < len(lit) || p.s[p.pos:p.pos+len(lit)] != lit {
		return p.Fail("invalid literal")
	}
	p.pos += len(lit)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber checks the number at the current offset and moves past it. It
// returns the number's text and whether it is a plain integer of at most
// 15 digits (exact in a float64, read without strconv).
func (p *Parser) scanNumber() (string, bool, error) {
	s, i := p.s, p.pos
	start := i
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return "", false, p.Fail("invalid value")
	}
	plain := i-digits <= 15
	if i < len(s) && s[i] == '.' {
		plain = false
		i++
		if i >= len(s) || !isDigit(s[i]) {
			p.pos = i
			return "", false, p.Fail("invalid number")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		plain = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			p.pos = i
			return "", false, p.Fail("invalid number")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	p.pos = i
	return s[start:i], plain, nil
}

func digitsOf(n string) string {
	if n[0] == '-' {
		return n[1:]
	}
	return n
}

// Number reads a number.
func (p *Parser) Number() (float64, error) {
	text, plain, err := p.scanNumber()
	if err != nil {
		return 0, err
	}
	if plain {
		var n int64
		d := digitsOf(text)
		for i := 0; i < len(d); i++ {
			n = n*10 + int64(d[i]-'0')
		}
		if len(d) != len(text) {
			if n == 0 {
				return negativeZero, nil
			}
			n = -n
		}
		return float64(n), nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		// out of range: encoding/json refuses it as well
		return 0, fmt.Errorf("%w: number %s out of range", ErrSyntax, text)
	}
	return f, nil
}

var negativeZero = func() float64 { z := 0.0; return -z }()

// Int reads a number that must be integral, as JS numbers are when they
// stand for integers; 2.0 and 1e1 are integers.
func (p *Parser) Int() (int64, bool, error) {
	text, plain, err := p.scanNumber()
	if err != nil {
		return 0, false, err
	}
	if plain {
		var n int64
		d := digitsOf(text)
		for i := 0; i < len(d); i++ {
			n = n*10 + int64(d[i]-'0')
		}
		if len(d) != len(text) {
			n = -n
		}
		return n, true, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f != float64(int64(f)) {
		return 0, false, nil
	}
	return int64(f), true, nil
}

// skipString checks and skips a string.
func (p *Parser) skipString() error {
	_, err := p.Str()
	return err
}

// Str reads a string, decoding escapes; invalid UTF-8 becomes U+FFFD, as
// encoding/json decodes it. A string without escapes is a slice of the
// text.
func (p *Parser) Str() (string, error) {
	s, i := p.s, p.pos
	if i >= len(s) || s[i] != '"' {
		return "", p.Fail("expected a string")
	}
	i++
	start := i
	for i < len(s) && strPlain[s[i]] {
		i++
	}
	ascii := true
	for ; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			p.pos = i + 1
			str := s[start:i]
			if !ascii && !utf8.ValidString(str) {
				return toValidUTF8(str), nil
			}
			if p.CopyStrings {
				return strings.Clone(str), nil
			}
			return str, nil
		}
		if c < 0x20 {
			p.pos = i
			return "", p.Fail("control character in string")
		}
		if c == '\\' {
			return p.escaped(start)
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	p.pos = i
	return "", p.Fail("unterminated string")
}

// strPlain tells the bytes a string holds without a closer look: ASCII
// but control characters, the quote and the backslash.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func toValidUTF8(s string) string {
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		out = utf8.AppendRune(out, r)
		i += size
	}
	return string(out)
}

// escaped reads the rest of a string that has escapes; start is the offset
// of its first byte after the quote.
func (p *Parser) escaped(start int) (string, error) {
	s := p.s
	out := make([]byte, 0, 32)
	i := start
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(out), nil
		case c < 0x20:
			p.pos = i
			return "", p.Fail("control character in string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			out = utf8.AppendRune(out, r)
			i += size
			continue
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		i++
		if i >= len(s) {
			p.pos = i
			return "", p.Fail("unexpected end")
		}
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
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
			r, ok := hex4(s, i+1)
			if !ok {
				p.pos = i
				return "", p.Fail("invalid escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if x, ok := hex4(s, i+3); ok {
						r2 = x
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			p.pos = i
			return "", p.Fail("invalid escape")
		}
		i++
	}
	p.pos = i
	return "", p.Fail("unterminated string")
}

func hex4(s string, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	var n rune
	for _, c := range []byte(s[at : at+4]) {
		n <<= 4
		switch {
		case c >= '0' && c <= '9':
			n |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			n |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			n |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return n, true
}

// ParseValue reads text, one JSON value, into JSON-like data.
func ParseValue(text string) (any, error) {
	p := Parser{s: text}
	v, err := p.Value(0)
	if err != nil {
		return nil, err
	}
	return v, p.End()
}

// ParseObject reads text, an object or null, into a map; null gives nil.
func ParseObject(text string) (map[string]any, error) {
	p := Parser{s: text}
	if null, err := p.Null(); null || err != nil {
		if err == nil {
			err = p.End()
		}
		return nil, err
	}
	m, err := p.Map(0)
	if err != nil {
		return nil, err
	}
	return m, p.End()
}

// Valid reports whether b is one JSON value, as json.Valid does.
func Valid(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	// a view of b, read only during this call
	p := Parser{s: unsafe.String(unsafe.SliceData(b), len(b))}
	return p.Skip(0) == nil && p.End() == nil
}

// Codec is the packets.RawCodec of JSON text that the serializers keep
// params and data in: its format is packets.JSONFormat, so the text passes
// through a JSON encoder as it is, and decoding into a *any takes the
// parser's fast path; other targets go through encoding/json, as with
// packets.JSON.
var Codec packets.RawCodec = codec{}

type codec struct{}

func (codec) Format() string { return packets.JSONFormat }

func (codec) DecodeValue(raw []byte, into any) error {
	if p, ok := into.(*any); ok && p != nil {
		v, err := ParseValue(string(raw))
		if err != nil {
			return err
		}
		*p = v
		return nil
	}
	return packets.JSON.DecodeValue(raw, into)
}
