package bridge

import (
	"context"
	"slices"
	"sync"
)

// The broker's own events, broadcast locally with JS's names and payloads.
// Services receive them as any other local event (an Event named
// "$node.connected"); strategies and middlewares can follow them with
// Broker.OnLocalEvent.
const (
	// EventNodeConnected: a node joined or came back. Payload
	// {"node": Node, "reconnected": bool}.
	EventNodeConnected = "$node.connected"
	// EventNodeUpdated: a known node sent a new INFO. Payload {"node": Node}.
	EventNodeUpdated = "$node.updated"
	// EventNodeDisconnected: a node left or went silent. Payload
	// {"node": Node, "unexpected": bool}.
	EventNodeDisconnected = "$node.disconnected"
	// EventNodePong: a PONG arrived. Payload {"nodeID", "elapsedTime",
	// "timeDiff" (milliseconds), "id"}.
	EventNodePong = "$node.pong"
	// EventServicesChanged: local or remote services were added or
	// removed. Payload {"localService": bool}.
	EventServicesChanged = "$services.changed"
	// EventBrokerStarted and EventBrokerStopped have no payload.
	EventBrokerStarted = "$broker.started"
	EventBrokerStopped = "$broker.stopped"
	// EventTransporterConnected: payload {"wasReconnect": bool}.
	EventTransporterConnected = "$transporter.connected"
	// EventTransporterDisconnected: payload {"graceFul": true} (JS's
	// spelling), sent when the broker disconnects on Stop.
	EventTransporterDisconnected = "$transporter.disconnected"
)

// LocalEventFunc receives a "$" event broadcast on this node.
type LocalEventFunc func(event string, payload any)

// localBus carries the broker's "$" events to in-process listeners (JS's
// broker.localBus), in the order they happen, on one goroutine at a time so
// that the packet path never waits for a listener.
type localBus struct {
	mu      sync.Mutex
	subs    []*busSub
	queue   []busEvent
	running bool
	idle    *sync.Cond
}

type busSub struct {
	pattern string
	fn      LocalEventFunc
}

// busEvent is an event for the listeners, or, with deliver set, one of the
// broker's own events to broadcast locally (which queues the listeners'
// turn in its course).
type busEvent struct {
	name    string
	payload any
	deliver func()
}

// OnLocalEvent calls fn for every "$" event broadcast on this node whose
// name matches pattern ("$node.*", "$circuit-breaker.**"), until the
// returned function is called. fn runs on the broker's event goroutine,
// one event at a time in the order they happened; it must not block for
// long.
func (b *Broker) OnLocalEvent(pattern string, fn LocalEventFunc) (cancel func()) {
	s := &busSub{pattern: pattern, fn: fn}
	bus := &b.bus
	bus.mu.Lock()
	bus.subs = append(slices.Clip(bus.subs), s)
	bus.mu.Unlock()
	return func() {
		bus.mu.Lock()
		bus.subs = slices.DeleteFunc(slices.Clone(bus.subs), func(x *busSub) bool { return x == s })
		bus.mu.Unlock()
	}
}

// notify broadcasts one of the broker's own events locally, as JS's
// broadcastLocal: through the middlewares' BroadcastLocal hooks to the
// OnLocalEvent listeners and the local services listening to it. It never
// blocks; callers may hold locks.
func (b *Broker) notify(event string, payload any) {
	b.enqueue(busEvent{name: event, payload: payload, deliver: func() {
		_ = b.broadcastLocalFn(context.Background(), event, payload, EmitOptions{})
	}})
}

// publishLocal hands a "$" event that a service broadcast locally to the
// OnLocalEvent listeners, as JS's broadcastLocal does for its localBus.
func (b *Broker) publishLocal(event string, payload any) {
	b.enqueue(busEvent{name: event, payload: payload})
}

// enqueue queues ev and starts the goroutine that drains the queue when
// none runs.
func (b *Broker) enqueue(ev busEvent) {
	bus := &b.bus
	bus.mu.Lock()
	bus.queue = append(bus.queue, ev)
	if !bus.running {
		bus.running = true
		go b.drainBus()
	}
	bus.mu.Unlock()
}

func (b *Broker) drainBus() {
	bus := &b.bus
	for {
		bus.mu.Lock()
		if len(bus.queue) == 0 {
			bus.running = false
			if bus.idle != nil {
				bus.idle.Broadcast()
			}
			bus.mu.Unlock()
			return
		}
		ev := bus.queue[0]
		bus.queue = bus.queue[1:]
		subs := bus.subs
		bus.mu.Unlock()
		if ev.deliver != nil {
			ev.deliver()
			continue
		}
		for _, s := range subs {
			if matchEvent(ev.name, s.pattern) {
				s.fn(ev.name, ev.payload)
			}
		}
	}
}

// flushBus waits until every event notified so far has been delivered.
func (b *Broker) flushBus() {
	bus := &b.bus
	bus.mu.Lock()
	if bus.idle == nil {
		bus.idle = sync.NewCond(&bus.mu)
	}
	for bus.running {
		bus.idle.Wait()
	}
	bus.mu.Unlock()
}
