package objcodec

import (
	"encoding/binary"
	"math"
	"time"
)

// Format is one of the wire formats.
type Format uint8

const (
	// MsgPack is MessagePack as msgpack5 writes it (moleculer "MsgPack").
	MsgPack Format = iota
	// Notepack is MessagePack as notepack.io writes it (moleculer "Notepack").
	Notepack
	// CBOR is CBOR as cbor-x writes it (moleculer "CBOR").
	CBOR
)

// Name is the name moleculer knows the serializer of the format by; it is
// also the format name of raw values held in it.
func (f Format) Name() string {
	switch f {
	case MsgPack:
		return "MsgPack"
	case Notepack:
		return "Notepack"
	}
	return "CBOR"
}

const (
	maxSafeInteger = 1<<53 - 1 // Number.MAX_SAFE_INTEGER
	two32          = 1 << 32
	two63          = 1 << 63
	two64          = 1 << 64
	nanBits64      = 0x7ff8000000000000 // the NaN JS writes
	nanBits32      = 0x7fc00000
)

// writer appends encoded items to b.
type writer struct {
	f Format
	b []byte
}

// null writes null. It is small enough to be inlined, as are the writers
// of the other one-byte items.
func (w *writer) null() { w.b = append(w.b, nullHeads[w.f]) }

// nullHeads are the null of each format.
var nullHeads = [...]byte{MsgPack: 0xc0, Notepack: 0xc0, CBOR: 0xf6}

// undefined writes JS undefined: CBOR has a value for it; notepack writes
// nil for an undefined array element, and msgpack5, which refuses to encode
// one, gets nil too.
func (w *writer) undefined() {
	if w.f == CBOR {
		w.b = append(w.b, 0xf7)
	} else {
		w.b = append(w.b, 0xc0)
	}
}

func (w *writer) boolean(v bool) {
	switch {
	case w.f == CBOR && v:
		w.b = append(w.b, 0xf5)
	case w.f == CBOR:
		w.b = append(w.b, 0xf4)
	case v:
		w.b = append(w.b, 0xc3)
	default:
		w.b = append(w.b, 0xc2)
	}
}

// cborHead writes a CBOR head of major type major (0..7) with argument n in
// its shortest form.
func (w *writer) cborHead(major byte, n uint64) { w.b = appendCBORHead(w.b, major, n) }

func appendCBORHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n < 1<<8:
		return append(b, m|24, byte(n))
	case n < 1<<16:
		return append(b, m|25, byte(n>>8), byte(n))
	case n < 1<<32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

// str writes a string. Short strings, the field names and most values of
// a payload, have their length in their head byte in both formats.
func (w *writer) str(s string) {
	b, n := w.b, len(s)
	switch {
	case w.f == CBOR && n < 24:
		b = append(b, 0x60|byte(n))
	case w.f != CBOR && n < 32:
		b = append(b, 0xa0|byte(n))
	default:
		b = w.longStrHead(b, n)
	}
	w.b = append(b, s...)
}

// key writes a field name of a payload: a string of less than 24 bytes,
// whose length is in its head byte in both formats. It is small enough to
// be inlined where the payloads are written.
func (w *writer) key(name string) {
	w.b = append(append(w.b, shortStrHeads[w.f]|byte(len(name))), name...)
}

// shortStrHeads are the heads of the empty string in each format; a string
// of less than 24 bytes has its length added.
var shortStrHeads = [...]byte{MsgPack: 0xa0, Notepack: 0xa0, CBOR: 0x60}

func (w *writer) longStrHead(b []byte, n int) []byte {
	switch {
	case w.f == CBOR:
		return appendCBORHead(b, 3, uint64(n))
	case n < 1<<8:
		return append(b, 0xd9, byte(n))
	case n < 1<<16:
		return append(b, 0xda, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
}

func (w *writer) bin(p []byte) {
	n := len(p)
	if w.f == CBOR {
		w.cborHead(2, uint64(n))
	} else {
		switch {
		case n < 1<<8:
			w.b = append(w.b, 0xc4, byte(n))
		case n < 1<<16:
			w.b = append(w.b, 0xc5, byte(n>>8), byte(n))
		default:
			w.b = append(w.b, 0xc6)
			w.b = binary.BigEndian.AppendUint32(w.b, uint32(n))
		}
	}
	w.b = append(w.b, p...)
}

func (w *writer) arrayHeader(n int) {
	if w.f == CBOR {
		w.cborHead(4, uint64(n))
		return
	}
	switch {
	case n < 16:
		w.b = append(w.b, 0x90|byte(n))
	case n < 1<<16:
		w.b = append(w.b, 0xdc, byte(n>>8), byte(n))
	default:
		w.b = append(w.b, 0xdd)
		w.b = binary.BigEndian.AppendUint32(w.b, uint32(n))
	}
}

// mapHeader starts a map of n entries. cbor-x writes every object with a
// two-byte count (0xb9), so we do too.
func (w *writer) mapHeader(n int) {
	switch {
	case w.f != CBOR && n < 16:
		w.b = append(w.b, 0x80|byte(n))
	case w.f == CBOR && n < 1<<16:
		w.b = append(w.b, 0xb9, byte(n>>8), byte(n))
	case w.f == CBOR:
		w.b = binary.BigEndian.AppendUint32(append(w.b, 0xba), uint32(n))
	case n < 1<<16:
		w.b = append(w.b, 0xde, byte(n>>8), byte(n))
	default:
		w.b = binary.BigEndian.AppendUint32(append(w.b, 0xdf), uint32(n))
	}
}

func (w *writer) float64(f float64) {
	bits := math.Float64bits(f)
	if f != f {
		bits = nanBits64
	}
	if w.f == CBOR {
		w.b = append(w.b, 0xfb)
	} else {
		w.b = append(w.b, 0xcb)
	}
	w.b = binary.BigEndian.AppendUint64(w.b, bits)
}

// smallInt is the bound below which a non-negative integer is one byte in
// both formats: a MessagePack positive fixint, a CBOR head of major type 0.
const smallInt = 24

// number writes a JS number the way the format's JS library does. The
// small integers, the most common numbers of payloads, take a byte and no
// more work.
func (w *writer) number(f float64) {
	// byte(f) is some byte for a float out of its range; the comparison
	// rejects those.
	if b := byte(f); float64(b) == f && b < smallInt {
		w.b = append(w.b, b)
		return
	}
	w.otherNumber(f)
}

func (w *writer) otherNumber(f float64) {
	integral := f == math.Trunc(f) && !math.IsInf(f, 0) // false for NaN and ±Inf
	switch w.f {
	case MsgPack:
		// msgpack5: n % 1 !== 0 is a float, float32 when Math.fround(n)
		// keeps it; integers beyond 2^53-1 are written as float64.
		if integral {
			if math.Abs(f) <= maxSafeInteger {
				w.int(int64(f))
			} else {
				w.float64(f)
			}
			return
		}
		if f != f || float64(float32(f)) == f {
			bits := math.Float32bits(float32(f))
			if f != f {
				bits = nanBits32
			}
			w.b = append(w.b, 0xca)
			w.b = binary.BigEndian.AppendUint32(w.b, bits)
			return
		}
		w.float64(f)
	case Notepack:
		// notepack.io: non-integers and non-finite numbers are float64,
		// integers take the smallest int form. (notepack.io writes garbage
		// for integers beyond ±2^64; we write those as float64.)
		switch {
		case integral && f >= 0 && f < two64:
			w.uint(uint64(f))
		case integral && f < 0 && f >= -two63:
			w.int(int64(f))
		default:
			w.float64(f)
		}
	default:
		// cbor-x: integers within 32 bits are major types 0/1, the rest
		// float64. cbor-x decodes 64-bit integers to BigInt, which
		// moleculer can neither do arithmetic with nor JSON.stringify.
		switch {
		case integral && f >= 0 && f < two32:
			w.cborHead(0, uint64(f))
		case integral && f < 0 && f >= -two32:
			w.cborHead(1, uint64(-1-f))
		default:
			w.float64(f)
		}
	}
}

// int writes an integer: exactly (MessagePack), or as cbor-x writes the JS
// number nearest to it (CBOR).
func (w *writer) int(i int64) {
	if i >= 0 && i < smallInt {
		w.b = append(w.b, byte(i))
		return
	}
	w.otherInt(i)
}

func (w *writer) otherInt(i int64) {
	if i >= 0 {
		w.uint(uint64(i))
		return
	}
	switch w.f {
	case CBOR:
		if i >= -two32 {
			w.cborHead(1, uint64(-1-i))
		} else {
			w.float64(float64(i))
		}
	case MsgPack:
		// msgpack5 switches to int64 below -214748365, not below -2^31
		// (lib/encoder.js: obj > -214748365).
		switch {
		case i >= -32:
			w.b = append(w.b, byte(i))
		case i >= math.MinInt8:
			w.b = append(w.b, 0xd0, byte(i))
		case i >= math.MinInt16:
			w.b = append(w.b, 0xd1, byte(i>>8), byte(i))
		case i > -214748365:
			w.b = append(w.b, 0xd2)
			w.b = binary.BigEndian.AppendUint32(w.b, uint32(i))
		default:
			w.b = append(w.b, 0xd3)
			w.b = binary.BigEndian.AppendUint64(w.b, uint64(i))
		}
	default:
		switch {
		case i >= -32:
			w.b = append(w.b, byte(i))
		case i >= math.MinInt8:
			w.b = append(w.b, 0xd0, byte(i))
		case i >= math.MinInt16:
			w.b = append(w.b, 0xd1, byte(i>>8), byte(i))
		case i >= math.MinInt32:
			w.b = append(w.b, 0xd2)
			w.b = binary.BigEndian.AppendUint32(w.b, uint32(i))
		default:
			w.b = append(w.b, 0xd3)
			w.b = binary.BigEndian.AppendUint64(w.b, uint64(i))
		}
	}
}

func (w *writer) uint(u uint64) {
	if u < smallInt {
		w.b = append(w.b, byte(u))
		return
	}
	w.otherUint(u)
}

func (w *writer) otherUint(u uint64) {
	if w.f == CBOR {
		if u < two32 {
			w.cborHead(0, u)
		} else {
			w.float64(float64(u))
		}
		return
	}
	switch {
	case u < 128:
		w.b = append(w.b, byte(u))
	case u < 1<<8:
		w.b = append(w.b, 0xcc, byte(u))
	case u < 1<<16:
		w.b = append(w.b, 0xcd, byte(u>>8), byte(u))
	case u < 1<<32:
		w.b = append(w.b, 0xce)
		w.b = binary.BigEndian.AppendUint32(w.b, uint32(u))
	default:
		w.b = append(w.b, 0xcf)
		w.b = binary.BigEndian.AppendUint64(w.b, u)
	}
}

// time writes a JS Date: the MessagePack timestamp extension (type -1),
// to the nanosecond, or CBOR tag 1 with the epoch seconds, whole (uint32)
// or with milliseconds (float64) as cbor-x writes them.
func (w *writer) time(t time.Time) {
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	if w.f == CBOR {
		// cbor-x: whole seconds as uint32, else date.getTime() / 1000.
		ms := t.UnixMilli()
		w.b = append(w.b, 0xc1)
		if ms%1000 == 0 && sec >= 0 && sec < two32 {
			w.b = append(w.b, 0x1a)
			w.b = binary.BigEndian.AppendUint32(w.b, uint32(sec))
		} else {
			w.float64(float64(ms) / 1000)
		}
		return
	}
	switch {
	case sec >= 0 && sec < 1<<34 && nsec == 0 && sec < two32:
		w.b = append(w.b, 0xd6, 0xff)
		w.b = binary.BigEndian.AppendUint32(w.b, uint32(sec))
	case sec >= 0 && sec < 1<<34:
		w.b = append(w.b, 0xd7, 0xff)
		w.b = binary.BigEndian.AppendUint64(w.b, uint64(nsec)<<34|uint64(sec))
	default:
		w.b = append(w.b, 0xc7, 12, 0xff)
		w.b = binary.BigEndian.AppendUint32(w.b, uint32(nsec))
		w.b = binary.BigEndian.AppendUint64(w.b, uint64(sec))
	}
}
