package kafkabroker

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// message is one record, whatever its wire format.
type message struct {
	offset    int64
	timestamp int64 // milliseconds; -1 when unknown
	key       []byte
	value     []byte
}

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// maxDecompressed bounds what one compressed wrapper may expand to.
const maxDecompressed = 64 << 20

// decompress undoes a Kafka compression codec (attributes & 7).
func decompress(codec int, src []byte) ([]byte, error) {
	var r io.Reader
	switch codec {
	case 0:
		return src, nil
	case 1:
		zr, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		r = zr
	case 2:
		return unsnappy(src)
	case 3:
		r = lz4.NewReader(bytes.NewReader(src))
	case 4:
		zr, err := zstd.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("unknown compression codec %d", codec)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxDecompressed+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxDecompressed {
		return nil, errors.New("decompressed data too large")
	}
	return out, nil
}

// xerialMagic starts the framed snappy format of the Java (and kafka-node)
// clients: magic, two int32 versions, then [int32 length][snappy block]...
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

func unsnappy(src []byte) ([]byte, error) {
	if len(src) < 16 || !bytes.HasPrefix(src, xerialMagic) {
		return s2.Decode(nil, src)
	}
	var out []byte
	for rest := src[16:]; len(rest) > 0; {
		if len(rest) < 4 {
			return nil, errors.New("truncated xerial snappy chunk")
		}
		n := int(binary.BigEndian.Uint32(rest))
		rest = rest[4:]
		if n > len(rest) {
			return nil, errors.New("truncated xerial snappy chunk")
		}
		block, err := s2.Decode(nil, rest[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, block...)
		if len(out) > maxDecompressed {
			return nil, errors.New("decompressed data too large")
		}
		rest = rest[n:]
	}
	return out, nil
}

// readBytes reads an int32-length-prefixed byte string (-1 = null).
func readBytes(b []byte) (v, rest []byte, err error) {
	if len(b) < 4 {
		return nil, nil, io.ErrUnexpectedEOF
	}
	n := int32(binary.BigEndian.Uint32(b))
	b = b[4:]
	if n < 0 {
		return nil, b, nil
	}
	if int(n) > len(b) {
		return nil, nil, io.ErrUnexpectedEOF
	}
	return b[:n:n], b[n:], nil
}

// parseMessageSet reads a MessageSet (magic 0 and 1, Kafka < 0.11), as
// Produce v0-2 carries it. Compressed wrappers are unpacked. A trailing
// partial message is ignored, as brokers do.
func parseMessageSet(b []byte, depth int) ([]message, error) {
	var out []message
	for len(b) >= 12 {
		offset := int64(binary.BigEndian.Uint64(b))
		size := int(int32(binary.BigEndian.Uint32(b[8:])))
		if size < 0 || 12+size > len(b) {
			break // partial message
		}
		m := b[12 : 12+size]
		b = b[12+size:]
		if len(m) < 6 {
			return nil, errors.New("message too short")
		}
		if crc32.ChecksumIEEE(m[4:]) != binary.BigEndian.Uint32(m) {
			return nil, errors.New("message CRC mismatch")
		}
		magic, attrs := m[4], m[5]
		rest := m[6:]
		ts := int64(-1)
		switch magic {
		case 0:
		case 1:
			if len(rest) < 8 {
				return nil, io.ErrUnexpectedEOF
			}
			ts = int64(binary.BigEndian.Uint64(rest))
			if attrs&0x08 != 0 { // LogAppendTime: the broker's clock
				ts = -1
			}
			rest = rest[8:]
		default:
			return nil, fmt.Errorf("message magic %d in a MessageSet", magic)
		}
		key, rest, err := readBytes(rest)
		if err != nil {
			return nil, err
		}
		value, _, err := readBytes(rest)
		if err != nil {
			return nil, err
		}
		if codec := int(attrs & 0x07); codec != 0 {
			if depth > 0 {
				return nil, errors.New("nested compressed message")
			}
			inner, err := decompress(codec, value)
			if err != nil {
				return nil, fmt.Errorf("compressed message set: %w", err)
			}
			msgs, err := parseMessageSet(inner, depth+1)
			if err != nil {
				return nil, err
			}
			for i := range msgs {
				if msgs[i].timestamp < 0 {
					msgs[i].timestamp = ts
				}
			}
			out = append(out, msgs...)
			continue
		}
		out = append(out, message{offset: offset, timestamp: ts, key: key, value: value})
	}
	return out, nil
}

// appendVarint appends a zigzag varint, Kafka's record varint.
func appendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

func appendVarBytes(b, v []byte) []byte {
	if v == nil {
		return appendVarint(b, -1)
	}
	return append(appendVarint(b, int64(len(v))), v...)
}

// recordBatch encodes messages as one uncompressed RecordBatch (magic 2),
// as a Produce v3 request carries it. Messages without a timestamp get now.
func recordBatch(msgs []message, now time.Time) []byte {
	first, maxTS := int64(-1), int64(-1)
	nowMS := now.UnixMilli()
	for i := range msgs {
		if msgs[i].timestamp < 0 {
			msgs[i].timestamp = nowMS
		}
		if first < 0 || msgs[i].timestamp < first {
			first = msgs[i].timestamp
		}
		maxTS = max(maxTS, msgs[i].timestamp)
	}
	var records []byte
	var rec []byte
	for i, m := range msgs {
		rec = rec[:0]
		rec = append(rec, 0) // attributes
		rec = appendVarint(rec, m.timestamp-first)
		rec = appendVarint(rec, int64(i))
		rec = appendVarBytes(rec, m.key)
		rec = appendVarBytes(rec, m.value)
		rec = appendVarint(rec, 0) // headers
		records = appendVarint(records, int64(len(rec)))
		records = append(records, rec...)
	}
	b := make([]byte, 0, 61+len(records))
	b = binary.BigEndian.AppendUint64(b, 0)                   // base offset
	b = binary.BigEndian.AppendUint32(b, 0)                   // batch length, below
	b = binary.BigEndian.AppendUint32(b, 0xffffffff)          // partition leader epoch
	b = append(b, 2)                                          // magic
	b = binary.BigEndian.AppendUint32(b, 0)                   // CRC, below
	b = binary.BigEndian.AppendUint16(b, 0)                   // attributes: no compression, create time
	b = binary.BigEndian.AppendUint32(b, uint32(len(msgs)-1)) // last offset delta
	b = binary.BigEndian.AppendUint64(b, uint64(first))
	b = binary.BigEndian.AppendUint64(b, uint64(maxTS))
	b = binary.BigEndian.AppendUint64(b, 0xffffffffffffffff) // producer ID
	b = binary.BigEndian.AppendUint16(b, 0xffff)             // producer epoch
	b = binary.BigEndian.AppendUint32(b, 0xffffffff)         // base sequence
	b = binary.BigEndian.AppendUint32(b, uint32(len(msgs)))
	b = append(b, records...)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32c))
	return b
}

// parseRecordBatches reads the RecordBatches of a Fetch v4+ partition.
// Control batches are skipped; a trailing partial batch is ignored.
func parseRecordBatches(b []byte) ([]message, error) {
	var out []message
	for len(b) >= 17 {
		base := int64(binary.BigEndian.Uint64(b))
		length := int(int32(binary.BigEndian.Uint32(b[8:])))
		if length < 0 || 12+length > len(b) {
			break
		}
		batch := b[:12+length]
		b = b[12+length:]
		if batch[16] != 2 {
			// A MessageSet stored by an old producer (kfake keeps only v2,
			// but be lenient).
			msgs, err := parseMessageSet(batch, 0)
			if err != nil {
				return nil, err
			}
			out = append(out, msgs...)
			continue
		}
		if len(batch) < 61 {
			return nil, errors.New("record batch too short")
		}
		attrs := binary.BigEndian.Uint16(batch[21:])
		if attrs&0x20 != 0 { // control batch (transaction markers)
			continue
		}
		firstTS := int64(binary.BigEndian.Uint64(batch[27:]))
		maxTS := int64(binary.BigEndian.Uint64(batch[35:]))
		n := int(int32(binary.BigEndian.Uint32(batch[57:])))
		recs, err := decompress(int(attrs&0x07), batch[61:])
		if err != nil {
			return nil, fmt.Errorf("record batch: %w", err)
		}
		for range n {
			m, rest, err := parseRecord(recs)
			if err != nil {
				return nil, err
			}
			recs = rest
			m.offset += base
			if attrs&0x08 != 0 {
				m.timestamp = maxTS
			} else {
				m.timestamp += firstTS
			}
			out = append(out, m)
		}
	}
	return out, nil
}

func parseRecord(b []byte) (message, []byte, error) {
	var m message
	length, n := binary.Varint(b)
	if n <= 0 || length < 0 || int64(len(b)-n) < length {
		return m, nil, errors.New("bad record length")
	}
	rest := b[n+int(length):]
	r := b[n : n+int(length)]
	if len(r) < 1 {
		return m, nil, errors.New("record too short")
	}
	r = r[1:] // attributes
	ts, n := binary.Varint(r)
	if n <= 0 {
		return m, nil, errors.New("bad record timestamp")
	}
	r = r[n:]
	od, n := binary.Varint(r)
	if n <= 0 {
		return m, nil, errors.New("bad record offset")
	}
	r = r[n:]
	m.timestamp, m.offset = ts, od
	var err error
	if m.key, r, err = varBytes(r); err != nil {
		return m, nil, err
	}
	if m.value, _, err = varBytes(r); err != nil {
		return m, nil, err
	}
	return m, rest, nil // headers have no place in a MessageSet
}

func varBytes(b []byte) ([]byte, []byte, error) {
	l, n := binary.Varint(b)
	if n <= 0 {
		return nil, nil, errors.New("bad varint length")
	}
	b = b[n:]
	if l < 0 {
		return nil, b, nil
	}
	if int64(len(b)) < l {
		return nil, nil, io.ErrUnexpectedEOF
	}
	return b[:l:l], b[l:], nil
}

// appendMessage appends one message of a MessageSet in magic 0 or 1.
func appendMessage(b []byte, magic int8, m message) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(m.offset))
	sizeAt := len(b)
	b = binary.BigEndian.AppendUint32(b, 0) // size, below
	crcAt := len(b)
	b = binary.BigEndian.AppendUint32(b, 0) // CRC, below
	b = append(b, byte(magic), 0)
	if magic >= 1 {
		b = binary.BigEndian.AppendUint64(b, uint64(m.timestamp))
	}
	for _, v := range [][]byte{m.key, m.value} {
		if v == nil {
			b = binary.BigEndian.AppendUint32(b, 0xffffffff)
		} else {
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		}
	}
	binary.BigEndian.PutUint32(b[sizeAt:], uint32(len(b)-crcAt))
	binary.BigEndian.PutUint32(b[crcAt:], crc32.ChecksumIEEE(b[crcAt+4:]))
	return b
}

// messageSet encodes the messages at or after fromOffset as a MessageSet
// of the given magic, stopping before maxBytes would be exceeded (but
// always holding at least one message, as brokers do). An empty set is an
// empty, not a null, byte string: kafka-node reads a null one as a message
// set of size -1 and loops.
func messageSet(msgs []message, magic int8, fromOffset int64, maxBytes int) []byte {
	b := []byte{}
	for _, m := range msgs {
		if m.offset < fromOffset {
			continue
		}
		n := len(b)
		b = appendMessage(b, magic, m)
		if maxBytes > 0 && len(b) > maxBytes && n > 0 {
			return b[:n]
		}
	}
	return b
}
