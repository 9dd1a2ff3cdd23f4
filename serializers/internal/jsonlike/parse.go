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
func (p *Parser) WS() { p.pos = skipWS(p.s, p.pos) }

// skipWS returns the offset of the first byte of s from i on that is not
// white space.
func skipWS(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// spaces has a bit set for each byte that is JSON white space.
const spaces uint64 = 1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\r'

// isSpace reports whether c is JSON white space.
func isSpace(c byte) bool { return c <= ' ' && spaces>>c&1 == 1 }

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
	_, err := p.Literal()
	return true, err
}

// Literal reads true, false or null if one comes next, and returns its
// first byte ('t', 'f' or 'n'); otherwise it returns 0, having read only
// white space.
func (p *Parser) Literal() (byte, error) {
	var (
		end  int
		what string
	)
	switch c := p.Peek(); c { // constant literals: compared as words
	case 't':
		end, what = literalEnd(p.s, p.pos, "true")
	case 'f':
		end, what = literalEnd(p.s, p.pos, "false")
	case 'n':
		end, what = literalEnd(p.s, p.pos, "null")
	default:
		return 0, nil
	}
	c := p.s[p.pos]
	if what != "" {
		return c, p.Fail(what)
	}
	p.pos = end
	return c, nil
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
	case 't', 'f':
		c, err := p.Literal()
		return c == 't', err
	case 'n':
		_, err := p.Literal()
		return nil, err
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

// Skip checks and skips one value. depth is its nesting.
func (p *Parser) Skip(depth int) error {
	c := p.Peek()
	if c == '{' || c == '[' {
		return p.skipNested(depth)
	}
	if c == 0 && p.pos >= len(p.s) {
		return p.Fail("unexpected end")
	}
	end, what := scalarEnd(p.s, p.pos)
	p.pos = end
	if what != "" {
		return p.Fail(what)
	}
	return nil
}

// skipNested checks and skips an object or array, whatever it holds, in
// one loop: no recursion, and no call per value but for long strings and
// for numbers. A bit for each container open around the current value says
// whether it is an object (whose values follow keys, and which '}' closes)
// or an array.
//
// Compact JSON has no white space: each step looks for the byte it expects
// first, and skips white space only if that is not there.
func (p *Parser) skipNested(depth int) error {
	var (
		outer  [MaxDepth/64 + 1]uint64 // bit k: the container at level k is an object
		n      uint                    // the containers open; the innermost is at level n-1
		object bool                    // the innermost is an object (its bit, cached)
		key    bool                    // a key comes next
		what   string                  // what is wrong at i
	)
	s, i := p.s, p.pos
values:
	for what == "" {
		if key {
			if i >= len(s) || s[i] != '"' {
				if i = skipWS(s, i); i >= len(s) || s[i] != '"' {
					what = "expected a string"
					break
				}
			}
			// Most keys are short: see to them here, with no call.
			short := 0
			if i+9 <= len(s) {
				short = shortString(word(s, i+1))
			}
			if short > 0 {
				i += short
			} else if i, what = stringEnd(s, i); what != "" {
				break
			}
			if i >= len(s) || s[i] != ':' {
				if i = skipWS(s, i); i >= len(s) || s[i] != ':' {
					what = "expected ':'"
					break
				}
			}
			i++
		}
		// At a value in n containers.
		if i >= len(s) || s[i] <= ' ' {
			if i = skipWS(s, i); i >= len(s) {
				what = "unexpected end"
				break
			}
		}
		switch c := s[i]; c {
		case '"':
			short := 0
			if i+9 <= len(s) {
				short = shortString(word(s, i+1))
			}
			if short > 0 {
				i += short
			} else {
				i, what = stringEnd(s, i)
			}
		case '{', '[':
			if depth+int(n) > MaxDepth || n >= 64*uint(len(outer)) {
				what = "too deeply nested"
				break values
			}
			if n > 0 { // save the kind of the container around this one
				k := n - 1
				outer[k/64] = outer[k/64]&^(1<<(k%64)) | bit(object)<<(k%64)
			}
			n++
			object = c == '{'
			if i++; i >= len(s) || s[i] != closer(object) {
				if i = skipWS(s, i); i >= len(s) || s[i] != closer(object) {
					key = object
					continue
				}
			}
			i++ // an empty container, a value in the one around it
			n--
			object = n > 0 && outer[(n-1)/64]>>((n-1)%64)&1 == 1
		default:
			i, what = scalarEnd(s, i)
		}
		// After a value: close the containers that end here.
		for what == "" && n > 0 {
			if i >= len(s) || s[i] <= ' ' {
				i = skipWS(s, i)
			}
			switch {
			case i >= len(s):
				what = "unexpected end"
			case s[i] == ',':
				i++
				key = object
				continue values
			case s[i] == closer(object):
				i++
				n--
				object = n > 0 && outer[(n-1)/64]>>((n-1)%64)&1 == 1
			default:
				what = "expected ',' or a closing bracket"
			}
		}
		if n == 0 && what == "" {
			p.pos = i
			return nil
		}
	}
	p.pos = i
	return p.Fail(what)
}

// bit is 1 for true, 0 for false.
func bit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// closer is the byte that closes an object or an array.
func closer(object bool) byte {
	if object {
		return '}'
	}
	return ']'
}

// scalarEnd checks the string, literal or number at s[i] and returns the
// offset just past it. On failure, what says what is wrong at end.
func scalarEnd(s string, i int) (end int, what string) {
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case 't':
		return literalEnd(s, i, "true")
	case 'f':
		return literalEnd(s, i, "false")
	case 'n':
		return literalEnd(s, i, "null")
	}
	return numberEnd(s, i)
}

// literalEnd checks that lit is at s[i] and returns the offset after it.
func literalEnd(s string, i int, lit string) (end int, what string) {
	if !strings.HasPrefix(s[i:], lit) {
		return i, "invalid literal"
	}
	return i + len(lit), ""
}

// literal reads lit, which must come next.
func (p *Parser) literal(lit string) error {
	end, what := literalEnd(p.s, p.pos, lit)
	if what != "" {
		return p.Fail(what)
	}
	p.pos = end
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digitsEnd returns the offset of the first byte of s from i on that is not
// a digit.
func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// numberEnd checks the number at s[i] and returns the offset just past it.
// On failure, what says what is wrong at end.
func numberEnd(s string, i int) (end int, what string) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digitsEnd(s, i)
	default:
		return digits, "invalid value"
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return i, "invalid number"
		}
		i = digitsEnd(s, i)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return i, "invalid number"
		}
		i = digitsEnd(s, i)
	}
	return i, ""
}

// scanNumber checks the number at the current offset, moves past it and
// returns its text.
func (p *Parser) scanNumber() (string, error) {
	start := p.pos
	end, what := numberEnd(p.s, start)
	p.pos = end
	if what != "" {
		return "", p.Fail(what)
	}
	return p.s[start:end], nil
}

// integer reads a plain integer of at most 15 digits (exact in a float64)
// if one comes next, as most numbers in packets are: it returns its
// magnitude and whether it has a minus sign. For any other number, or
// text that is no number, ok is false and nothing is read.
func (p *Parser) integer() (n int64, minus, ok bool) {
	s, i := p.s, p.pos
	if i < len(s) && s[i] == '-' {
		minus = true
		i++
	}
	start := i
	for ; i < len(s) && isDigit(s[i]); i++ {
		n = n*10 + int64(s[i]-'0') // wraps harmlessly past 18 digits
	}
	switch {
	case i == start, i-start > 15, s[start] == '0' && i > start+1:
		return 0, false, false
	case i < len(s) && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'):
		return 0, false, false
	}
	p.pos = i
	return n, minus, true
}

// Number reads a number.
func (p *Parser) Number() (float64, error) {
	if n, minus, ok := p.integer(); ok {
		if minus {
			return -float64(n), nil // -0 for -0
		}
		return float64(n), nil
	}
	text, err := p.scanNumber()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		// out of range: encoding/json refuses it as well
		return 0, fmt.Errorf("%w: number %s out of range", ErrSyntax, text)
	}
	return f, nil
}

// Int reads a number that must be integral, as JS numbers are when they
// stand for integers; 2.0 and 1e1 are integers.
func (p *Parser) Int() (int64, bool, error) {
	if n, minus, ok := p.integer(); ok {
		if minus {
			n = -n
		}
		return n, true, nil
	}
	text, err := p.scanNumber()
	if err != nil {
		return 0, false, err
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f != float64(int64(f)) {
		return 0, false, nil
	}
	return int64(f), true, nil
}

// Str reads a string, decoding escapes; invalid UTF-8 becomes U+FFFD, as
// encoding/json decodes it. A string without escapes is a slice of the
// text.
func (p *Parser) Str() (string, error) {
	s, i := p.s, p.pos
	if i >= len(s) || s[i] != '"' {
		return "", p.Fail("expected a string")
	}
	start := i + 1
	var end int
	if start+8 <= len(s) {
		// Most strings are short: look for the end in the word after the
		// quote first, with no call.
		if m := specials(word(s, start)); m != 0 {
			end = start + firstFlagged(m)
		} else {
			end = asciiEnd(s, start+8)
		}
	} else {
		end = asciiEnd(s, start)
	}
	if end == len(s) || s[end] != '"' {
		return p.strSlow(start)
	}
	p.pos = end + 1
	return s[start:end], nil
}

// strSlow reads the rest of a string that is not plain ASCII: it has bytes
// of 0x80 or more, or escapes, or is malformed. start is the offset of its
// first byte after the quote.
func (p *Parser) strSlow(start int) (string, error) {
	s := p.s
	end, nonASCII := plainRun(s, start)
	if end == len(s) || s[end] != '"' {
		return p.escaped(start)
	}
	p.pos = end + 1
	str := s[start:end]
	if nonASCII && !utf8.ValidString(str) {
		return string(appendValidUTF8(nil, str)), nil
	}
	return str, nil
}

// appendValidUTF8 appends s with every byte that is not part of valid
// UTF-8 replaced by U+FFFD, as encoding/json decodes it.
func appendValidUTF8(out []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		out = utf8.AppendRune(out, r)
		i += size
	}
	return out
}

// escaped reads the rest of a string that does not end where its first run
// of plain bytes does: it has escapes, or is malformed. start is the offset
// of its first byte after the quote.
//
// The runs between escapes are checked for UTF-8 one by one: a valid UTF-8
// sequence holds no ASCII byte, so cutting the text at the backslashes
// changes nothing.
func (p *Parser) escaped(start int) (string, error) {
	s := p.s
	var buf [64]byte // for the usual short string, on the stack
	out := buf[:0]
	for i := start; ; {
		end, nonASCII := plainRun(s, i)
		if nonASCII && !utf8.ValidString(s[i:end]) {
			out = appendValidUTF8(out, s[i:end])
		} else {
			out = append(out, s[i:end]...)
		}
		if end == len(s) {
			p.pos = end
			return "", p.Fail("unterminated string")
		}
		switch s[end] {
		case '"':
			p.pos = end + 1
			return string(out), nil
		case '\\':
			var n int
			if out, n = appendUnescaped(out, s, end); n == 0 {
				p.pos = end + 1
				return "", p.Fail("invalid escape")
			}
			i = end + n
		default:
			p.pos = end
			return "", p.Fail("control character in string")
		}
	}
}

// appendUnescaped appends what the escape at s[i], a backslash, stands for
// and returns the escape's length, 0 if JSON has no such escape. A \u
// escape of the first half of a UTF-16 surrogate pair followed by one of
// the second half stands for the pair's character; any other surrogate
// stands for U+FFFD, as in encoding/json.
func appendUnescaped(out []byte, s string, i int) ([]byte, int) {
	if i+1 >= len(s) {
		return out, 0
	}
	switch c := s[i+1]; c {
	case '"', '\\', '/':
		return append(out, c), 2
	case 'b':
		return append(out, '\b'), 2
	case 'f':
		return append(out, '\f'), 2
	case 'n':
		return append(out, '\n'), 2
	case 'r':
		return append(out, '\r'), 2
	case 't':
		return append(out, '\t'), 2
	case 'u':
		r, ok := hex4(s, i+2)
		if !ok {
			return out, 0
		}
		if !utf16.IsSurrogate(r) {
			return utf8.AppendRune(out, r), 6
		}
		second := rune(-1)
		if i+7 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
			if r2, ok := hex4(s, i+8); ok {
				second = r2
			}
		}
		if pair := utf16.DecodeRune(r, second); pair != utf8.RuneError {
			return utf8.AppendRune(out, pair), 12
		}
		return utf8.AppendRune(out, utf8.RuneError), 6
	}
	return out, 0
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

// ValidObject reports whether b is one JSON object.
func ValidObject(b []byte) bool {
	// a view of b, read only during this call
	p := Parser{s: unsafe.String(unsafe.SliceData(b), len(b))}
	p.WS()
	return p.Peek() == '{' && p.Skip(0) == nil && p.End() == nil
}

// Codec is the packets.RawCodec of JSON text that the serializers keep
// params and data in: its format is packets.JSONFormat, so the text passes
// through a JSON encoder as it is, and decoding into a *any takes the
// parser's fast path; other targets go through encoding/json, as with
// packets.JSON.
var Codec packets.RawCodec = codec{}

type codec struct{}

func (codec) Format() string { return packets.JSONFormat }

// IsEmptyObject reports whether raw is {}, white space aside; it makes
// Codec a packets.EmptyObjectChecker.
func (codec) IsEmptyObject(raw []byte) bool {
	// a view of raw, read only during this call
	p := Parser{s: unsafe.String(unsafe.SliceData(raw), len(raw))}
	if p.Peek() != '{' {
		return false
	}
	p.pos++
	if p.Peek() != '}' {
		return false
	}
	p.pos++
	return p.End() == nil
}

func (codec) DecodeValue(raw []byte, into any) error {
	if p, ok := into.(*any); ok && p != nil {
		// raw never changes (packets.Value), so the strings read can be
		// slices of it
		v, err := ParseValue(unsafe.String(unsafe.SliceData(raw), len(raw)))
		if err != nil {
			return err
		}
		*p = v
		return nil
	}
	return packets.JSON.DecodeValue(raw, into)
}
