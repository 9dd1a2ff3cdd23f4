package objcodec

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/molbridge/molbridge/packets"
)

var _ packets.RawCodec = Codec{}

// Codec is the packets.RawCodec of values held in a format.
type Codec struct{ f Format }

// NewCodec returns the RawCodec of format f.
func NewCodec(f Format) Codec { return Codec{f: f} }

// Format returns the serializer name of the format ("MsgPack", ...).
func (c Codec) Format() string { return c.f.Name() }

// DecodeValue decodes one encoded value into the value into points to.
// Into a *any it stores JSON-like data; into other types it stores what
// encoding/json would store from the same data in JSON; a *packets.Value
// gets raw itself.
func (c Codec) DecodeValue(raw []byte, into any) error {
	if p, ok := into.(*packets.Value); ok && p != nil {
		if _, err := c.decodeTree(raw); err != nil {
			return err
		}
		*p = packets.RawValue(c, raw)
		return nil
	}
	v, err := c.decodeTree(raw)
	if err != nil {
		return err
	}
	if p, ok := into.(*any); ok && p != nil {
		*p = v
		return nil
	}
	rv := reflect.ValueOf(into)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%s: DecodeValue needs a non-nil pointer, not %T", c.f.Name(), into)
	}
	return assign(rv.Elem(), v)
}

func (c Codec) decodeTree(raw []byte) (any, error) {
	r := reader{f: c.f, d: raw}
	r.shareText()
	v, err := r.value(0, true)
	if err != nil {
		return nil, err
	}
	if r.p != len(raw) {
		return nil, errors.New("data after the value")
	}
	if _, undef := v.(undefinedValue); undef {
		v = nil
	}
	return v, nil
}

// EncodeValue encodes a Go value alone, as it would be encoded inside a
// payload.
func EncodeValue(f Format, v any) ([]byte, error) {
	w := writer{f: f}
	if err := w.goValue(v, 0); err != nil {
		return nil, err
	}
	return w.b, nil
}
