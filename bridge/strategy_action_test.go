package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/transporters/memory"
)

// TestActionStrategy checks an action's own strategy: published in INFO
// and used by a remote caller whose broker balances round-robin, as JS's
// action catalog does with the first definition it sees.
func TestActionStrategy(t *testing.T) {
	bus := memory.NewBus()
	shardKey := func(ctx *Context) any { return ctx.Meta()["never"] } // not published
	svc := func(id string) Service {
		return Service{Name: "svc", Actions: []Action{
			{Name: "who", Strategy: "Shard", StrategyOptions: map[string]any{"shardKey": "k", "vnodes": 3, "fn": shardKey},
				Handler: func(*Context) (any, error) { return id, nil }},
			{Name: "plain", Handler: func(*Context) (any, error) { return id, nil }},
		}}
	}
	ids := []string{"s1", "s2", "s3"}
	for _, id := range ids {
		newTestBroker(t, bus, id, svc(id))
	}
	client := newTestBroker(t, bus, "client")
	waitFor(t, "the servers", func() bool {
		l := client.reg.findAction("svc.who")
		if l == nil {
			return false
		}
		client.reg.mu.RLock()
		defer client.reg.mu.RUnlock()
		return len(l.endpoints) == 3
	})

	l := client.reg.findAction("svc.who")
	ref := NewShard(nil, map[string]any{"shardKey": "k", "vnodes": 3})
	if _, ok := l.strategy.(*Shard); !ok {
		t.Fatalf("svc.who balances with %T, want the Shard its definition asks for", l.strategy)
	}
	if _, ok := client.reg.findAction("svc.plain").strategy.(*RoundRobin); !ok {
		t.Fatalf("svc.plain balances with %T, want the broker's RoundRobin", client.reg.findAction("svc.plain").strategy)
	}
	eps := testEndpoints(ids...)
	for i := range 30 {
		key := fmt.Sprint("user-", i)
		want := ref.Select(eps, &Context{meta: Meta{}, Params: packets.ValueOf(map[string]any{"k": key})}).NodeID
		for range 2 {
			got, err := Call[string](context.Background(), client, "svc.who", map[string]any{"k": key})
			if err != nil || got != want {
				t.Fatalf("key %s went to %q (%v), want %s", key, got, err, want)
			}
		}
	}

	// The descriptor: strategy and its JSON-able options.
	found := false
	for _, n := range client.Nodes() {
		if n.ID != "s1" {
			continue
		}
		for _, s := range n.Services {
			if s.Name != "svc" {
				continue
			}
			desc, _ := s.Actions["svc.who"].Map()
			opts, _ := desc["strategyOptions"].(map[string]any)
			if desc["strategy"] != "Shard" || opts["shardKey"] != "k" || opts["vnodes"] != 3.0 {
				t.Fatalf("descriptor %v", desc)
			}
			if _, ok := opts["fn"]; ok {
				t.Fatal("a func option was published")
			}
			found = true
		}
	}
	if !found {
		t.Fatal("the client does not know s1's svc")
	}
}

func TestEndpointStrategy(t *testing.T) {
	var logs strings.Builder
	b, err := New(Options{NodeID: "n", StrategyOptions: map[string]any{"shardKey": "broker"},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rr, _ := LookupStrategy("RoundRobin")
	remote := func(info map[string]any) Strategy {
		return b.endpointStrategy(rr, &Endpoint{NodeID: "x", info: packets.ValueOf(info)})
	}
	if s, ok := remote(map[string]any{"strategy": "shard"}).(*Shard); !ok || s.key == nil {
		t.Fatalf("remote strategy %T; want a Shard with the broker's shardKey", s)
	}
	if s, ok := remote(map[string]any{"strategy": map[string]any{"type": "CpuUsage"}, "strategyOptions": map[string]any{"sampleCount": 7}}).(*CpuUsage); !ok || s.sampleCount != 7 {
		t.Fatalf("remote {type} strategy %#v", s)
	}
	if _, ok := remote(map[string]any{"strategy": "Fastest"}).(*RoundRobin); !ok {
		t.Fatal("an unknown remote strategy does not fall back to the broker's")
	}
	if !strings.Contains(logs.String(), "Fastest") {
		t.Fatalf("no warning about the unknown strategy: %s", logs.String())
	}
	if _, ok := remote(nil).(*RoundRobin); !ok {
		t.Fatal("no strategy: not the broker's")
	}

	// A local event's own strategy.
	if err := b.AddService(Service{Name: "ev", Events: []Event{{Name: "e.*", Strategy: "CpuUsage",
		Handler: func(*Context) error { return nil }}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer b.Stop(context.Background())
	b.reg.mu.RLock()
	var evStrategy Strategy
	for _, l := range b.reg.events {
		if l.name == "e.*" {
			evStrategy = l.strategy
		}
	}
	b.reg.mu.RUnlock()
	if _, ok := evStrategy.(*CpuUsage); !ok {
		t.Fatalf("event e.* balances with %T, want its own CpuUsage", evStrategy)
	}

	err = b.AddService(Service{Name: "bad", Actions: []Action{{Name: "a", Strategy: "Fastest",
		Handler: func(*Context) (any, error) { return nil, nil }}}})
	if err == nil || !strings.Contains(err.Error(), "Fastest") {
		t.Fatalf("AddService with an unknown strategy: %v", err)
	}
}

// TestPreferLocalBeforeStrategy checks that, as in JS, a node that serves
// an action calls its own endpoint whatever the strategy, unless
// NoPreferLocal.
func TestPreferLocalBeforeStrategy(t *testing.T) {
	for _, noPrefer := range []bool{false, true} {
		bus := memory.NewBus()
		who := func(id string) Service {
			return Service{Name: "svc", Actions: []Action{{Name: "who", Strategy: "Shard",
				StrategyOptions: map[string]any{"shardKey": "k"},
				Handler:         func(*Context) (any, error) { return id, nil }}}}
		}
		for _, id := range []string{"s1", "s2", "s3"} {
			newTestBroker(t, bus, id, who(id))
		}
		b, err := New(Options{NodeID: "me", Transporter: bus.Transporter(), Logger: quietLogger(), NoPreferLocal: noPrefer})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.AddService(who("me")); err != nil {
			t.Fatal(err)
		}
		if err := b.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Stop(context.Background()) })
		waitFor(t, "the servers", func() bool {
			b.reg.mu.RLock()
			defer b.reg.mu.RUnlock()
			return len(b.reg.actions["svc.who"].endpoints) == 4
		})
		seen := map[string]bool{}
		for i := range 40 {
			got, err := Call[string](context.Background(), b, "svc.who", map[string]any{"k": i})
			if err != nil {
				t.Fatal(err)
			}
			seen[got] = true
		}
		if !noPrefer && (len(seen) != 1 || !seen["me"]) {
			t.Fatalf("preferLocal: calls went to %v, want only the local node", seen)
		}
		if noPrefer && len(seen) < 3 {
			t.Fatalf("NoPreferLocal: 40 keys went only to %v", seen)
		}
	}
}

// findAction returns the endpoint list of an action, or nil.
func (r *registry) findAction(name string) *endpointList {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.actions[name]
}

// Options.StrategyFactory takes a strategy value in place of a name.
func TestStrategyFactoryOption(t *testing.T) {
	bus := memory.NewBus()
	picked := 0
	first := StrategyFactory(func(*Broker, map[string]any) Strategy { return pickFirst{&picked} })
	newTestBroker(t, bus, "s1", mathService)
	newTestBroker(t, bus, "s2", mathService)
	client, err := New(Options{NodeID: "c", Transporter: bus.Transporter(), Logger: quietLogger(), StrategyFactory: first})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	waitEndpoints(t, client, "math.add", 2)
	for range 3 {
		if _, err := client.Call(context.Background(), "math.add", map[string]any{"a": 1, "b": 2}); err != nil {
			t.Fatal(err)
		}
	}
	if picked != 3 {
		t.Errorf("the strategy picked %d times, want 3", picked)
	}
}

type pickFirst struct{ n *int }

func (p pickFirst) Select(c []*Endpoint, _ *Context) *Endpoint { *p.n++; return c[0] }
