// Package jsonlike builds and writes the JSON-like Go values that the
// serializers decode into and encode from: map[string]any, []any, float64,
// string, bool and nil. It holds the one fast path for JSON text that the
// JSON serializer and the JSON fields inside Avro, ProtoBuf and Thrift
// share (meta, INFO's services, config and metadata), and the value
// boxing that the binary object formats use as well.
//
// Decoding a tree of such values is mostly allocation: every string and
// number stored in an interface is boxed on the heap by the Go runtime, one
// allocation each. A Boxes value boxes them in batches instead, and a
// decoder that converts its whole input to one string up front gets every
// unescaped string as a slice of it. The values built are ordinary Go
// values; only their memory is shared.
package jsonlike

import "unsafe"

// eface is the layout of an interface{} value (runtime.eface): the dynamic
// type and a pointer to the data. It is used only to store a pointer to a
// string or float64 that lives in a batch, in place of the single-value
// allocation that converting a string or float64 to an interface makes.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	stringType  = typeOf("")
	float64Type = typeOf(float64(0))
)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// smallInts are the boxed integers 0 to 1023, the numbers JSON-like data
// holds most (ids, counts, versions, timeouts below a second), shared by
// all decoded values: interface values are immutable.
var smallInts = func() (t [1024]any) {
	for i := range t {
		t[i] = float64(i)
	}
	return t
}()

// Boxes boxes strings and numbers into interfaces in batches. The zero
// value is ready to use; a decoder uses one for one input. The boxed values
// are never written again, so sharing a batch is safe.
type Boxes struct {
	strs []string
	nums []float64
}

// Batches grow from a few values (a payload's meta or data has a few
// strings) to maxBatch.
const (
	firstBatch = 4
	maxBatch   = 128
)

// String returns s as an interface value.
func (b *Boxes) String(s string) any {
	if len(s) == 0 {
		return ""
	}
	if len(b.strs) == cap(b.strs) {
		b.strs = make([]string, 0, batchSize(cap(b.strs)))
	}
	b.strs = append(b.strs, s)
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = stringType, unsafe.Pointer(&b.strs[len(b.strs)-1])
	return v
}

// Number returns f as an interface value.
func (b *Boxes) Number(f float64) any {
	if f >= 0 && f < float64(len(smallInts)) {
		if i := int(f); float64(i) == f && (i != 0 || !negZero(f)) {
			return smallInts[i]
		}
	}
	if len(b.nums) == cap(b.nums) {
		b.nums = make([]float64, 0, batchSize(cap(b.nums)))
	}
	b.nums = append(b.nums, f)
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = float64Type, unsafe.Pointer(&b.nums[len(b.nums)-1])
	return v
}

func negZero(f float64) bool { return f == 0 && 1/f < 0 }

func batchSize(last int) int {
	if last == 0 {
		return firstBatch
	}
	return min(4*last, maxBatch)
}
