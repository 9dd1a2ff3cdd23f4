package objcodec

import (
	"math"
	"testing"
)

// The CBOR head table agrees with nextCBOR, which decodes every head
// itself: for every head byte, with enough bytes after it and with too few.
func TestCBORHeadsAgreeWithDecoder(t *testing.T) {
	tail := []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09}
	for c := range 256 {
		if heads[CBOR][c].kind == hOther {
			continue
		}
		for n := range len(tail) + 1 {
			data := append([]byte{byte(c)}, tail[:n]...)
			table := reader{f: CBOR, d: data}
			decoder := reader{f: CBOR, d: data}
			got, errGot := table.next()
			want, errWant := decoder.nextCBOR()
			if (errGot == nil) != (errWant == nil) || table.p != decoder.p && errGot == nil {
				t.Fatalf("%x: table %v at %d, decoder %v at %d", data, errGot, table.p, errWant, decoder.p)
			}
			if errGot != nil {
				continue
			}
			if got.k != want.k || got.b != want.b || got.l != want.l || string(got.s) != string(want.s) ||
				got.n != want.n && !(math.IsNaN(got.n) && math.IsNaN(want.n)) {
				t.Errorf("%x: table %+v, decoder %+v", data, got, want)
			}
		}
	}
}

// The MessagePack head table covers every code but the extensions and
// the one that is not used.
func TestMsgPackHeadsCoverTheFormat(t *testing.T) {
	for c := range 256 {
		other := c == 0xc1 || c >= 0xc7 && c <= 0xc9 || c >= 0xd4 && c <= 0xd8
		if got := heads[MsgPack][c].kind == hOther; got != other {
			t.Errorf("%#02x: left to nextMsgPack %v, want %v", c, got, other)
		}
	}
	if heads[MsgPack] != heads[Notepack] {
		t.Error("MsgPack and Notepack heads differ")
	}
}
