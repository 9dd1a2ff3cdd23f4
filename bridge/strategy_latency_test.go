package bridge

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters/memory"
)

// stepClock is a clock whose timers fire only when the test calls
// advance.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*stepTimer
}

type stepTimer struct {
	c       *stepClock
	at      time.Time
	f       func()
	stopped bool
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) AfterFunc(d time.Duration, f func()) stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &stepTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

func (t *stepTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// pending is the number of timers waiting.
func (c *stepClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// advance moves the clock on by d and runs the timers that are due, in
// the caller's goroutine.
func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*stepTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *stepTimer) bool {
		if t.stopped {
			return true
		}
		if !t.at.After(c.now) {
			t.stopped = true
			due = append(due, t)
			return true
		}
		return false
	})
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

func latencyEndpoint(id, host string) *Endpoint {
	return &Endpoint{NodeID: id, node: &Node{ID: id, Hostname: host, Available: true}}
}

func TestLatencySelect(t *testing.T) {
	eps := []*Endpoint{
		latencyEndpoint("a", "h1"), latencyEndpoint("b", "h2"), latencyEndpoint("c", "h3"),
		latencyEndpoint("d", "h4"), latencyEndpoint("e", "h5"), latencyEndpoint("f", "h6"),
	}
	for _, c := range []struct {
		name string
		opts map[string]any
		avg  map[string]float64
		n    int   // the first n endpoints are the candidates
		rand []int // the random picks, in order
		want string
	}{
		{name: "all sampled, fastest wins", n: 3, avg: map[string]float64{"h1": 40, "h2": 20, "h3": 30}, want: "b"},
		{name: "first below lowLatency wins", n: 3, avg: map[string]float64{"h1": 40, "h2": 9, "h3": 1}, want: "b"},
		{name: "unknown hosts are skipped", n: 3, avg: map[string]float64{"h3": 50}, want: "c"},
		{name: "no figure: random", n: 3, rand: []int{2}, want: "c"},
		{name: "sampled at random", n: 6, avg: map[string]float64{"h1": 90, "h2": 80, "h3": 70, "h4": 60, "h5": 50, "h6": 40},
			rand: []int{5, 0, 1, 4, 2}, want: "f"},
		{name: "sampleCount 2", opts: map[string]any{"sampleCount": 2}, n: 6,
			avg: map[string]float64{"h1": 90, "h2": 80, "h3": 70, "h4": 60, "h5": 50, "h6": 40}, rand: []int{1, 0}, want: "b"},
		{name: "lowLatency option", opts: map[string]any{"lowLatency": 100}, n: 3, avg: map[string]float64{"h1": 99, "h2": 1}, want: "a"},
		{name: "lowLatency as a duration", opts: map[string]any{"lowLatency": 50 * time.Millisecond}, n: 3,
			avg: map[string]float64{"h1": 60, "h2": 49}, want: "b"},
		// JS tests the best latency for truth, so a best of 0 gives way
		// to the next figure (reachable with lowLatency 0).
		{name: "JS's zero quirk", opts: map[string]any{"lowLatency": 0}, n: 3, avg: map[string]float64{"h1": 0, "h2": 30, "h3": 20}, want: "c"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newLatency(nil, c.opts)
			s.table = &latencyTable{avg: c.avg}
			s.intn = picks(t, c.rand...)
			if got := s.Select(eps[:c.n], nil); got == nil || got.NodeID != c.want {
				t.Fatalf("picked %v, want %s", got, c.want)
			}
		})
	}
	// Without a transporter there is no table: always random.
	s := newLatency(nil, nil)
	s.intn = picks(t, 1)
	if got := s.Select(eps[:3], nil); got.NodeID != "b" {
		t.Fatalf("no table: picked %s, want the random pick b", got.NodeID)
	}
}

// pingLog records the PING packets a broker sends.
type pingLog struct {
	mu      sync.Mutex
	targets []string // "" for a broadcast
}

func (l *pingLog) middleware() Middleware {
	return Middleware{TransporterSend: func(next SendFunc) SendFunc {
		return func(ctx context.Context, topic protocol.Topic, data []byte, p packets.Payload) error {
			if topic.Type == protocol.Ping {
				l.mu.Lock()
				l.targets = append(l.targets, topic.NodeID)
				l.mu.Unlock()
			}
			return next(ctx, topic, data, p)
		}
	}}
}

func (l *pingLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.targets
	l.targets = nil
	slices.Sort(out)
	return out
}

// latencyBroker makes a started broker on the bus with the given host
// name; client brokers use the Latency strategy on a step clock.
func latencyBroker(t *testing.T, bus *memory.Bus, id, host string, clk *stepClock, pings *pingLog, opts map[string]any, svcs ...Service) *Broker {
	t.Helper()
	o := Options{NodeID: id, Transporter: bus.Transporter(), Logger: quietLogger(),
		HeartbeatInterval: time.Second, HeartbeatTimeout: 3 * time.Second}
	if clk != nil {
		o.Strategy, o.StrategyOptions = "Latency", opts
		o.Middlewares = []Middleware{pings.middleware()}
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	b.local.Hostname = host
	if clk != nil {
		b.clock = clk
	}
	for _, s := range svcs {
		if err := b.AddService(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	return b
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLatencyPings follows the shared table through a broker's life: a
// PING to every node at start, then one PING per host every pingInterval,
// averages per host, and nothing left running after Stop.
func TestLatencyPings(t *testing.T) {
	bus := memory.NewBus()
	clk := &stepClock{now: time.Unix(1_700_000_000, 0)}
	pings := &pingLog{}
	whoami := Service{Name: "svc", Actions: []Action{{Name: "who", Handler: func(*Context) (any, error) { return nil, nil }}}}
	client := latencyBroker(t, bus, "client", "here", clk, pings, map[string]any{"pingInterval": 10, "collectCount": 2})

	// The start: one broadcast PING, and the timer.
	waitFor(t, "the broadcast PING", func() bool { return clk.pending() == 1 })
	if got := pings.take(); !slices.Equal(got, []string{""}) {
		t.Fatalf("PINGs at start: %q, want one broadcast", got)
	}
	table := client.latency.t
	if table == nil {
		t.Fatal("no latency table")
	}

	latencyBroker(t, bus, "s1", "hostA", nil, nil, nil, whoami)
	latencyBroker(t, bus, "s2", "hostA", nil, nil, nil, whoami)
	latencyBroker(t, bus, "s3", "hostB", nil, nil, nil, whoami)
	waitFor(t, "the servers", func() bool {
		table.mu.RLock()
		defer table.mu.RUnlock()
		return len(table.hosts["hostA"].nodesOrNil()) == 2 && len(table.hosts["hostB"].nodesOrNil()) == 1
	})

	// Count the servers' real PONGs, so that none of them lands among the
	// figures made up below.
	var pongs atomic.Int32
	client.OnLocalEvent(EventNodePong, func(_ string, p any) {
		if m, ok := p.(map[string]any); ok && slices.Contains([]any{"s1", "s2", "s3"}, m["nodeID"]) {
			pongs.Add(1)
		}
	})

	// Every pingInterval: one PING per host, to one of its nodes.
	const rounds = 3
	for round := range rounds {
		clk.advance(10 * time.Second)
		got := pings.take()
		if len(got) != 2 || got[0] == got[1] || !slices.Contains(got, "s3") ||
			!(slices.Contains(got, "s1") || slices.Contains(got, "s2")) {
			t.Fatalf("round %d: PINGs to %q, want one to s1 or s2 and one to s3", round, got)
		}
		if clk.pending() != 1 {
			t.Fatalf("round %d: %d timers pending, want the next round's", round, clk.pending())
		}
	}
	waitFor(t, "the PONGs' figures", func() bool {
		_, okA := table.latency("hostA")
		_, okB := table.latency("hostB")
		return okA && okB && pongs.Load() == 2*rounds
	})

	// A node's figure goes to its host; the average is over the last
	// collectCount round trips.
	flush := func() { client.flushBus() }
	for _, ms := range []int64{100, 40, 20} {
		client.publishLocal(EventNodePong, map[string]any{"nodeID": "s2", "elapsedTime": ms})
	}
	flush()
	if got, _ := table.latency("hostA"); got != 30 {
		t.Fatalf("hostA average %v, want 30 (the last two: 40 and 20)", got)
	}
	client.publishLocal(EventNodePong, map[string]any{"nodeID": "nobody", "elapsedTime": int64(1)})
	flush()
	if _, ok := table.latency(""); ok {
		t.Fatal("a PONG from an unknown node made a figure")
	}

	// The host goes when its last node leaves.
	client.nodeDisconnected("s3", false)
	flush()
	if _, ok := table.latency("hostB"); ok {
		t.Fatal("hostB kept its figure after its only node left")
	}
	client.nodeDisconnected("s1", false)
	flush()
	if _, ok := table.latency("hostA"); !ok {
		t.Fatal("hostA lost its figure while s2 is still there")
	}

	// Stop: no timer, no goroutine left.
	if err := client.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if clk.pending() != 0 {
		t.Fatalf("%d timers pending after Stop", clk.pending())
	}
	clk.advance(time.Minute)
	if got := pings.take(); len(got) != 0 {
		t.Fatalf("PINGs after Stop: %q", got)
	}
}

func (h *latencyHost) nodesOrNil() []string {
	if h == nil {
		return nil
	}
	return h.nodes
}

// TestLatencyNoLeak checks that a broker with the Latency strategy leaves
// no goroutine behind.
func TestLatencyNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		bus := memory.NewBus()
		b, err := New(Options{NodeID: "solo", Transporter: bus.Transporter(), Logger: quietLogger(),
			Strategy: "Latency", StrategyOptions: map[string]any{"pingInterval": 0.01}})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Let a few 10 ms rounds of the real timer run.
		time.Sleep(50 * time.Millisecond)
		if err := b.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// TestLatencySharedTable checks that the strategies of a broker share one
// table, whose settings are those of the first.
func TestLatencySharedTable(t *testing.T) {
	bus := memory.NewBus()
	b, err := New(Options{NodeID: "n", Transporter: bus.Transporter(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	s1 := newLatency(b, map[string]any{"collectCount": 3, "pingInterval": 2})
	s2 := newLatency(b, map[string]any{"collectCount": 9, "sampleCount": 1})
	if s1.table == nil || s1.table != s2.table {
		t.Fatal("the strategies do not share one table")
	}
	if s1.table.collectCount != 3 || s1.table.interval != 2*time.Second {
		t.Fatalf("table settings %d, %v; want the first strategy's 3, 2s", s1.table.collectCount, s1.table.interval)
	}
	if s2.sampleCount != 1 || s1.sampleCount != 5 || s1.low != 10 {
		t.Fatalf("per-strategy settings %d, %d, %v", s1.sampleCount, s2.sampleCount, s1.low)
	}
}
