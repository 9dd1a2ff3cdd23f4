package jsonlike

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// firstStop is what stops and specials find, byte by byte: the offset of
// the first byte of w that is a quote, a backslash or a control character,
// or with nonASCII also a byte of 0x80 or more; 8 if there is none.
func firstStop(w [8]byte, nonASCII bool) int {
	for i, c := range w {
		if isStop(c) || nonASCII && c >= 0x80 {
			return i
		}
	}
	return 8
}

func flagged(mask uint64) int {
	if mask == 0 {
		return 8
	}
	return firstFlagged(mask)
}

// The word tests find the first byte they look for wherever it is, whatever
// the bytes around it: every byte value at every position over every fill,
// then words of random bytes, which hold several such bytes at once (a
// borrow from one must not flag a byte below it).
func TestWordTests(t *testing.T) {
	check := func(w [8]byte) {
		t.Helper()
		x := binary.LittleEndian.Uint64(w[:])
		if word(string(w[:]), 0) != x {
			t.Fatalf("word(% x) = %#x", w, word(string(w[:]), 0))
		}
		if got, want := flagged(stops(x)), firstStop(w, false); got != want {
			t.Fatalf("stops(% x): byte %d, want %d", w, got, want)
		}
		if got, want := flagged(specials(x)), firstStop(w, true); got != want {
			t.Fatalf("specials(% x): byte %d, want %d", w, got, want)
		}
		want := 0
		if k := firstStop(w, false); k < 8 && w[k] == '"' {
			want = k + 2
		}
		if got := shortString(x); got != want {
			t.Fatalf("shortString(% x) = %d, want %d", w, got, want)
		}
	}
	for fill := range 256 {
		for pos := range 8 {
			for c := range 256 {
				var w [8]byte
				for i := range w {
					w[i] = byte(fill)
				}
				w[pos] = byte(c)
				check(w)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := []byte{0, 0x1f, 0x20, 0x21, '"', 0x23, '\\', 0x5b, 0x5d, 0x7f, 0x80, 0xa1, 0xdf, 0xff, 'a'}
	for range 1 << 18 {
		var w [8]byte
		for i := range w {
			if r.IntN(2) == 0 {
				w[i] = byte(r.UintN(256))
			} else {
				w[i] = pick[r.IntN(len(pick))]
			}
		}
		check(w)
	}
}

// The scanners agree with a byte-by-byte scan wherever the byte that ends
// a run is (within a word, on a word's first or last byte, in the last few
// bytes read one at a time) and when the text ends first.
func TestScanners(t *testing.T) {
	for n := range 25 {
		for pos := -1; pos < n; pos++ {
			for _, c := range []byte{'"', '\\', 0x00, 0x1f, 0x80, 0xff, 0x20, 'x'} {
				b := []byte(strings.Repeat("a", n))
				if pos >= 0 {
					b[pos] = c
				}
				s := string(b)
				wantEnd, wantNonASCII := len(s), false
				for i := range len(s) {
					if isStop(s[i]) {
						wantEnd = i
						break
					}
					wantNonASCII = wantNonASCII || s[i] >= 0x80
				}
				if end, nonASCII := plainRun(s, 0); end != wantEnd || nonASCII != wantNonASCII {
					t.Errorf("plainRun(%q) = %d, %v; want %d, %v", s, end, nonASCII, wantEnd, wantNonASCII)
				}
				wantASCII := len(s)
				for i := range len(s) {
					if isStop(s[i]) || s[i] >= 0x80 {
						wantASCII = i
						break
					}
				}
				if end := asciiEnd(s, 0); end != wantASCII {
					t.Errorf("asciiEnd(%q) = %d, want %d", s, end, wantASCII)
				}
			}
		}
	}
}

// Strings whose every byte may end a word or fall in the last few bytes
// read one by one, with a quote, backslash, escape, control character or
// non-ASCII byte at each offset, closed or cut short: the parser reads and
// refuses them as encoding/json does, and Skip and Valid agree.
func TestStringsAtEveryOffset(t *testing.T) {
	insert := []string{`"`, `\`, `\n`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\x`, `\u12`, "\x00", "\x1f", "\x7f", "é", "\xff", "\xc3", "€",
		`\t0123456789\"abcdefghij\u00e9`, "\\n123456789\x01", `\/12345678\q`, `\\12345678"`}
	for n := range 20 {
		for pos := 0; pos <= n; pos++ {
			for _, ins := range insert {
				body := strings.Repeat("a", pos) + ins + strings.Repeat("b", n-pos)
				for _, in := range []string{
					`"` + body + `"`,       // the string is the text
					`"` + body,             // cut short
					`["` + body + `",1]`,   // in an array
					`{"` + body + `":"x"}`, // as a key
				} {
					checkLikeEncodingJSON(t, in)
				}
			}
		}
	}
}

// checkLikeEncodingJSON checks that ParseValue, Skip and Valid accept in
// exactly when encoding/json does, and that ParseValue reads the same.
func checkLikeEncodingJSON(t *testing.T, in string) {
	t.Helper()
	var want any
	errStd := json.Unmarshal([]byte(in), &want)
	got, err := ParseValue(in)
	if (err == nil) != (errStd == nil) {
		t.Errorf("%q: error %v, encoding/json %v", in, err, errStd)
		return
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Errorf("%q: got %#v, want %#v", in, got, want)
	}
	if Valid([]byte(in)) != (errStd == nil) {
		t.Errorf("%q: Valid %v, encoding/json %v", in, Valid([]byte(in)), errStd)
	}
	p := NewParser(in)
	if err := p.Skip(0); (err == nil && p.End() == nil) != (errStd == nil) {
		t.Errorf("%q: Skip %v, encoding/json %v", in, err, errStd)
	}
}

// Skip keeps track of objects and arrays nested across the 64 levels of a
// word of its stack, refuses a closing bracket of the wrong kind at any
// level, and refuses nesting beyond MaxDepth, counting from its depth
// argument, where ParseValue does.
func TestSkipNesting(t *testing.T) {
	nested := func(levels int, inner string) string {
		var open, closing strings.Builder
		for i := range levels {
			if i%3 == 1 {
				open.WriteString(`{"k":`)
				closing.WriteString("}")
			} else {
				open.WriteString("[")
				closing.WriteString("]")
			}
		}
		c := []rune(closing.String())
		for i, j := 0, len(c)-1; i < j; i, j = i+1, j-1 {
			c[i], c[j] = c[j], c[i]
		}
		return open.String() + inner + string(c)
	}
	for _, levels := range []int{1, 2, 63, 64, 65, 66, 127, 128, 129, 200, MaxDepth, MaxDepth + 1, MaxDepth + 2} {
		for _, inner := range []string{`1`, `"x"`, `[]`, `{}`, `[1,{"a":null}]`} {
			in := nested(levels, inner)
			checkLikeEncodingJSONNesting(t, in)
			// a wrong closing bracket at the innermost level
			bad := in[:strings.LastIndex(in, inner)+len(inner)] + swapBracket(in[strings.LastIndex(in, inner)+len(inner)])
			checkLikeEncodingJSONNesting(t, bad+in[strings.LastIndex(in, inner)+len(inner)+1:])
		}
	}
	for _, depth := range []int{0, 1, 500, MaxDepth - 1, MaxDepth} {
		for _, levels := range []int{1, 2, MaxDepth - depth, MaxDepth - depth + 1, MaxDepth - depth + 2} {
			in := nested(levels, "0")
			p := NewParser(in)
			err := p.Skip(depth)
			if want := depth+levels-1 <= MaxDepth; (err == nil) != want {
				t.Errorf("Skip(%d) of %d levels: %v, want ok %v", depth, levels, err, want)
			}
		}
	}
}

func swapBracket(c byte) string {
	switch c {
	case '}':
		return "]"
	case ']':
		return "}"
	}
	return string(c)
}

// checkLikeEncodingJSONNesting is checkLikeEncodingJSON for text that may
// nest deeper than MaxDepth allows (the outermost value is at depth 0) but
// encoding/json's limit (10000) does not.
func checkLikeEncodingJSONNesting(t *testing.T, in string) {
	t.Helper()
	if strings.Count(in, "[")+strings.Count(in, "{") <= MaxDepth+1 {
		checkLikeEncodingJSON(t, in)
		return
	}
	if _, err := ParseValue(in); err == nil {
		t.Errorf("%.40q…: nesting beyond MaxDepth accepted", in)
	}
	if Valid([]byte(in)) {
		t.Errorf("%.40q…: nesting beyond MaxDepth Valid", in)
	}
}
