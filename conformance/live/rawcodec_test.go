package live

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
)

// schemaless reports whether the suite's serializer writes any object
// (JSON, MsgPack, Notepack, CBOR), so that a test can send packets whose
// fields have the wrong types. Avro, ProtoBuf and Thrift write a schema's
// fields only.
func schemaless() bool {
	switch strings.ToLower(cfg.Serializer) {
	case "json", "msgpack", "notepack", "cbor":
		return true
	}
	return false
}

// malformed returns payloads that do not decode as a packet in the suite's
// serializer: bytes that are no packet in any of them, values of the wrong
// kind in the serializer's own format, and, for binary formats, cuts of a
// valid packet (valid: the encoded bytes of one).
func malformed(valid []byte) [][]byte {
	out := [][]byte{{}, {0xff, 0xfe, 0x00}, []byte("not json{")}
	switch strings.ToLower(cfg.Serializer) {
	case "json":
		return append(out, []byte("null"), []byte("[1,2,3]"), []byte(`"str"`), []byte(`{"ver":`))
	case "msgpack", "notepack":
		// nil, [1,2,3], "str", {"ver": <missing>}
		out = append(out, []byte{0xc0}, []byte{0x93, 1, 2, 3}, []byte{0xa3, 's', 't', 'r'}, []byte{0x81, 0xa3, 'v', 'e', 'r'})
	case "cbor":
		out = append(out, []byte{0xf6}, []byte{0x83, 1, 2, 3}, []byte{0x63, 's', 't', 'r'}, []byte{0xa1, 0x63, 'v', 'e', 'r'})
	}
	if len(valid) > 2 {
		out = append(out, valid[:len(valid)/2], valid[:len(valid)-1])
	}
	return out
}

// encodeAny encodes JSON-like data (nil, bool, string, numbers, []any,
// map[string]any) in the suite's serializer as it is, without a packet
// schema. Only for schemaless serializers.
func encodeAny(t *testing.T, v any) []byte {
	t.Helper()
	var (
		b   []byte
		err error
	)
	switch strings.ToLower(cfg.Serializer) {
	case "json":
		b, err = json.Marshal(v)
	case "msgpack", "notepack":
		b, err = appendMsgpack(nil, v)
	case "cbor":
		b, err = appendCBOR(nil, v)
	default:
		err = fmt.Errorf("%s writes schema fields only", cfg.Serializer)
	}
	if err != nil {
		t.Fatalf("encode %s in %s: %v", jsonString(v), cfg.Serializer, err)
	}
	return b
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func appendMsgpack(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, 0xc0), nil
	case bool:
		if x {
			return append(b, 0xc3), nil
		}
		return append(b, 0xc2), nil
	case int:
		if x >= 0 && x < 128 {
			return append(b, byte(x)), nil
		}
		b = append(b, 0xd3)
		return binary.BigEndian.AppendUint64(b, uint64(int64(x))), nil
	case float64:
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(x)), nil
	case string:
		switch n := len(x); {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n < 256:
			b = append(b, 0xd9, byte(n))
		default:
			b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
		}
		return append(b, x...), nil
	case []any:
		if len(x) < 16 {
			b = append(b, 0x90|byte(len(x)))
		} else {
			b = binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(len(x)))
		}
		for _, e := range x {
			if b, err = appendMsgpack(b, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]any:
		if len(x) < 16 {
			b = append(b, 0x80|byte(len(x)))
		} else {
			b = binary.BigEndian.AppendUint16(append(b, 0xde), uint16(len(x)))
		}
		for _, k := range sortedKeys(x) {
			if b, err = appendMsgpack(b, k); err != nil {
				return nil, err
			}
			if b, err = appendMsgpack(b, x[k]); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("msgpack: unsupported %T", v)
}

func cborHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n < 1<<8:
		return append(b, m|24, byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n < 1<<32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

func appendCBOR(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, 0xf6), nil
	case bool:
		if x {
			return append(b, 0xf5), nil
		}
		return append(b, 0xf4), nil
	case int:
		if x >= 0 {
			return cborHead(b, 0, uint64(x)), nil
		}
		return cborHead(b, 1, uint64(-1-x)), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 0xfb), math.Float64bits(x)), nil
	case string:
		return append(cborHead(b, 3, uint64(len(x))), x...), nil
	case []any:
		b = cborHead(b, 4, uint64(len(x)))
		for _, e := range x {
			if b, err = appendCBOR(b, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]any:
		b = cborHead(b, 5, uint64(len(x)))
		for _, k := range sortedKeys(x) {
			if b, err = appendCBOR(b, k); err != nil {
				return nil, err
			}
			if b, err = appendCBOR(b, x[k]); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("cbor: unsupported %T", v)
}
