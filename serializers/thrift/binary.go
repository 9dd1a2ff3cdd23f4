package thrift

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Thrift's binary protocol, as far as a bare struct needs it: a field is a
// type byte, a big-endian 16-bit field id and the value; a struct ends with
// a type byte of 0 (STOP). Integers and doubles are big-endian and of fixed
// size, booleans one byte, strings and binaries a 32-bit length and the
// bytes, lists and sets an element type byte and a 32-bit count, maps a key
// and a value type byte and a 32-bit count. Strict and non-strict binary
// protocol differ only in the message envelope, which moleculer does not
// use.

// The types of the binary protocol (TType).
const (
	typeStop   = 0
	typeBool   = 2
	typeByte   = 3
	typeDouble = 4
	typeI16    = 6
	typeI32    = 8
	typeI64    = 10
	typeString = 11 // string and binary
	typeStruct = 12
	typeMap    = 13
	typeSet    = 14
	typeList   = 15
	typeUUID   = 16
)

// A field is known by its id and its type together, as key(id, type): a
// known id that arrives with another type is skipped as an unknown one is.
type key uint32

func fieldKey(id uint16, typ byte) key { return key(id)<<8 | key(typ) }

func (k key) id() int16      { return int16(k >> 8) }
func (k key) typ() byte      { return byte(k) }
func (k key) String() string { return fmt.Sprintf("field %d", k.id()) }

// maxSkipDepth is how deeply values nested in skipped fields may nest, as
// in Apache Thrift's Go library (DEFAULT_RECURSION_DEPTH): a value inside
// 64 containers is refused.
const maxSkipDepth = 64

var errEnd = errors.New("unexpected end of input")

// ---------------------------------------------------------------- writing

func appendHeader(b []byte, k key) []byte { return append(b, k.typ(), byte(k>>16), byte(k>>8)) }

func appendString(b []byte, k key, s string) []byte {
	b = binary.BigEndian.AppendUint32(appendHeader(b, k), uint32(len(s)))
	return append(b, s...)
}

func appendBinary(b []byte, k key, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(appendHeader(b, k), uint32(len(v)))
	return append(b, v...)
}

func appendBool(b []byte, k key, v bool) []byte {
	if v {
		return append(appendHeader(b, k), 1)
	}
	return append(appendHeader(b, k), 0)
}

func appendI32(b []byte, k key, v int32) []byte {
	return binary.BigEndian.AppendUint32(appendHeader(b, k), uint32(v))
}

func appendI64(b []byte, k key, v int64) []byte {
	return binary.BigEndian.AppendUint64(appendHeader(b, k), uint64(v))
}

func appendDouble(b []byte, k key, v float64) []byte {
	return binary.BigEndian.AppendUint64(appendHeader(b, k), math.Float64bits(v))
}

// appendStrings writes a list<string> field.
func appendStrings(b []byte, k key, list []string) []byte {
	b = append(appendHeader(b, k), typeString)
	b = binary.BigEndian.AppendUint32(b, uint32(len(list)))
	for _, s := range list {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// appendText writes a string field whose content write appends, in place:
// the length is filled in afterwards.
func appendText(b []byte, k key, write func([]byte) ([]byte, error)) ([]byte, error) {
	b = append(appendHeader(b, k), 0, 0, 0, 0)
	start := len(b)
	b, err := write(b)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint32(b[start-4:], uint32(len(b)-start))
	return b, nil
}

// ---------------------------------------------------------------- reading

// reader reads the fields of one struct. A read that fails records why and
// returns a zero value; the first error is kept, and next reports false
// once there is one, so a decoder checks err once, after its loop.
type reader struct {
	b   []byte // the input
	pos int
	// text is b as a string, whose slices are the strings read; "" to copy
	// each string instead.
	text string
	key  key // the current field
	err  error
}

// newReader reads data. The strings read are slices of data itself, as
// params and data are: a decoder may keep references into the bytes it
// decodes, which nobody changes afterwards (serializers.Serializer).
func newReader(data []byte) reader {
	r := reader{b: data}
	if len(data) > 0 {
		r.text = unsafe.String(unsafe.SliceData(data), len(data))
	}
	return r
}

// next reads the next field's header, reporting false at the struct's end
// or after an error.
func (r *reader) next() bool {
	if r.err == nil && len(r.b)-r.pos >= 3 && r.b[r.pos] != typeStop {
		r.key = fieldKey(binary.BigEndian.Uint16(r.b[r.pos+1:]), r.b[r.pos])
		r.pos += 3
		return true
	}
	r.end()
	return false
}

// end reads the STOP that ends a struct, or records why there is none.
func (r *reader) end() {
	switch {
	case r.err != nil:
	case r.pos >= len(r.b):
		r.err = fmt.Errorf("no field stop: %w", errEnd)
	case r.b[r.pos] == typeStop:
		r.pos++
	default:
		r.err = fmt.Errorf("field header: %w", errEnd)
	}
}

// fail records err as the current field's error, unless there already is
// one.
func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", r.key, err)
	}
}

// take returns the next n bytes, or fails (nil) when fewer are left.
func (r *reader) take(n int) []byte {
	if n > len(r.b)-r.pos {
		r.fail(errEnd)
		return nil
	}
	r.pos += n
	return r.b[r.pos-n : r.pos : r.pos]
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *reader) i32() int32       { return int32(r.u32()) }
func (r *reader) i64() int64       { return int64(r.u64()) }
func (r *reader) double() float64  { return math.Float64frombits(r.u64()) }
func (r *reader) int64Ptr() *int64 { n := int64(r.i32()); return &n }

// boolean reads a bool: any byte but 0 is true, as in the JS library.
func (r *reader) boolean() bool {
	b := r.take(1)
	return b != nil && b[0] != 0
}

func (r *reader) boolPtr() *bool {
	v := r.boolean()
	return &v
}

// span reads a string or binary, returning where its bytes are in the
// input; it fails when the length is negative or past the input's end.
func (r *reader) span() (start, end int) {
	if len(r.b)-r.pos >= 4 {
		n := int32(binary.BigEndian.Uint32(r.b[r.pos:]))
		if start := r.pos + 4; n >= 0 && int(n) <= len(r.b)-start {
			r.pos = start + int(n)
			return start, r.pos
		}
	}
	r.badLength()
	return r.pos, r.pos
}

// badLength records why span could not read a length.
func (r *reader) badLength() {
	left := len(r.b) - r.pos
	if left < 4 {
		r.fail(errEnd)
		return
	}
	n := int32(binary.BigEndian.Uint32(r.b[r.pos:]))
	if n < 0 {
		r.fail(fmt.Errorf("negative length %d", n))
		return
	}
	r.fail(fmt.Errorf("length %d, but %d bytes left", n, left-4))
}

// bin reads a binary, a slice of the input, empty but not nil when the
// length is 0.
func (r *reader) bin() []byte {
	start, end := r.span()
	return r.b[start:end:end]
}

// str reads a string.
func (r *reader) str() string {
	start, end := r.span()
	if r.text != "" {
		return r.text[start:end]
	}
	return string(r.b[start:end])
}

// count checks a container's element count n against what is left of the
// input, each element taking at least min bytes, and returns it, or fails
// (0).
func (r *reader) count(n int32, min int) int {
	left := len(r.b) - r.pos
	switch {
	case n < 0:
		r.fail(fmt.Errorf("negative element count %d", n))
	case int64(n)*int64(min) > int64(left):
		r.fail(fmt.Errorf("%d elements cannot fit in the %d bytes left", n, left))
	default:
		return int(n)
	}
	return 0
}

// containerCount reads the element count that ends a container's header.
func containerCount(header []byte) int32 {
	return int32(binary.BigEndian.Uint32(header[len(header)-4:]))
}

// strs reads a list<string>. As in the JS library and the generated Go
// code, the elements are read as strings whatever the element type says;
// the count is checked against the element type it declares.
func (r *reader) strs() []string {
	h := r.take(5)
	if h == nil {
		return nil
	}
	n := r.count(containerCount(h), minSize(h[0]))
	if left := len(r.b) - r.pos; n > left/4 { // each string takes at least its length
		r.fail(fmt.Errorf("%d strings cannot fit in the %d bytes left", n, left))
	}
	if r.err != nil {
		return nil
	}
	list := make([]string, n)
	for i := range list {
		if list[i] = r.str(); r.err != nil {
			return nil
		}
	}
	return list
}

// skip skips the current field's value.
func (r *reader) skip() { r.skipValue(r.key.typ(), maxSkipDepth) }

// skipValue skips a value of type typ, in which values may nest depth-1
// deep.
func (r *reader) skipValue(typ byte, depth int) {
	if depth <= 0 {
		r.fail(fmt.Errorf("values nested more than %d deep", maxSkipDepth))
		return
	}
	switch typ {
	case typeBool, typeByte, typeI16, typeI32, typeI64, typeDouble, typeUUID:
		r.take(minSize(typ)) // a value of fixed size
	case typeString:
		r.span()
	case typeStruct:
		for r.err == nil {
			h := r.take(1)
			if h == nil || h[0] == typeStop {
				return
			}
			r.take(2) // the field id
			r.skipValue(h[0], depth-1)
		}
	case typeMap:
		h := r.take(6) // key type, value type, count
		if h == nil {
			return
		}
		n := r.count(containerCount(h), minSize(h[0])+minSize(h[1]))
		for i := 0; i < n && r.err == nil; i++ {
			r.skipValue(h[0], depth-1)
			r.skipValue(h[1], depth-1)
		}
	case typeSet, typeList:
		h := r.take(5) // element type, count
		if h == nil {
			return
		}
		n := r.count(containerCount(h), minSize(h[0]))
		for i := 0; i < n && r.err == nil; i++ {
			r.skipValue(h[0], depth-1)
		}
	default:
		r.fail(fmt.Errorf("unknown type %d", typ))
	}
}

// minSize is the fewest bytes a value of type typ takes, as Apache
// Thrift's Go library counts them to check an element count (a container's
// count alone, an unknown type 1 byte).
func minSize(typ byte) int {
	switch typ {
	case typeDouble, typeI64:
		return 8
	case typeI16:
		return 2
	case typeI32, typeString, typeMap, typeSet, typeList:
		return 4
	case typeUUID:
		return 16
	}
	return 1
}
