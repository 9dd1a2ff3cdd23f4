// Package transporters defines how packets travel between nodes, and keeps
// the registry that finds a transporter by the connection string JS uses
// ("nats://127.0.0.1:4222", "redis://...", "NATS", ...).
//
// A transporter moves opaque bytes on topics: it never sees a payload, so
// every serializer works over every transporter. Each transporter lives in a
// package of its own that registers itself when imported; importing
// transporters/all registers every one.
package transporters

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
)

// Handler receives the bytes of one packet of type t. The handler owns data.
// A transporter calls it from its own goroutines; calls for one topic come
// one at a time, in arrival order.
type Handler func(t protocol.PacketType, data []byte)

// Env is what a transporter learns about the node it serves when it connects.
type Env struct {
	// Prefix is the topic prefix: "MOL" or "MOL-<namespace>".
	Prefix string
	// NodeID and InstanceID identify the node; some brokers name client
	// connections or consumer groups after them.
	NodeID, InstanceID string
	// Handler receives every packet of every subscribed topic.
	Handler Handler
	// Reconnected, when set, is called after the transporter lost its broker
	// and connected again with its subscriptions restored.
	Reconnected func()
	// Logger receives the transporter's log records.
	Logger *slog.Logger

	// Namespace is the node's namespace ("" for none). The TCP
	// transporter's UDP discovery compares it with the peers'.
	Namespace string
	// Serializer is the node's serializer. A transporter that builds
	// packets of its own (the TCP transporter's GOSSIP_HELLO) uses it.
	Serializer serializers.Serializer
	// Nodes is the broker's node registry, for transporters that discover
	// nodes themselves (TCP). Brokers always set it.
	Nodes NodeDirectory
}

// NodeAddress is what a node registry knows of where a node is.
type NodeAddress struct {
	ID        string
	Local     bool
	Available bool
	// Hostname, IPList and Port come from the node's info, or from where
	// the node was discovered when no info has arrived yet.
	Hostname string
	IPList   []string
	Port     int
}

// NodeDirectory is the part of a broker's node registry that a transporter
// doing its own discovery works with: the TCP transporter registers the
// nodes it finds (UDP discovery, static urls, GOSSIP_HELLO), asks where a
// node is before it connects, and reports nodes it lost. It mirrors what
// JS's TCP transporter does to the registry's NodeCatalog; everything else
// (gossip about seq and CPU, node info) is handled by the broker from the
// GOSSIP_REQ and GOSSIP_RES packets the transporter delivers.
type NodeDirectory interface {
	// Node returns what the registry knows of a node's address.
	Node(id string) (NodeAddress, bool)
	// AddOfflineNode registers an unknown node as offline with seq 0 and
	// the address host:port; it does nothing and reports false for a
	// known node.
	AddOfflineNode(id, host string, port int) bool
	// UpdateOfflineNode refreshes the address of a known offline node
	// (port, hostname, and host prepended to its IP list when missing),
	// as UDP discovery does; online and unknown nodes are left alone.
	UpdateOfflineNode(id, host string, port int)
	// Disconnected marks a node offline, as a lost connection does.
	Disconnected(id string, unexpected bool)
	// SetLocalPort records the local node's TCP port in its info and
	// increments its seq, as JS does once its TCP server listens.
	SetLocalPort(port int)
}

// Gossiper is implemented by transporters that carry node discovery and
// liveness themselves (TCP). A broker whose transporter is a Gossiper
// sends no DISCOVER, INFO, HEARTBEAT or DISCONNECT packets, runs no
// heartbeat timers, and instead sends GOSSIP_REQ every GossipPeriod and
// answers the GOSSIP_REQ and GOSSIP_RES packets it receives.
type Gossiper interface {
	GossipPeriod() time.Duration
}

// Transporter connects a node to a message broker. Methods are safe for
// concurrent use once Connect has returned.
type Transporter interface {
	// Connect connects to the broker.
	Connect(ctx context.Context, env Env) error
	// Subscribe starts delivering the packets of topic to the handler. When
	// it returns, packets published afterwards to the topic are delivered.
	Subscribe(ctx context.Context, topic protocol.Topic) error
	// Unsubscribe stops a subscription made with Subscribe.
	Unsubscribe(ctx context.Context, topic protocol.Topic) error
	// Publish sends data to topic.
	Publish(ctx context.Context, topic protocol.Topic, data []byte) error
	// Close disconnects from the broker.
	Close() error
	// BuiltInBalancer reports whether the broker can balance requests and
	// events among subscribers (queue groups), so that disableBalancer can
	// be honoured.
	BuiltInBalancer() bool
}

// ErrNotConnected is returned by Publish when the transporter has no
// connection to its broker.
var ErrNotConnected = errors.New("transporters: not connected")

// Factory makes a transporter from a connection string and the JS
// transporter options object (which may be nil).
type Factory func(url string, options map[string]any) (Transporter, error)

var registry = struct {
	sync.RWMutex
	m map[string]Factory
}{m: map[string]Factory{}}

// Register makes a transporter available under a URL scheme ("nats") or a
// JS transporter name ("NATS"), matched without regard to case. It is meant
// to be called from an init function; registering a name twice panics.
func Register(name string, f Factory) {
	key := strings.ToLower(name)
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[key]; dup {
		panic("transporters: Register called twice for " + name)
	}
	registry.m[key] = f
}

// New returns a transporter for a JS connection string
// ("nats://127.0.0.1:4222") or transporter name ("NATS"), with the JS
// transporter options applied.
func New(spec string, options map[string]any) (Transporter, error) {
	key := strings.ToLower(spec)
	if i := strings.Index(key, "://"); i >= 0 {
		key = key[:i]
	}
	registry.RLock()
	f, ok := registry.m[key]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("transporters: no transporter for %q (registered: %s; import its package or transporters/all)",
			spec, strings.Join(Names(), ", "))
	}
	if !strings.Contains(spec, "://") {
		spec = "" // a bare name: the transporter's default URL
	}
	return f(spec, options)
}

// Names lists the registered schemes and names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for k := range registry.m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
