// Package protocol holds the constants of the Moleculer wire protocol: the
// protocol version, the packet types and the topic names that every
// transporter derives its subjects, channels and queues from.
//
// It imports nothing else of molbridge; every other package builds on it.
package protocol

// Version4 is the protocol version spoken by moleculer 0.14.x. JS nodes
// compare the "ver" field of every packet with strict string equality and
// drop packets of any other version.
const Version4 = "4"

// Version5 is the protocol version spoken by moleculer 0.15.x.
const Version5 = "5"

// PacketType names a packet the way JS does ("REQ", "INFO", ...). The type
// is never inside a packet's bytes: it comes from the topic a packet arrived
// on, or from the frame header on the TCP transporter.
type PacketType string

// The packet types of protocol 4.
const (
	Event       PacketType = "EVENT"
	Request     PacketType = "REQ"
	Response    PacketType = "RES"
	Discover    PacketType = "DISCOVER"
	Info        PacketType = "INFO"
	Disconnect  PacketType = "DISCONNECT"
	Heartbeat   PacketType = "HEARTBEAT"
	Ping        PacketType = "PING"
	Pong        PacketType = "PONG"
	GossipHello PacketType = "GOSSIP_HELLO"
	GossipReq   PacketType = "GOSSIP_REQ"
	GossipRes   PacketType = "GOSSIP_RES"
)

// PacketTypes lists every packet type in a stable order.
var PacketTypes = []PacketType{
	Event, Request, Response, Discover, Info, Disconnect,
	Heartbeat, Ping, Pong, GossipHello, GossipReq, GossipRes,
}

// ParsePacketType returns the packet type named s and whether s names one.
func ParsePacketType(s string) (PacketType, bool) {
	for _, t := range PacketTypes {
		if string(t) == s {
			return t, true
		}
	}
	return "", false
}

// FrameID is the type byte of the TCP transporter's frame header, or 0 for a
// packet type that is never framed (DISCOVER, INFO, HEARTBEAT, DISCONNECT).
func (t PacketType) FrameID() byte {
	switch t {
	case Event:
		return 1
	case Request:
		return 2
	case Response:
		return 3
	case Ping:
		return 4
	case Pong:
		return 5
	case GossipReq:
		return 6
	case GossipRes:
		return 7
	case GossipHello:
		return 8
	}
	return 0
}

// PacketTypeOfFrameID is the inverse of FrameID.
func PacketTypeOfFrameID(id byte) (PacketType, bool) {
	for _, t := range PacketTypes {
		if f := t.FrameID(); f != 0 && f == id {
			return t, true
		}
	}
	return "", false
}
