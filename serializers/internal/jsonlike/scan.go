package jsonlike

import (
	"encoding/binary"
	"math/bits"
)

// The scanners below read JSON text eight bytes at a time where they can:
// a string's body, most of the text, is looked at as 64-bit words, and a
// few arithmetic operations on a word find the first byte in it that ends
// a run of plain characters (SWAR, "SIMD within a register").
//
// Each test is the classic "has a zero byte" trick. For a word x,
//
//	(x - 0x0101…01) &^ x & 0x8080…80
//
// sets the high bit of the lowest byte of x that is zero: subtracting 1
// from a zero byte borrows and sets its high bit, while &^ x drops bytes
// whose high bit was set already. Bytes above the lowest zero byte may be
// flagged falsely by the borrow the zero byte passes up, but bytes below it
// never are, so the lowest flagged byte is always the right one, and that
// is the only one the scanners use. x = w ^ (c * 0x0101…01) finds the
// byte c in w; w - (n * 0x0101…01) in place of x - 0x0101…01 finds a byte
// below n (for n <= 0x80).

const (
	lows  = 0x0101010101010101 // 0x01 in every byte
	highs = 0x8080808080808080 // the high bit of every byte
)

// word returns the eight bytes of s from i on as a little-endian word:
// s[i] is its low byte. The conversion to []byte copies nothing (the
// compiler sees that the slice neither escapes nor changes), and the load
// is one instruction.
func word(s string, i int) uint64 { return binary.LittleEndian.Uint64([]byte(s[i : i+8])) }

// stops flags, with its high bit, the first byte of w that a string's body
// cannot hold as it is: a quote, a backslash or a control character (below
// 0x20). Bytes below it are clear; bytes above it may be flagged too (see
// above).
//
// Two tests do for the three kinds of byte: flipping bit 1 (^ 0x02) maps
// the quote (0x22) to 0x20 and the control characters onto themselves, so
// the bytes below 0x21 of w ^ 0x0202…02 are exactly the quote and the
// control characters; the other test finds the backslash. Both patterns
// have the high bit clear, so the final &^ w drops the bytes of 0x80 and
// more, whatever the subtractions left in their high bits.
func stops(w uint64) uint64 {
	x := w ^ (lows * 0x02)
	y := w ^ (lows * '\\')
	return ((x - lows*0x21) | (y - lows)) &^ w & highs
}

// specials is stops, and also flags the bytes of 0x80 and more (which may
// start invalid UTF-8): a byte below the first flagged one is plain ASCII,
// so the subtractions set no high bit below it either.
func specials(w uint64) uint64 {
	x := w ^ (lows * 0x02)
	y := w ^ (lows * '\\')
	return ((x - lows*0x21) | (y - lows) | w) & highs
}

// firstFlagged is the offset in its word of the byte whose high bit is the
// lowest bit set in mask (mask != 0).
func firstFlagged(mask uint64) int { return bits.TrailingZeros64(mask) >> 3 }

// below keeps the bytes of w below the first flagged byte of mask
// (mask != 0): mask & -mask is that byte's high bit, and the bits under it
// are the lower bytes and the flagged byte's low seven bits, which hold no
// high bit.
func below(w, mask uint64) uint64 { return w & (mask&-mask - 1) }

// isStop reports whether a string's body cannot hold c as it is.
func isStop(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }

// asciiEnd returns the offset of the first byte of s from i on that a
// string's body does not hold as plain ASCII: a quote, a backslash, a
// control character or a byte of 0x80 or more; len(s) if none.
func asciiEnd(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := specials(word(s, i)); m != 0 {
			return i + firstFlagged(m)
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; isStop(c) || c >= 0x80 {
			break
		}
	}
	return i
}

// plainRun returns the end of the run of bytes of s from i on that a
// string's body holds as they are: the offset of the first quote,
// backslash or control character, or len(s). nonASCII reports whether the
// run has a byte of 0x80 or more (which may start invalid UTF-8).
func plainRun(s string, i int) (end int, nonASCII bool) {
	var high uint64 // or of the bytes read, for their high bits
	for ; i+8 <= len(s); i += 8 {
		w := word(s, i)
		if m := stops(w); m != 0 {
			return i + firstFlagged(m), (high|below(w, m))&highs != 0
		}
		high |= w
	}
	for ; i < len(s); i++ {
		if isStop(s[i]) {
			break
		}
		high |= uint64(s[i])
	}
	return i, high&highs != 0
}

// stringEnd checks the string that starts at s[i], a quote, and returns the
// offset just past it. It only checks: escapes are well formed and control
// characters escaped, as JSON wants; UTF-8 is not (invalid UTF-8 decodes
// to U+FFFD, as in encoding/json). On failure, end is where the string
// goes wrong and what says how.
//
// The loop here takes a string without escapes, read a word at a time; the
// rest is for stringEndSlow, so that this loop makes no call.
func stringEnd(s string, i int) (end int, what string) {
	for i++; i+8 <= len(s); i += 8 {
		if m := stops(word(s, i)); m != 0 {
			if i += firstFlagged(m); s[i] == '"' {
				return i + 1, ""
			}
			break
		}
	}
	return stringEndSlow(s, i)
}

// shortString returns the length, quotes included, of a string whose body
// ends in w, the word after its opening quote, with no escape or control
// character on the way; otherwise 0. It is small enough to be inlined.
func shortString(w uint64) int {
	b := bits.TrailingZeros64(stops(w)) // the flagged byte's high bit, or 64
	if b == 64 || byte(w>>(b-7)) != '"' {
		return 0
	}
	return b/8 + 2
}

// stringEndSlow is stringEnd from s[i] on, for strings with escapes or
// errors: it checks each escape, reads the runs between them a word at a
// time, and the last few bytes of the text one by one.
func stringEndSlow(s string, i int) (end int, what string) {
	for i < len(s) {
		switch c := s[i]; {
		case c == '"':
			return i + 1, ""
		case c == '\\':
			n := escapeLen(s, i)
			if n == 0 {
				return i + 1, "invalid escape"
			}
			for i += n; i+8 <= len(s); i += 8 {
				if m := stops(word(s, i)); m != 0 {
					i += firstFlagged(m)
					break
				}
			}
		case c < 0x20:
			return i, "control character in string"
		default:
			i++
		}
	}
	return i, "unterminated string"
}

// escapeLen returns the length of the escape at s[i], a backslash, or 0 if
// it is not one JSON has.
func escapeLen(s string, i int) int {
	if i+1 >= len(s) {
		return 0
	}
	switch s[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if _, ok := hex4(s, i+2); ok {
			return 6
		}
	}
	return 0
}
