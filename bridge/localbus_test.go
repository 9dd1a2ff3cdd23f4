package bridge

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/transporters/memory"
)

// brokerEvents is a service recording the broker's own events.
type brokerEvents struct {
	mu   sync.Mutex
	seen []string
	data map[string][]map[string]any
}

func (r *brokerEvents) service() Service {
	r.data = map[string][]map[string]any{}
	return Service{Name: "watch", Events: []Event{{Name: "$**", Handler: func(ctx *Context) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.seen = append(r.seen, ctx.EventName)
		g, _ := ctx.Params.Go()
		m, _ := g.(map[string]any)
		r.data[ctx.EventName] = append(r.data[ctx.EventName], m)
		return nil
	}}}}
}

func (r *brokerEvents) has(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.seen, name)
}

func (r *brokerEvents) last(name string) map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.data[name]
	if len(l) == 0 {
		return nil
	}
	return l[len(l)-1]
}

func TestBrokerEvents(t *testing.T) {
	bus := memory.NewBus()
	rec := &brokerEvents{}
	watcher, err := New(Options{NodeID: "watcher", Transporter: bus.Transporter(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := watcher.AddService(rec.service()); err != nil {
		t.Fatal(err)
	}
	var listened []string
	var mu sync.Mutex
	watcher.OnLocalEvent("$node.*", func(event string, payload any) {
		mu.Lock()
		listened = append(listened, event)
		mu.Unlock()
	})
	// As in JS, $transporter.connected comes before the services start:
	// only listeners see it.
	connected := make(chan any, 1)
	watcher.OnLocalEvent(EventTransporterConnected, func(_ string, p any) { connected <- p })
	if err := watcher.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop(context.Background())
	select {
	case p := <-connected:
		if p.(map[string]any)["wasReconnect"] != false {
			t.Errorf("$transporter.connected payload: %v", p)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no $transporter.connected")
	}
	for _, e := range []string{EventBrokerStarted, EventServicesChanged} {
		eventually(t, func() bool { return rec.has(e) })
	}
	if got := rec.last(EventServicesChanged); got["localService"] != true {
		t.Errorf("$services.changed for the local service: %v", got)
	}

	other, err := New(Options{NodeID: "other", Transporter: bus.Transporter(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.AddService(mathService); err != nil {
		t.Fatal(err)
	}
	if err := other.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return rec.has(EventNodeConnected) })
	got := rec.last(EventNodeConnected)
	if n, ok := got["node"].(Node); !ok || n.ID != "other" || got["reconnected"] != false {
		t.Errorf("$node.connected payload: %#v", got)
	}
	eventually(t, func() bool { return rec.last(EventServicesChanged)["localService"] == false })

	if err := other.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return rec.has(EventNodeDisconnected) })
	got = rec.last(EventNodeDisconnected)
	if n, ok := got["node"].(Node); !ok || n.ID != "other" || n.Available || got["unexpected"] != false {
		t.Errorf("$node.disconnected payload: %#v", got)
	}

	// PING → PONG → $node.pong.
	again := newTestBroker(t, bus, "again")
	eventually(t, func() bool { return len(watcher.Nodes()) == 3 && rec.has(EventNodeConnected) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := watcher.Ping(ctx, again.NodeID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return rec.has(EventNodePong) })
	if got := rec.last(EventNodePong); got["nodeID"] != "again" || got["id"] == "" {
		t.Errorf("$node.pong payload: %v", got)
	}

	mu.Lock()
	if !slices.Contains(listened, EventNodeConnected) || !slices.Contains(listened, EventNodeDisconnected) {
		t.Errorf("OnLocalEvent listener saw %v", listened)
	}
	mu.Unlock()

	// Stopping: the last events reach the services before Stop returns.
	if err := watcher.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !rec.has(EventBrokerStopped) || !rec.has(EventTransporterDisconnected) {
		t.Errorf("events at stop: %v", rec.seen)
	}
}
