package tcp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/molbridge/molbridge/protocol"
)

// HeaderSize is the size of a frame header: CRC byte, int32 big-endian
// total frame length, type byte.
const HeaderSize = 6

// AppendFrame appends the frame of a packet of type t, with payload data,
// to dst. It fails for the packet types JS never frames (DISCOVER, INFO,
// HEARTBEAT, DISCONNECT): a frame with another type byte makes a JS node's
// process exit.
func AppendFrame(dst []byte, t protocol.PacketType, data []byte) ([]byte, error) {
	id := t.FrameID()
	if id == 0 {
		return dst, fmt.Errorf("tcp: packet type %s cannot be framed", t)
	}
	if len(data) > 1<<31-1-HeaderSize {
		return dst, errors.New("tcp: packet too large")
	}
	var h [HeaderSize]byte
	binary.BigEndian.PutUint32(h[1:5], uint32(len(data)+HeaderSize))
	h[5] = id
	h[0] = h[1] ^ h[2] ^ h[3] ^ h[4] ^ h[5]
	dst = append(dst, h[:]...)
	return append(dst, data...), nil
}

// Parser splits the byte stream of one inbound connection into frames, as
// JS's parser does: it buffers partial frames, and fails on a CRC
// mismatch, on a length field below the header size, and when the
// buffered bytes (which may hold several frames) exceed the maximum packet
// size. It also fails on a type byte outside 1–8, which JS cannot handle
// at all.
type Parser struct {
	// MaxPacketSize limits the buffered bytes; 0 is no limit.
	MaxPacketSize int
	buf           []byte
}

// Feed adds a chunk read from the connection and calls emit for every
// complete frame, in order. The payload passed to emit is a fresh copy.
// After an error the connection must be dropped.
func (p *Parser) Feed(chunk []byte, emit func(t protocol.PacketType, payload []byte)) error {
	packet := chunk
	if len(p.buf) > 0 {
		packet = append(p.buf, chunk...)
		p.buf = nil
	}
	for len(packet) > 0 {
		if len(packet) < HeaderSize {
			p.buf = append([]byte(nil), packet...)
			return nil
		}
		if p.MaxPacketSize > 0 && len(packet) > p.MaxPacketSize {
			return fmt.Errorf("tcp: incoming packet is larger than the maxPacketSize limit (%d > %d)", len(packet), p.MaxPacketSize)
		}
		if crc := packet[1] ^ packet[2] ^ packet[3] ^ packet[4] ^ packet[5]; crc != packet[0] {
			return fmt.Errorf("tcp: invalid packet CRC %d", crc)
		}
		length := int(int32(binary.BigEndian.Uint32(packet[1:5])))
		if length < HeaderSize {
			return fmt.Errorf("tcp: invalid packet length %d", length)
		}
		if len(packet) < length {
			p.buf = append([]byte(nil), packet...)
			return nil
		}
		t, ok := protocol.PacketTypeOfFrameID(packet[5])
		if !ok {
			return fmt.Errorf("tcp: unsupported packet type id %d", packet[5])
		}
		emit(t, append([]byte(nil), packet[HeaderSize:length]...))
		packet = packet[length:]
	}
	return nil
}
