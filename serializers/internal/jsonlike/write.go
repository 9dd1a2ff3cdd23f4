package jsonlike

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/molbridge/molbridge/packets"
)

// Writer writes JSON-like values as JSON text the way encoding/json does
// (map keys sorted), except that strings are not HTML-escaped (JS's
// JSON.stringify does not escape them either) and a []byte takes the shape
// of a serialized Node Buffer. Types it does not know go through
// encoding/json.
type Writer struct {
	B []byte
}

// AppendAny appends v in JSON to b.
func AppendAny(b []byte, v any) ([]byte, error) {
	w := Writer{B: b}
	err := w.Any(v)
	return w.B, err
}

// AppendObject appends m in JSON to b; nil is null.
func AppendObject(b []byte, m map[string]any) ([]byte, error) {
	w := Writer{B: b}
	err := w.Object(m)
	return w.B, err
}

// Any writes v.
func (w *Writer) Any(v any) error {
	switch x := v.(type) {
	case nil:
		w.B = append(w.B, "null"...)
	case string:
		w.B = AppendString(w.B, x)
	case bool:
		w.B = strconv.AppendBool(w.B, x)
	case float64:
		w.B = AppendFloat(w.B, x)
	case int:
		w.B = strconv.AppendInt(w.B, int64(x), 10)
	case int64:
		w.B = strconv.AppendInt(w.B, x, 10)
	case int32:
		w.B = strconv.AppendInt(w.B, int64(x), 10)
	case map[string]any:
		return w.Object(x)
	case packets.Object:
		return w.SortedObject(x)
	case packets.ActionInfo:
		return w.Value(x.Object())
	case packets.EventInfo:
		return w.Value(x.Object())
	case []any:
		w.B = append(w.B, '[')
		for i, e := range x {
			if i > 0 {
				w.B = append(w.B, ',')
			}
			if err := w.Any(e); err != nil {
				return err
			}
		}
		w.B = append(w.B, ']')
	case []string:
		w.B = append(w.B, '[')
		for i, e := range x {
			if i > 0 {
				w.B = append(w.B, ',')
			}
			w.B = AppendString(w.B, e)
		}
		w.B = append(w.B, ']')
	case packets.Value:
		return w.Value(x)
	case []byte:
		w.B = AppendBuffer(w.B, x)
	case packets.Buffer:
		w.B = AppendBuffer(w.B, x)
	default:
		enc, err := json.Marshal(packets.ValueOf(v))
		if err != nil {
			return err
		}
		w.B = append(w.B, enc...)
	}
	return nil
}

// Value writes a packets.Value: raw JSON as it is, a Go value as Any
// writes it, raw bytes of another format decoded first. Undefined is
// written as null.
func (w *Writer) Value(v packets.Value) error {
	if raw, ok := v.Raw(packets.JSONFormat); ok {
		w.B = append(w.B, raw...)
		return nil
	}
	x, err := v.Interface()
	if err != nil {
		return err
	}
	return w.Any(x)
}

// SortedObject writes o's fields in their order.
func (w *Writer) SortedObject(o packets.Object) error {
	w.B = append(w.B, '{')
	for i := range o {
		if i > 0 {
			w.B = append(w.B, ',')
		}
		w.B = AppendString(w.B, o[i].Key)
		w.B = append(w.B, ':')
		if err := w.Any(o[i].Value); err != nil {
			return err
		}
	}
	w.B = append(w.B, '}')
	return nil
}

// Object writes m with its keys sorted; nil is null.
func (w *Writer) Object(m map[string]any) error {
	if m == nil {
		w.B = append(w.B, "null"...)
		return nil
	}
	if len(m) == 0 {
		w.B = append(w.B, "{}"...)
		return nil
	}
	if len(m) == 1 {
		for k, v := range m {
			w.B = append(w.B, '{')
			w.B = AppendString(w.B, k)
			w.B = append(w.B, ':')
			if err := w.Any(v); err != nil {
				return err
			}
		}
		w.B = append(w.B, '}')
		return nil
	}
	if len(m) > SmallMap {
		keys := slices.Sorted(maps.Keys(m))
		w.B = append(w.B, '{')
		for i, k := range keys {
			if i > 0 {
				w.B = append(w.B, ',')
			}
			w.B = AppendString(w.B, k)
			w.B = append(w.B, ':')
			if err := w.Any(m[k]); err != nil {
				return err
			}
		}
		w.B = append(w.B, '}')
		return nil
	}
	var s Sorted[any]
	s.Collect(m)
	w.B = append(w.B, '{')
	for i := range s.N {
		if i > 0 {
			w.B = append(w.B, ',')
		}
		k, v := s.Entry(i)
		w.B = AppendString(w.B, k)
		w.B = append(w.B, ':')
		if err := w.Any(v); err != nil {
			return err
		}
	}
	w.B = append(w.B, '}')
	return nil
}

// SmallMap is the size up to which Sorted holds a map's entries.
const SmallMap = 16

// Sorted holds the entries of a small map (at most SmallMap) in arrays, on
// the stack of the caller that declares it, with their order by key:
// sorting indexes rather than strings writes no pointers, so it needs no
// write barriers while the GC runs, and each value is read once.
type Sorted[V any] struct {
	keys  [SmallMap]string
	vals  [SmallMap]V
	order [SmallMap]uint8
	N     int // the number of entries
}

// Collect takes the entries of m, which has at most SmallMap.
func (s *Sorted[V]) Collect(m map[string]V) {
	for k, v := range m {
		s.keys[s.N], s.vals[s.N], s.order[s.N] = k, v, uint8(s.N)
		s.N++
	}
	for i := 1; i < s.N; i++ {
		for j := i; j > 0 && s.keys[s.order[j]] < s.keys[s.order[j-1]]; j-- {
			s.order[j], s.order[j-1] = s.order[j-1], s.order[j]
		}
	}
}

// Entry returns the i-th entry in key order.
func (s *Sorted[V]) Entry(i int) (string, V) {
	j := s.order[i]
	return s.keys[j], s.vals[j]
}

// AppendBuffer writes binary data as JS writes a Node Buffer:
// {"type":"Buffer","data":[104,105]}.
func AppendBuffer(b, data []byte) []byte {
	b = append(b, `{"type":"Buffer","data":[`...)
	for i, c := range data {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(c), 10)
	}
	return append(b, "]}"...)
}

// AppendFloat writes a number as encoding/json does; NaN and infinities,
// which JSON has no form for, are written as null, as JSON.stringify does.
func AppendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if i := int64(f); float64(i) == f && i > -1e15 && i < 1e15 && (i != 0 || !negZero(f)) {
		return strconv.AppendInt(b, i, 10)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json and JS do
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hex = "0123456789abcdef"

// plain tells the ASCII bytes that a JSON string holds as they are.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString writes s as a JSON string, escaping what JSON requires;
// invalid UTF-8 becomes U+FFFD, as encoding/json writes it.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	i := 0
	for i < len(s) && plain[s[i]] {
		i++
	}
	if i == len(s) { // the usual case: nothing to escape
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' { // escaped by encoding/json too
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
