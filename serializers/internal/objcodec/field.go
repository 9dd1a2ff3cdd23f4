package objcodec

// FindField returns the encoded value of the field key of the map raw
// holds, without decoding the other fields; it makes Codec a
// packets.FieldFinder. A later duplicate key wins, as in a JS object.
func (c Codec) FindField(raw []byte, key string) ([]byte, bool) {
	r := reader{f: c.f, d: raw}
	it, err := r.next()
	if err != nil || it.k != kMap {
		return nil, false
	}
	var field []byte
	found := false
	for n := it.l; r.more(&n); {
		k, err := r.key()
		if err != nil {
			return nil, false
		}
		start := r.p
		if err := r.skip(); err != nil {
			return nil, false
		}
		if k == key {
			field, found = raw[start:r.p:r.p], true
		}
	}
	return field, found
}

// IsEmptyObject reports whether raw holds a map without entries; it makes
// Codec a packets.EmptyObjectChecker.
func (c Codec) IsEmptyObject(raw []byte) bool {
	r := reader{f: c.f, d: raw}
	it, err := r.next()
	return err == nil && it.k == kMap && it.l == 0 && r.p == len(raw)
}
