package objcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unsafe"

	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

// maxDepth bounds the nesting of decoded values, as the JSON serializer's.
const maxDepth = 1000

var errTruncated = errors.New("unexpected end of data")

// kind is the kind of a decoded item.
type kind uint8

const (
	kNull kind = iota
	kUndefined
	kBool
	kNumber
	kString
	kBinary
	kArray
	kMap
	kTime
	kExtPair // notepack: an unknown extension, decoded as [type, Buffer]
)

var kindNames = [...]string{"null", "undefined", "a boolean", "a number", "a string", "binary data", "an array", "a map", "a date", "an extension"}

func (k kind) String() string { return kindNames[k] }

// item is one decoded head: a scalar, or the start of an array or map.
type item struct {
	k   kind
	b   bool
	n   float64 // kNumber; the extension type of kExtPair
	s   []byte  // kString, kBinary, kExtPair: the bytes, a sub-slice of the input
	l   int     // kArray, kMap: the length, -1 for a CBOR indefinite length; kTime: nanoseconds
	sec int64   // kTime: Unix seconds
}

func timeItem(t time.Time) item { return item{k: kTime, sec: t.Unix(), l: t.Nanosecond()} }

func (it item) time() time.Time { return time.Unix(it.sec, int64(it.l)).UTC() }

// undefinedValue stands for a decoded JS undefined inside value trees
// before it is dropped (map entries) or turned into nil (array elements).
type undefinedValue struct{}

// reader decodes items from d.
type reader struct {
	f Format
	d []byte
	p int
	// text is d as a string when the decoded strings are slices of the
	// input (shareText), "" when each is copied on its own.
	text string
	box  jsonlike.Boxes
}

// shareText makes the strings read from now on slices of d itself, as
// params and data are: a decoder may keep references into the bytes it
// decodes, which nobody changes afterwards (serializers.Serializer).
func (r *reader) shareText() {
	if len(r.d) > 0 {
		r.text = unsafe.String(unsafe.SliceData(r.d), len(r.d))
	}
}

// string returns the string whose bytes s the last item read ended with.
func (r *reader) string(s []byte) string { return r.textAt(r.p-len(s), r.p) }

// textAt returns the string of the bytes d[start:end].
func (r *reader) textAt(start, end int) string {
	if r.text != "" {
		return r.text[start:end]
	}
	return string(r.d[start:end])
}

func (r *reader) fail(format string, a ...any) error {
	return fmt.Errorf("%s at offset %d", fmt.Sprintf(format, a...), r.p)
}

func (r *reader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.d)-r.p) {
		return nil, errTruncated
	}
	s := r.d[r.p : r.p+int(n)]
	r.p += int(n)
	return s, nil
}

func (r *reader) uintN(n int) (uint64, error) {
	s, err := r.take(uint64(n))
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return uint64(s[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(s)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(s)), nil
	}
	return binary.BigEndian.Uint64(s), nil
}

// shortKey reads the next item when it is a string whose length is in its
// head byte, as the field names of payloads and most map keys are, and
// returns where its bytes are; it reads nothing else. It is small enough
// for the compiler to inline in the loops over map entries, which read
// other keys in a call when it reports false.
func (r *reader) shortKey() (start, end int, ok bool) {
	p := r.p
	if p >= len(r.d) {
		return 0, 0, false
	}
	h := heads[r.f][r.d[p]]
	end = p + 1 + int(h.arg)
	if h.kind != hString || h.size != 0 || end > len(r.d) {
		return 0, 0, false
	}
	r.p = end
	return p + 1, end, true
}

// The simple items that simple reads.
const (
	sOther = iota
	sTrue
	sFalse
	sNull // null or undefined
)

// simple reads the next item when it is true, false, null or undefined in
// one byte, and reports which; it reads nothing for anything else.
func (r *reader) simple() int {
	s := sOther
	switch r.peek().kind {
	case hTrue:
		s = sTrue
	case hFalse:
		s = sFalse
	case hNull, hUndefined:
		s = sNull
	}
	if s != sOther {
		r.p++
	}
	return s
}

// next decodes the head of the next item.
func (r *reader) next() (item, error) {
	h := r.peek()
	if h.kind == hOther {
		if r.f == CBOR {
			return r.nextCBOR()
		}
		return r.nextMsgPack()
	}
	r.p++
	u, err := r.arg(h)
	if err != nil {
		return item{}, err
	}
	switch h.kind {
	case hString:
		s, err := r.take(u)
		return item{k: kString, s: s}, err
	case hBinary:
		s, err := r.take(u)
		return item{k: kBinary, s: s}, err
	case hArray:
		return r.container(kArray, u)
	case hMap:
		return r.container(kMap, u)
	case hFalse, hTrue:
		return item{k: kBool, b: h.kind == hTrue}, nil
	case hNull:
		return item{k: kNull}, nil
	case hUndefined:
		return item{k: kUndefined}, nil
	}
	return item{k: kNumber, n: h.number(u)}, nil
}

// length checks that a container of n entries (of two items for a map,
// one for an array, at least a byte each) can fit in what is left, before
// anything is allocated for it, and returns n.
func (r *reader) length(k kind, n uint64) (int, error) {
	rest := uint64(len(r.d) - r.p)
	if k == kMap {
		rest /= 2
	}
	if n > rest {
		return 0, errTruncated
	}
	return int(n), nil
}

func (r *reader) container(k kind, n uint64) (item, error) {
	l, err := r.length(k, n)
	if err != nil {
		return item{}, err
	}
	return item{k: k, l: l}, nil
}

// nextMsgPack decodes the MessagePack heads the table leaves to it: the
// extensions, and the one invalid code.
func (r *reader) nextMsgPack() (item, error) {
	if r.p >= len(r.d) {
		return item{}, errTruncated
	}
	c := r.d[r.p]
	r.p++
	switch c {
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32
		u, err := r.uintN(1 << (c - 0xc7))
		if err != nil {
			return item{}, err
		}
		return r.ext(c, u)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16
		return r.ext(c, 1<<(c-0xd4))
	}
	r.p--
	return item{}, r.fail("invalid MessagePack code 0x%02x", c)
}

// ext decodes a MessagePack extension of n data bytes whose head byte was c.
// msgpack5 knows only the timestamp (-1) and fails on the others;
// notepack.io also reads its own legacy types 0 and gives [type, Buffer]
// for the rest (lib/decode.js).
func (r *reader) ext(c byte, n uint64) (item, error) {
	tb, err := r.take(1)
	if err != nil {
		return item{}, err
	}
	typ := int8(tb[0])
	data, err := r.take(n)
	if err != nil {
		return item{}, err
	}
	if typ == -1 {
		t, ok := timestamp(data)
		if ok && (r.f == MsgPack || c != 0xd5 && c != 0xd8 && c != 0xc8 && c != 0xc9) {
			return timeItem(t), nil
		}
		if r.f == MsgPack {
			return item{k: kNull}, nil // msgpack5 makes an Invalid Date: null in JSON
		}
	}
	if r.f == MsgPack {
		return item{}, r.fail("unknown MessagePack extension type %d", typ)
	}
	if typ == 0 {
		switch c {
		case 0xd4: // notepack's undefined
			return item{k: kUndefined}, nil
		case 0xd7: // notepack's old date: int64 milliseconds
			return timeItem(time.UnixMilli(int64(binary.BigEndian.Uint64(data)))), nil
		case 0xc7, 0xc8, 0xc9: // notepack's ArrayBuffer
			return item{k: kBinary, s: data}, nil
		}
	}
	return item{k: kExtPair, n: float64(typ), s: data}, nil
}

// timestamp decodes the MessagePack timestamp extension's data.
func timestamp(d []byte) (time.Time, bool) {
	switch len(d) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(d)), 0).UTC(), true
	case 8:
		v := binary.BigEndian.Uint64(d)
		return time.Unix(int64(v&(1<<34-1)), int64(v>>34)).UTC(), true
	case 12:
		return time.Unix(int64(binary.BigEndian.Uint64(d[4:])), int64(binary.BigEndian.Uint32(d))).UTC(), true
	}
	return time.Time{}, false
}

func (r *reader) nextCBOR() (item, error) {
	tag := uint64(math.MaxUint64) // the tag right before the content, if any
	for {
		if r.p >= len(r.d) {
			return item{}, errTruncated
		}
		start := r.p
		c := r.d[r.p]
		r.p++
		major, info := c>>5, c&0x1f
		if major == 7 {
			it, err := r.cborSimple(info)
			if err == nil && tag == 1 && it.k == kNumber {
				it = epochTime(it)
			}
			return it, err
		}
		var arg uint64
		switch {
		case info < 24:
			arg = uint64(info)
		case info <= 27:
			var err error
			if arg, err = r.uintN(1 << (info - 24)); err != nil {
				return item{}, err
			}
		case info == 31 && major == 4:
			return item{k: kArray, l: -1}, nil
		case info == 31 && major == 5:
			return item{k: kMap, l: -1}, nil
		default:
			r.p = start
			return item{}, r.fail("invalid CBOR head 0x%02x", c)
		}
		switch major {
		case 0, 1:
			n := float64(arg)
			if major == 1 {
				n = -1 - n
			}
			it := item{k: kNumber, n: n}
			if tag == 1 {
				it = epochTime(it)
			}
			return it, nil
		case 2:
			s, err := r.take(arg)
			if err == nil && (tag == 2 || tag == 3) {
				// cbor-x makes BigInts of these; a number is what can
				// stand for one in JSON-like data.
				f, _ := new(big.Float).SetInt(new(big.Int).SetBytes(s)).Float64()
				if tag == 3 {
					f = -1 - f
				}
				return item{k: kNumber, n: f}, nil
			}
			return item{k: kBinary, s: s}, err
		case 3:
			s, err := r.take(arg)
			return item{k: kString, s: s}, err
		case 4:
			return r.container(kArray, arg)
		case 5:
			return r.container(kMap, arg)
		}
		// A tag (major 6). cbor-x turns tag 1 (epoch seconds) into a Date
		// and tags 2 and 3 into BigInts; other tags wrap their content
		// (typed arrays, sets, Tag objects) in ways that have no
		// JSON-like equivalent, so we take the content as it is.
		tag = arg
	}
}

// epochTime turns the content of CBOR tag 1 into a date, as cbor-x does:
// new Date(seconds * 1000), a whole number of milliseconds.
func epochTime(it item) item {
	ms := math.Round(it.n * 1000)
	if it.n != it.n || math.Abs(ms) > 8.64e15 { // beyond the range of a JS Date
		return item{k: kNull} // an Invalid Date, which JSON.stringify writes as null
	}
	return timeItem(time.UnixMilli(int64(ms)))
}

func (r *reader) cborSimple(info byte) (item, error) {
	switch info {
	case 20, 21:
		return item{k: kBool, b: info == 21}, nil
	case 22:
		return item{k: kNull}, nil
	case 23:
		return item{k: kUndefined}, nil
	case 25:
		u, err := r.uintN(2)
		return item{k: kNumber, n: float16(uint16(u))}, err
	case 26:
		u, err := r.uintN(4)
		return item{k: kNumber, n: float64(math.Float32frombits(uint32(u)))}, err
	case 27:
		u, err := r.uintN(8)
		return item{k: kNumber, n: math.Float64frombits(u)}, err
	}
	r.p--
	return item{}, r.fail("unsupported CBOR simple value %d", info)
}

func float16(h uint16) float64 {
	sign, exp, frac := h>>15, int(h>>10)&0x1f, float64(h&0x3ff)
	var f float64
	switch exp {
	case 0:
		f = math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		f = math.Inf(1)
	default:
		f = math.Ldexp(frac+1024, exp-25)
	}
	if sign != 0 {
		f = -f
	}
	return f
}

// more reports whether a container has another element: for a counted one
// while *n is positive, for an indefinite one (CBOR) until a break code.
func (r *reader) more(n *int) bool {
	if *n >= 0 {
		if *n == 0 {
			return false
		}
		*n--
		return true
	}
	if r.p < len(r.d) && r.d[r.p] == 0xff {
		r.p++
		return false
	}
	return true
}

// value decodes the next value into JSON-like data, or, with build false,
// only checks and skips it (returning nil). The result is undefinedValue{}
// for undefined.
func (r *reader) value(depth int, build bool) (any, error) {
	if !build {
		return nil, r.skipValue(depth)
	}
	h := r.peek()
	switch h.kind {
	case hOther:
		it, err := r.next()
		if err != nil {
			return nil, err
		}
		return r.finish(it, depth, true)
	case hNull:
		r.p++
		return nil, nil
	case hUndefined:
		r.p++
		return undefinedValue{}, nil
	case hFalse, hTrue:
		r.p++
		return h.kind == hTrue, nil
	}
	r.p++
	u, err := r.arg(h)
	if err != nil {
		return nil, err
	}
	switch h.kind {
	case hString, hBinary:
		if u > uint64(len(r.d)-r.p) {
			return nil, errTruncated
		}
		start := r.p
		r.p += int(u)
		if h.kind == hString {
			return r.box.String(r.textAt(start, r.p)), nil
		}
		return append([]byte{}, r.d[start:r.p]...), nil
	case hArray:
		n, err := r.length(kArray, u)
		if err != nil {
			return nil, err
		}
		return r.array(n, depth)
	case hMap:
		n, err := r.length(kMap, u)
		if err != nil {
			return nil, err
		}
		return r.mapValue(n, depth)
	}
	return r.box.Number(h.number(u)), nil
}

// finish decodes the value whose head next read as it, as value does.
func (r *reader) finish(it item, depth int, build bool) (any, error) {
	switch it.k {
	case kNull:
		return nil, nil
	case kUndefined:
		return undefinedValue{}, nil
	case kArray:
		if !build {
			return nil, r.skipArray(it.l, depth)
		}
		return r.array(it.l, depth)
	case kMap:
		if !build {
			return nil, r.skipMap(it.l, depth)
		}
		return r.mapValue(it.l, depth)
	}
	if !build {
		return nil, nil
	}
	switch it.k {
	case kBool:
		return it.b, nil
	case kNumber:
		return r.box.Number(it.n), nil
	case kString:
		return r.box.String(r.string(it.s)), nil
	case kBinary:
		return append([]byte{}, it.s...), nil
	case kTime:
		return it.time(), nil
	case kExtPair:
		return []any{it.n, append([]byte{}, it.s...)}, nil
	}
	return nil, nil
}

// array decodes the elements of an array of n elements (-1: up to a CBOR
// break code). An undefined element is null, as in JSON.
func (r *reader) array(n, depth int) ([]any, error) {
	if depth >= maxDepth {
		return nil, r.fail("too deeply nested")
	}
	a := make([]any, 0, max(n, 0))
	for r.more(&n) {
		v, err := r.value(depth+1, true)
		if err != nil {
			return nil, err
		}
		if _, undef := v.(undefinedValue); undef {
			v = nil
		}
		a = append(a, v)
	}
	return a, nil
}

// mapValue decodes the entries of a map of n entries (-1: up to a CBOR
// break code). An undefined entry is left out, as in JSON.
func (r *reader) mapValue(n, depth int) (map[string]any, error) {
	if depth >= maxDepth {
		return nil, r.fail("too deeply nested")
	}
	m := make(map[string]any, max(n, 0))
	for r.more(&n) {
		k, err := r.key()
		if err != nil {
			return nil, err
		}
		v, err := r.value(depth+1, true)
		if err != nil {
			return nil, err
		}
		if _, undef := v.(undefinedValue); undef {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m, nil
}

// skipValue checks and skips the next value: it accepts what value
// accepts.
func (r *reader) skipValue(depth int) error {
	h := r.peek()
	switch h.kind {
	case hOther:
		it, err := r.next()
		if err != nil {
			return err
		}
		_, err = r.finish(it, depth, false)
		return err
	case hNull, hUndefined, hFalse, hTrue:
		r.p++
		return nil
	}
	r.p++
	u, err := r.arg(h)
	if err != nil {
		return err
	}
	switch h.kind {
	case hString, hBinary:
		if u > uint64(len(r.d)-r.p) {
			return errTruncated
		}
		r.p += int(u)
	case hArray:
		n, err := r.length(kArray, u)
		if err != nil {
			return err
		}
		return r.skipArray(n, depth)
	case hMap:
		n, err := r.length(kMap, u)
		if err != nil {
			return err
		}
		return r.skipMap(n, depth)
	}
	return nil
}

// skipArray checks and skips the elements of an array, as array reads
// them.
func (r *reader) skipArray(n, depth int) error {
	if depth >= maxDepth {
		return r.fail("too deeply nested")
	}
	for r.more(&n) {
		if err := r.skipValue(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// skipMap checks and skips the entries of a map, as mapValue reads them.
func (r *reader) skipMap(n, depth int) error {
	if depth >= maxDepth {
		return r.fail("too deeply nested")
	}
	for r.more(&n) {
		if _, _, ok := r.shortKey(); !ok {
			if _, err := r.keyItem(); err != nil {
				return err
			}
		}
		if err := r.skipValue(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// key decodes a map key. JS object keys are strings: numbers, booleans,
// null and undefined become the strings JS makes of them (cbor-x's safeKey,
// notepack.io's object assignment); other keys are refused.
func (r *reader) key() (string, error) {
	if start, end, ok := r.shortKey(); ok {
		return r.textAt(start, end), nil
	}
	it, err := r.keyItem()
	if err != nil {
		return "", err
	}
	switch it.k {
	case kString:
		return r.string(it.s), nil
	case kNumber:
		return jsNumberString(it.n), nil
	case kBool:
		return strconv.FormatBool(it.b), nil
	case kNull:
		return "null", nil
	}
	return "undefined", nil
}

// keyItem reads a map key of a kind JS makes a string of, when it is not a
// short string.
func (r *reader) keyItem() (item, error) {
	it, err := r.next()
	if err != nil {
		return item{}, err
	}
	switch it.k {
	case kString, kNumber, kBool, kNull, kUndefined:
		return it, nil
	}
	return item{}, r.fail("map key is %s", it.k)
}

// jsNumberString formats f as JS's String(f) does.
func jsNumberString(f float64) string {
	switch {
	case f != f:
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1.5e-7
	if i := len(s) - 2; s[i] == '0' && (s[i-1] == '+' || s[i-1] == '-') {
		s = s[:i] + s[i+1:] // e-07 → e-7 (strconv pads to two digits)
	}
	return s
}
