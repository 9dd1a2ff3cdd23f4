package bridge

import "math/rand/v2"

const hexDigits = "0123456789abcdef"

// newID returns a random UUID version 4, the shape of JS's context IDs.
func newID() string {
	var b [36]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	hi = hi&^(0xf<<12) | 4<<12                 // version 4
	lo = lo&^(0xc<<60) | 0x8<<60               // RFC 4122 variant
	put := func(dst []byte, v uint64, n int) { // n hex digits of v's top bits
		for i := range n {
			dst[i] = hexDigits[v>>60]
			v <<= 4
		}
	}
	put(b[0:8], hi, 8)
	b[8] = '-'
	put(b[9:13], hi<<32, 4)
	b[13] = '-'
	put(b[14:18], hi<<48, 4)
	b[18] = '-'
	put(b[19:23], lo, 4)
	b[23] = '-'
	put(b[24:36], lo<<16, 12)
	return string(b[:])
}
