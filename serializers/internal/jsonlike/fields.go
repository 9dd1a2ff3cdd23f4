package jsonlike

import (
	"strconv"
	"strings"
)

// Fields reads the objects whose keys a program knows, such as the packets
// of the protocol, with less work per key than Object: a key is matched
// against the one expected next by comparing two words of text, and its
// value is dispatched by its index.

// Keys are the keys of a kind of object in the order its writers put them,
// for Parser.Fields. They are read only.
type Keys struct {
	names []string
	heads []keyHead
}

// keyHead is how a key and the colon after it start in compact JSON
// (`"name":`, 16 bytes at most): the bytes as two little-endian words, and
// masks that keep only those bytes of a word of the input.
type keyHead struct {
	words, mask [2]uint64
	len         int
}

// UnknownKey is the index Parser.Fields gives a key that Keys do not have.
const UnknownKey = -1

// NewKeys returns keys with names. A name must be printable ASCII that
// JSON does not escape, of 13 bytes at most; NewKeys panics if one is not.
func NewKeys(names []string) *Keys {
	k := &Keys{names: names, heads: make([]keyHead, len(names))}
	for i, name := range names {
		text := `"` + name + `":`
		if len(text) > 16 || strings.ContainsFunc(name, escaped) {
			panic("jsonlike: key " + strconv.Quote(name) + " is not short and plain")
		}
		h := &k.heads[i]
		h.len = len(text)
		for j := range len(text) {
			h.words[j/8] |= uint64(text[j]) << (j % 8 * 8)
			h.mask[j/8] |= 0xff << (j % 8 * 8)
		}
	}
	return k
}

// escaped reports whether JSON writes r otherwise than as one byte.
func escaped(r rune) bool { return r < ' ' || r > '~' || r == '"' || r == '\\' }

// at reports whether the text of s at i starts with h, comparing two words
// of it. Near the end of s, with no two words to compare, it reports
// false: the caller then reads the key as any other.
func (h *keyHead) at(s string, i int) bool {
	if i+16 > len(s) {
		return false
	}
	t := s[i : i+16] // of known length: no more bounds checks
	return word(t, 0)&h.mask[0] == h.words[0] && word(t, 8)&h.mask[1] == h.words[1]
}

// Name returns the name of the key of index i.
func (k *Keys) Name(i int) string { return k.names[i] }

// Len returns the number of keys.
func (k *Keys) Len() int { return len(k.names) }

// index returns the index of key in k, or UnknownKey.
func (k *Keys) index(key string) int {
	for i, name := range k.names {
		if name == key {
			return i
		}
	}
	return UnknownKey
}

// Fields reads an object like Object, but calls field with the index of
// each key in keys (UnknownKey for keys it does not have). It expects the
// keys in the order keys has them, some perhaps left out: a key where it
// is expected is recognized by comparing the text with it, without reading
// a string or looking it up.
func (p *Parser) Fields(depth int, keys *Keys, field func(key int) error) error {
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
	next := 0 // the index of the key expected
	for {
		key := UnknownKey
		for k := next; k < len(keys.heads); k++ {
			if keys.heads[k].at(p.s, p.pos) {
				key = k
				p.pos += keys.heads[k].len
				break
			}
		}
		if key == UnknownKey { // out of order, unknown, or not compact
			p.WS()
			name, err := p.Str()
			if err != nil {
				return err
			}
			if p.Peek() != ':' {
				return p.Fail("expected ':'")
			}
			p.pos++
			key = keys.index(name)
		}
		if key != UnknownKey {
			next = key + 1
		}
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
