// Package memory is an in-process transporter for unit tests of the broker
// logic. Nodes on the same Bus see each other; nothing leaves the process.
// It is never evidence of interoperability with JS nodes.
package memory

import (
	"context"
	"sync"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

// Bus connects the memory transporters made from it.
type Bus struct {
	mu   sync.Mutex
	subs map[string][]*subscription // by topic name
	rr   map[string]int             // round-robin position per queue
}

// NewBus returns an empty bus.
func NewBus() *Bus {
	return &Bus{subs: map[string][]*subscription{}, rr: map[string]int{}}
}

type subscription struct {
	owner *Transporter
	topic protocol.Topic
	queue string
	ch    chan []byte
	done  chan struct{}
}

// Transporter returns a new transporter on the bus.
func (b *Bus) Transporter() *Transporter { return &Transporter{bus: b} }

// Transporter is a node's connection to a Bus.
type Transporter struct {
	bus *Bus

	mu        sync.Mutex
	env       transporters.Env
	connected bool
	mine      map[protocol.Topic]*subscription
}

var _ transporters.Transporter = (*Transporter)(nil)

// BuiltInBalancer reports true: balanced topics pick one subscriber per
// queue, round-robin.
func (*Transporter) BuiltInBalancer() bool { return true }

// Connect attaches the transporter to its bus.
func (t *Transporter) Connect(_ context.Context, env transporters.Env) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.env, t.connected = env, true
	t.mine = map[protocol.Topic]*subscription{}
	return nil
}

// Subscribe delivers the topic's packets to the handler, in order.
func (t *Transporter) Subscribe(_ context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	if !t.connected {
		t.mu.Unlock()
		return transporters.ErrNotConnected
	}
	if _, dup := t.mine[topic]; dup {
		t.mu.Unlock()
		return nil
	}
	s := &subscription{owner: t, topic: topic, queue: topic.QueueGroup(),
		ch: make(chan []byte, 1024), done: make(chan struct{})}
	t.mine[topic] = s
	handler := t.env.Handler
	name := topic.Name(t.env.Prefix)
	t.mu.Unlock()

	go func() {
		for {
			select {
			case data := <-s.ch:
				handler(topic.Type, data)
			case <-s.done:
				return
			}
		}
	}()
	t.bus.mu.Lock()
	t.bus.subs[name] = append(t.bus.subs[name], s)
	t.bus.mu.Unlock()
	return nil
}

// Unsubscribe ends a subscription.
func (t *Transporter) Unsubscribe(_ context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	s := t.mine[topic]
	delete(t.mine, topic)
	prefix := t.env.Prefix
	t.mu.Unlock()
	if s != nil {
		t.bus.remove(topic.Name(prefix), s)
	}
	return nil
}

func (b *Bus) remove(name string, s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	list := b.subs[name]
	for i, x := range list {
		if x == s {
			b.subs[name] = append(list[:i:i], list[i+1:]...)
			close(s.done)
			return
		}
	}
}

// Publish delivers data to every subscriber of the topic, or to one
// subscriber per queue group on a balanced topic.
func (t *Transporter) Publish(_ context.Context, topic protocol.Topic, data []byte) error {
	t.mu.Lock()
	connected, prefix := t.connected, t.env.Prefix
	t.mu.Unlock()
	if !connected {
		return transporters.ErrNotConnected
	}
	name := topic.Name(prefix)
	b := t.bus
	b.mu.Lock()
	var targets []*subscription
	queues := map[string][]*subscription{}
	for _, s := range b.matching(name, topic) {
		if s.queue == "" {
			targets = append(targets, s)
		} else {
			queues[s.queue] = append(queues[s.queue], s)
		}
	}
	for q, members := range queues {
		i := b.rr[name+"|"+q] % len(members)
		b.rr[name+"|"+q]++
		targets = append(targets, members[i])
	}
	b.mu.Unlock()
	for _, s := range targets {
		select {
		case s.ch <- append([]byte(nil), data...):
		case <-s.done:
		}
	}
	return nil
}

// matching returns the subscriptions for a published topic name. Balanced
// event subscriptions may use patterns ending in "**", as NATS's ">" does.
func (b *Bus) matching(name string, topic protocol.Topic) []*subscription {
	out := append([]*subscription(nil), b.subs[name]...)
	if topic.Kind != protocol.BalancedEvent {
		return out
	}
	for key, list := range b.subs {
		if key == name || len(list) == 0 || list[0].topic.Kind != protocol.BalancedEvent {
			continue
		}
		if n := len(key); n >= 2 && key[n-2:] == "**" && len(name) >= n-2 && name[:n-2] == key[:n-2] {
			out = append(out, list...)
		}
	}
	return out
}

// Close detaches the transporter and ends its subscriptions.
func (t *Transporter) Close() error {
	t.mu.Lock()
	mine, prefix := t.mine, t.env.Prefix
	t.mine, t.connected = nil, false
	t.mu.Unlock()
	for topic, s := range mine {
		t.bus.remove(topic.Name(prefix), s)
	}
	return nil
}
