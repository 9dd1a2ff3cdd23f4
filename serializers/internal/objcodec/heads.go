package objcodec

import (
	"encoding/binary"
	"math"
)

// The first byte of an item, its head, says in both formats what the item
// is and where its argument (a number, a length) is: in the byte itself or
// in the 1, 2, 4 or 8 bytes after it. The fast paths of the reader look
// heads up in a table of the format instead of decoding them; what a table
// leaves to the format's own decoder (hOther) is what is rare in payloads:
// tags, extensions, indefinite lengths and invalid codes.

// hkind is the kind of item a head starts.
type hkind uint8

const (
	hOther  hkind = iota // left to nextCBOR or nextMsgPack
	hUint                // an unsigned integer, the argument
	hNint                // a negative integer, -1 minus the argument
	hInt                 // a MessagePack int 8/16/32/64: the argument is two's complement
	hFloat               // a float of 2 (CBOR), 4 or 8 bytes
	hString              // the argument is the length in bytes
	hBinary              // the argument is the length in bytes
	hArray               // the argument is the number of elements
	hMap                 // the argument is the number of entries
	hFalse
	hTrue
	hNull
	hUndefined
)

// head is the table entry of one head byte.
type head struct {
	kind hkind
	size uint8 // bytes of argument after the head byte: 0, 1, 2, 4 or 8
	arg  uint8 // the argument when size is 0
}

// heads are the head tables of the formats; nothing writes them after
// package initialization.
var heads = [...][256]head{MsgPack: msgpackHeads(), Notepack: msgpackHeads(), CBOR: cborHeads()}

func msgpackHeads() (t [256]head) {
	for c := range 0x80 {
		t[c] = head{kind: hUint, arg: uint8(c)}
	}
	for c := range 16 {
		t[0x80|c] = head{kind: hMap, arg: uint8(c)}
		t[0x90|c] = head{kind: hArray, arg: uint8(c)}
	}
	for c := range 32 {
		t[0xa0|c] = head{kind: hString, arg: uint8(c)}
		t[0xe0|c] = head{kind: hNint, arg: uint8(31 - c)} // -32 + c = -1 - (31 - c)
	}
	t[0xc0] = head{kind: hNull}
	t[0xc2] = head{kind: hFalse}
	t[0xc3] = head{kind: hTrue}
	for i := range 4 {
		size := uint8(1) << i
		if i < 3 {
			t[0xc4+i] = head{kind: hBinary, size: size}
			t[0xd9+i] = head{kind: hString, size: size}
		}
		t[0xcc+i] = head{kind: hUint, size: size}
		t[0xd0+i] = head{kind: hInt, size: size}
	}
	t[0xca] = head{kind: hFloat, size: 4}
	t[0xcb] = head{kind: hFloat, size: 8}
	t[0xdc] = head{kind: hArray, size: 2}
	t[0xdd] = head{kind: hArray, size: 4}
	t[0xde] = head{kind: hMap, size: 2}
	t[0xdf] = head{kind: hMap, size: 4}
	return t
}

func cborHeads() (t [256]head) {
	majors := [...]hkind{hUint, hNint, hBinary, hString, hArray, hMap}
	for major, kind := range majors {
		for info := range 28 {
			h := head{kind: kind}
			if info < 24 {
				h.arg = uint8(info)
			} else {
				h.size = 1 << (info - 24)
			}
			t[major<<5|info] = h
		}
	}
	t[0xf4] = head{kind: hFalse}
	t[0xf5] = head{kind: hTrue}
	t[0xf6] = head{kind: hNull}
	t[0xf7] = head{kind: hUndefined}
	t[0xf9] = head{kind: hFloat, size: 2}
	t[0xfa] = head{kind: hFloat, size: 4}
	t[0xfb] = head{kind: hFloat, size: 8}
	return t
}

// peek returns the head of the next item, hOther at the end of the data.
func (r *reader) peek() head {
	if r.p < len(r.d) {
		return heads[r.f][r.d[r.p]]
	}
	return head{}
}

// arg reads the argument of head h, whose byte the reader has just read.
func (r *reader) arg(h head) (uint64, error) {
	if h.size == 0 {
		return uint64(h.arg), nil
	}
	rest := r.d[r.p:]
	if len(rest) < int(h.size) {
		return 0, errTruncated
	}
	r.p += int(h.size)
	switch h.size {
	case 1:
		return uint64(rest[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(rest)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(rest)), nil
	}
	return binary.BigEndian.Uint64(rest), nil
}

// count reads the head h of an array or a map (k) and returns its number
// of entries.
func (r *reader) count(h head, k kind) (int, error) {
	r.p++
	u, err := r.arg(h)
	if err != nil {
		return 0, err
	}
	return r.length(k, u)
}

// number is the value of a number of head h and argument u.
func (h head) number(u uint64) float64 {
	switch h.kind {
	case hUint:
		return float64(u)
	case hNint:
		return -1 - float64(u)
	case hInt:
		switch h.size {
		case 1:
			return float64(int8(u))
		case 2:
			return float64(int16(u))
		case 4:
			return float64(int32(u))
		}
		return float64(int64(u))
	}
	switch h.size {
	case 2:
		return float16(uint16(u))
	case 4:
		return float64(math.Float32frombits(uint32(u)))
	}
	return math.Float64frombits(u)
}

// isNumber reports whether h starts a number.
func (h head) isNumber() bool { return h.kind >= hUint && h.kind <= hFloat }
