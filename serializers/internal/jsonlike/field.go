package jsonlike

import "unsafe"

// FindField returns the JSON text of the field key of the object raw holds,
// without decoding the other fields; it makes Codec a packets.FieldFinder.
// A later duplicate key wins, as in JSON.parse.
func (codec) FindField(raw []byte, key string) ([]byte, bool) {
	// a view of raw, read only during this call; the result is a slice of
	// raw itself
	p := Parser{s: unsafe.String(unsafe.SliceData(raw), len(raw))}
	start, end := -1, -1
	err := p.Object(0, func(k string) error {
		if k != key {
			return p.Skip(1)
		}
		start = p.pos
		err := p.Skip(1)
		end = p.pos
		return err
	})
	if err != nil || start < 0 {
		return nil, false
	}
	return raw[start:end:end], true
}
