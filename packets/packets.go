package packets

import (
	"fmt"

	"github.com/molbridge/molbridge/protocol"
)

// Envelope holds the fields JS adds to every payload just before it is
// serialized: the protocol version and the sending node's ID.
type Envelope struct {
	Ver    string `json:"ver"`
	Sender string `json:"sender"`
}

// Env returns the envelope itself; every payload type embeds it.
func (e *Envelope) Env() *Envelope { return e }

// Payload is the body of one packet.
type Payload interface {
	// Type is the packet type the payload belongs to.
	Type() protocol.PacketType
	// Env gives access to the version and sender fields.
	Env() *Envelope
}

// New returns an empty payload of packet type t, to decode into.
func New(t protocol.PacketType) (Payload, error) {
	switch t {
	case protocol.Event:
		return new(Event), nil
	case protocol.Request:
		return new(Request), nil
	case protocol.Response:
		return new(Response), nil
	case protocol.Discover:
		return new(Discover), nil
	case protocol.Info:
		return new(Info), nil
	case protocol.Disconnect:
		return new(Disconnect), nil
	case protocol.Heartbeat:
		return new(Heartbeat), nil
	case protocol.Ping:
		return new(Ping), nil
	case protocol.Pong:
		return new(Pong), nil
	case protocol.GossipHello:
		return new(GossipHello), nil
	case protocol.GossipReq:
		return new(GossipReq), nil
	case protocol.GossipRes:
		return new(GossipRes), nil
	}
	return nil, fmt.Errorf("packets: unknown packet type %q", t)
}

// Meta is a context's meta object in Go: what [Value.Map] gives for the
// Meta field of a REQ, RES or EVENT.
type Meta = map[string]any

// NullString is a string that JS sends as null when it has none, as the
// parentID and caller of a root call. The empty string encodes as null and
// null decodes as the empty string.
type NullString string

// MarshalJSON writes null for the empty string.
func (s NullString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return appendJSONString(nil, string(s)), nil
}

// Request is a REQ packet: a call of an action on another node.
type Request struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Params Value  `json:"params,omitzero"`
	// Meta is the context's meta object, kept encoded when decoded. JS
	// always sends one. Undefined is written as null, or as {} where meta
	// travels as JSON text (Avro, ProtoBuf, Thrift).
	Meta Value `json:"meta"`
	// Timeout is the remaining distributed timeout in milliseconds; 0 is none.
	Timeout   float64    `json:"timeout"`
	Level     int        `json:"level"`
	Tracing   *bool      `json:"tracing"`
	ParentID  NullString `json:"parentID"`
	RequestID string     `json:"requestID"`
	Caller    NullString `json:"caller"`
	Stream    bool       `json:"stream"`
	// Seq orders the packets of a stream; nil on plain requests.
	Seq *int64 `json:"seq,omitempty"`
	Envelope
}

// Type returns protocol.Request.
func (*Request) Type() protocol.PacketType { return protocol.Request }

// Response is a RES packet: the outcome of a request.
type Response struct {
	ID string `json:"id"`
	// Meta is the callee's meta object, as Request.Meta.
	Meta    Value         `json:"meta"`
	Success bool          `json:"success"`
	Data    Value         `json:"data,omitzero"`
	Error   *ErrorPayload `json:"error,omitempty"`
	Stream  *bool         `json:"stream,omitempty"`
	Seq     *int64        `json:"seq,omitempty"`
	Envelope
}

// Type returns protocol.Response.
func (*Response) Type() protocol.PacketType { return protocol.Response }

// ErrorPayload is an error as it crosses the wire inside a RES.
type ErrorPayload struct {
	Name      string `json:"name"`
	Message   string `json:"message"`
	NodeID    string `json:"nodeID,omitempty"`
	Code      int    `json:"code,omitempty"`
	Type      string `json:"type,omitempty"`
	Retryable bool   `json:"retryable"`
	Stack     string `json:"stack,omitempty"`
	Data      any    `json:"data,omitempty"`
}

// Event is an EVENT packet: an emitted or broadcast event for one node.
type Event struct {
	ID        string   `json:"id"`
	Event     string   `json:"event"`
	Data      Value    `json:"data,omitzero"`
	Groups    []string `json:"groups,omitempty"`
	Broadcast bool     `json:"broadcast"`
	// Meta is the context's meta object, as Request.Meta.
	Meta      Value      `json:"meta"`
	Level     int        `json:"level"`
	Tracing   *bool      `json:"tracing"`
	ParentID  NullString `json:"parentID"`
	RequestID string     `json:"requestID"`
	Caller    NullString `json:"caller"`
	NeedAck   *bool      `json:"needAck"`
	Envelope
}

// Type returns protocol.Event.
func (*Event) Type() protocol.PacketType { return protocol.Event }

// Discover is a DISCOVER packet: a request for the receiver's INFO.
type Discover struct{ Envelope }

// Type returns protocol.Discover.
func (*Discover) Type() protocol.PacketType { return protocol.Discover }

// Info is an INFO packet: a node's description and its services.
type Info struct {
	Services   []ServiceInfo  `json:"services"`
	IPList     []string       `json:"ipList"`
	Hostname   string         `json:"hostname"`
	Client     ClientInfo     `json:"client"`
	Config     map[string]any `json:"config"`
	InstanceID string         `json:"instanceID"`
	Metadata   map[string]any `json:"metadata"`
	Seq        int64          `json:"seq"`
	Envelope
}

// Type returns protocol.Info.
func (*Info) Type() protocol.PacketType { return protocol.Info }

// ClientInfo says which implementation a node runs.
type ClientInfo struct {
	Type        string `json:"type"`
	Version     string `json:"version"`
	LangVersion string `json:"langVersion"`
}

// ServiceInfo describes one service inside an INFO packet. Settings and
// metadata are open objects kept as the serializer read them (see
// [Value]); a Go node builds them with [ValueOf].
type ServiceInfo struct {
	Name string `json:"name"`
	// Version is a number, a string, or nil when the service has none.
	Version  any                   `json:"version,omitempty"`
	FullName string                `json:"fullName"`
	Settings Value                 `json:"settings"`
	Metadata Value                 `json:"metadata"`
	Actions  map[string]ActionInfo `json:"actions"`
	Events   map[string]EventInfo  `json:"events"`
}

// Heartbeat is a HEARTBEAT packet: a node is alive and this busy.
type Heartbeat struct {
	CPU float64 `json:"cpu"`
	Envelope
}

// Type returns protocol.Heartbeat.
func (*Heartbeat) Type() protocol.PacketType { return protocol.Heartbeat }

// Disconnect is a DISCONNECT packet: the sender stops.
type Disconnect struct{ Envelope }

// Type returns protocol.Disconnect.
func (*Disconnect) Type() protocol.PacketType { return protocol.Disconnect }

// Ping is a PING packet.
type Ping struct {
	Time int64  `json:"time"`
	ID   string `json:"id"`
	Envelope
}

// Type returns protocol.Ping.
func (*Ping) Type() protocol.PacketType { return protocol.Ping }

// Pong is a PONG packet: the answer to a PING.
type Pong struct {
	Time    int64  `json:"time"`
	ID      string `json:"id"`
	Arrived int64  `json:"arrived"`
	Envelope
}

// Type returns protocol.Pong.
func (*Pong) Type() protocol.PacketType { return protocol.Pong }

// GossipHello is the first frame on every TCP transporter connection.
type GossipHello struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	Envelope
}

// Type returns protocol.GossipHello.
func (*GossipHello) Type() protocol.PacketType { return protocol.GossipHello }

// GossipReq is a TCP transporter gossip request: what the sender knows.
type GossipReq struct {
	// Online maps a node to [seq, cpuSeq, cpu].
	Online map[string][]any `json:"online,omitempty"`
	// Offline maps a node to its seq.
	Offline map[string]int64 `json:"offline,omitempty"`
	Envelope
}

// Type returns protocol.GossipReq.
func (*GossipReq) Type() protocol.PacketType { return protocol.GossipReq }

// GossipRes is a TCP transporter gossip response: what the requester lacks.
type GossipRes struct {
	// Online maps a node to [info, cpuSeq, cpu], [cpuSeq, cpu] or [info].
	Online map[string][]any `json:"online,omitempty"`
	// Offline maps a node to its seq.
	Offline map[string]int64 `json:"offline,omitempty"`
	Envelope
}

// Type returns protocol.GossipRes.
func (*GossipRes) Type() protocol.PacketType { return protocol.GossipRes }
