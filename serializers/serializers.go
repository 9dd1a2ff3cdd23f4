// Package serializers defines how packet payloads become bytes and back, and
// keeps the registry that finds a serializer by the name JS uses for it
// ("JSON", "MsgPack", "Avro", ...).
//
// Each serializer lives in a package of its own that registers itself when
// imported, as image formats and database/sql drivers do. Importing
// serializers/all registers every one.
package serializers

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

// Serializer encodes and decodes packet payloads. It knows nothing of
// topics, connections or services. Implementations are safe for concurrent
// use.
type Serializer interface {
	// Name is the name JS knows the serializer by, e.g. "JSON".
	Name() string
	// Marshal encodes a payload, its envelope (ver, sender) included.
	Marshal(p packets.Payload) ([]byte, error)
	// Unmarshal decodes the payload of a packet of type t. It may keep
	// references into data (params, data, the strings of the payload), so
	// the caller hands data over and never changes it afterwards.
	Unmarshal(t protocol.PacketType, data []byte) (packets.Payload, error)
}

// Factory makes a serializer.
type Factory func() Serializer

var registry = struct {
	sync.RWMutex
	m map[string]Factory
}{m: map[string]Factory{}}

// Register makes a serializer available under name, matched without regard
// to case. It is meant to be called from an init function; registering a
// name twice panics.
func Register(name string, f Factory) {
	key := strings.ToLower(name)
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[key]; dup {
		panic("serializers: Register called twice for " + name)
	}
	registry.m[key] = f
}

// New returns a new serializer registered under name ("JSON", "msgpack").
func New(name string) (Serializer, error) {
	registry.RLock()
	f, ok := registry.m[strings.ToLower(name)]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("serializers: unknown serializer %q (registered: %s; import its package or serializers/all)",
			name, strings.Join(Names(), ", "))
	}
	return f(), nil
}

// Names lists the registered names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for _, f := range registry.m {
		names = append(names, f().Name())
	}
	slices.Sort(names)
	return names
}
