package rabbitlive

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
)

// Transport is the transporter under test, configured alike on the Go and
// the JS nodes.
type Transport struct {
	// URL is the connection string both sides get.
	URL string
	// Options is the JS transporter options object (TRANSPORTER_OPTIONS on
	// the JS side, TransporterOptions on the Go side); nil for none.
	Options map[string]any
}

// Cluster is one test's namespace with its Go and JS nodes.
type Cluster struct {
	t          *testing.T
	tr         Transport
	ns         string
	serializer string
	balanced   bool
}

// NewCluster checks the environment (Node.js and moleculer, RabbitMQ) and
// makes a fresh namespace whose queues are deleted when the test ends.
// serializer is the moleculer serializer name; balanced runs every node
// with disableBalancer. The broker lock is held in shared mode unless the
// test already holds it exclusively (exclusive true).
func NewCluster(t *testing.T, tr Transport, serializer string, balanced, exclusive bool) *Cluster {
	t.Helper()
	if _, err := jsnode.Script(); err != nil {
		t.Fatalf("live interop tests need Node.js and compat/node_modules (scripts/deps.sh): %v", err)
	}
	if exclusive {
		RequireExclusive(t)
	} else {
		Require(t)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	c := &Cluster{t: t, tr: tr, ns: "rl" + hex.EncodeToString(b), serializer: serializer, balanced: balanced}
	CleanupPrefix(t, "MOL-"+c.ns) // registered before the nodes: runs after they stop
	return c
}

// ID returns a node ID unique to the cluster.
func (c *Cluster) ID(role string) string { return role + "-" + c.ns }

// LogBuffer collects a Go node's log.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Event is an event a Go node received.
type Event struct {
	Name, Sender string
	Data         map[string]any
}

// GoNode is a Go bridge node of the cluster with the "gosvc" service:
// action echo (returns {params, nodeID}) and the events amqpt.hello and
// amqpt.balanced, recorded in Events. In balanced clusters it also serves
// shared.whoami and listens to conformance.** in the group jspeer-audit,
// so that it declares the same balanced queues as the JS nodes.
type GoNode struct {
	*bridge.Broker
	Logs *LogBuffer

	mu     sync.Mutex
	events []Event
}

// Events returns the events received so far.
func (g *GoNode) Events() []Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.events)
}

func (g *GoNode) record(ctx *bridge.Context) error {
	var data map[string]any
	_ = ctx.Params.Decode(&data)
	g.mu.Lock()
	g.events = append(g.events, Event{Name: ctx.EventName, Sender: ctx.NodeID, Data: data})
	g.mu.Unlock()
	return nil
}

// GoNode starts a Go node; it is stopped when the test ends.
func (c *Cluster) GoNode(role string) *GoNode {
	t := c.t
	t.Helper()
	g := &GoNode{Logs: &LogBuffer{}}
	id := c.ID(role)
	b, err := bridge.New(bridge.Options{
		NodeID:             id,
		Namespace:          c.ns,
		TransporterURL:     c.tr.URL,
		TransporterOptions: c.tr.Options,
		SerializerName:     c.serializer,
		DisableBalancer:    c.balanced,
		HeartbeatInterval:  2 * time.Second,
		HeartbeatTimeout:   60 * time.Second,
		Logger:             slog.New(slog.NewTextHandler(g.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("bridge.New(%s): %v", id, err)
	}
	g.Broker = b
	svc := bridge.Service{
		Name: "gosvc",
		Actions: []bridge.Action{{Name: "echo", Handler: func(ctx *bridge.Context) (any, error) {
			var p map[string]any
			_ = ctx.Params.Decode(&p)
			return map[string]any{"params": p, "nodeID": id}, nil
		}}},
		Events: []bridge.Event{
			{Name: "amqpt.hello", Handler: g.record},
			{Name: "amqpt.balanced", Handler: g.record},
		},
	}
	if err := b.AddService(svc); err != nil {
		t.Fatal(err)
	}
	if c.balanced {
		shared := bridge.Service{
			Name: "shared",
			Actions: []bridge.Action{{Name: "whoami", Handler: func(*bridge.Context) (any, error) {
				return map[string]any{"nodeID": id}, nil
			}}},
			Events: []bridge.Event{{Name: "conformance.**", Group: "jspeer-audit", Handler: func(*bridge.Context) error { return nil }}},
		}
		if err := b.AddService(shared); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("%s: Start: %v\n%s", id, err, g.Logs)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = b.Stop(sctx)
		if t.Failed() {
			t.Logf("--- Go node %s log ---\n%s", id, g.Logs)
		}
	})
	return g
}

// JSNode starts compat/jsnode.js (services jspeer, jspeer-audit, shared).
func (c *Cluster) JSNode(role string) *jsnode.Process {
	c.t.Helper()
	env := map[string]string{"SERIALIZER": c.serializer}
	if c.tr.Options != nil {
		b, err := json.Marshal(c.tr.Options)
		if err != nil {
			c.t.Fatal(err)
		}
		env["TRANSPORTER_OPTIONS"] = string(b)
	}
	return jsnode.Start(c.t, jsnode.Options{
		NodeID:            c.ID(role),
		Namespace:         c.ns,
		Transporter:       c.tr.URL,
		DisableBalancer:   c.balanced,
		HeartbeatInterval: 2,
		HeartbeatTimeout:  60,
		LogLevel:          "info",
		Env:               env,
	})
}

// Connect waits until the Go node sees the JS node's services and the JS
// node sees the Go node's.
func (c *Cluster) Connect(g *GoNode) {
	t := c.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := g.WaitForServices(ctx, "jspeer"); err != nil {
		t.Fatalf("the Go node does not see jspeer: %v", err)
	}
	// With disableBalancer a JS node creates its REQB queues only when it
	// broadcasts its INFO, up to a second after it answered a DISCOVER with
	// a targeted INFO (discoverers/local.js:60, the INFO broadcast is
	// debounced): a request published before is dropped by the broker
	// (no queue). Retry with short timeouts.
	for {
		_, err := g.Call(ctx, "jspeer.waitFor", map[string]any{"services": []string{"gosvc"}, "timeout": 1500},
			bridge.WithTimeout(2*time.Second))
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("the JS node does not see gosvc: %v", err)
		}
	}
}

func decode(t *testing.T, v bridge.Value) map[string]any {
	t.Helper()
	var m map[string]any
	if err := v.Decode(&m); err != nil {
		t.Fatalf("decode %v: %v", v, err)
	}
	return m
}

// GoCallsJS calls jspeer.echo from Go and checks that the JS node answered.
func (c *Cluster) GoCallsJS(g *GoNode, js *jsnode.Process) {
	t := c.t
	t.Helper()
	v, err := g.Call(context.Background(), "jspeer.echo", map[string]any{"hello": "amqp", "n": 7}, bridge.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("Go → JS call: %v", err)
	}
	res := decode(t, v)
	params, _ := res["params"].(map[string]any)
	if res["nodeID"] != js.NodeID || params["hello"] != "amqp" || fmt.Sprint(params["n"]) != "7" {
		t.Errorf("Go → JS call: %v", res)
	}
}

// JSCallsGo makes the JS node call gosvc.echo (through jspeer.capture) and
// checks that wantNode (when not empty) answered.
func (c *Cluster) JSCallsGo(g *GoNode, wantNode string) string {
	t := c.t
	t.Helper()
	v, err := g.Call(context.Background(), "jspeer.capture", map[string]any{
		"action": "gosvc.echo", "params": map[string]any{"x": 42}, "opts": map[string]any{"timeout": 8000},
	}, bridge.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("JS → Go call: %v", err)
	}
	res := decode(t, v)
	if res["ok"] != true {
		t.Fatalf("JS → Go call failed on the JS side: %v", res)
	}
	result, _ := res["result"].(map[string]any)
	params, _ := result["params"].(map[string]any)
	node, _ := result["nodeID"].(string)
	if fmt.Sprint(params["x"]) != "42" || (wantNode != "" && node != wantNode) {
		t.Errorf("JS → Go call: %v", res)
	}
	return node
}

// received returns the events the JS node recorded.
func (c *Cluster) received(g *GoNode) []map[string]any {
	c.t.Helper()
	v, err := g.Call(context.Background(), "jspeer.received", nil, bridge.WithTimeout(10*time.Second))
	if err != nil {
		c.t.Fatalf("jspeer.received: %v", err)
	}
	var list []map[string]any
	if err := v.Decode(&list); err != nil {
		c.t.Fatal(err)
	}
	return list
}

// WaitJSEvents polls the JS node until ok accepts its received events.
func (c *Cluster) WaitJSEvents(g *GoNode, what string, ok func([]map[string]any) bool) []map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		list := c.received(g)
		if ok(list) {
			return list
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: the JS node received %v", what, list)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitGoEvents polls Go nodes until ok accepts the events they received
// together.
func (c *Cluster) WaitGoEvents(what string, ok func([]Event) bool, nodes ...*GoNode) []Event {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var all []Event
		for _, g := range nodes {
			all = append(all, g.Events()...)
		}
		if ok(all) {
			return all
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: the Go nodes received %v", what, all)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// JSEmits makes the JS node emit an event (with groups when not nil).
func (c *Cluster) JSEmits(g *GoNode, event string, data map[string]any, groups []string) {
	c.t.Helper()
	p := map[string]any{"event": event, "data": data}
	if groups != nil {
		p["groups"] = groups
	}
	if _, err := g.Call(context.Background(), "jspeer.emit", p, bridge.WithTimeout(10*time.Second)); err != nil {
		c.t.Fatalf("jspeer.emit %s: %v", event, err)
	}
}

// refusals are what nodes log when the broker refuses a declaration.
var refusals = []string{"PRECONDITION_FAILED", "Unable to subscribe", "dropped a subscription", "channel error"}

// CheckNoDeclarationErrors fails when a node's log shows a refused
// declaration (PRECONDITION_FAILED) or a lost connection or channel.
func (c *Cluster) CheckNoDeclarationErrors(gs []*GoNode, jss []*jsnode.Process) {
	c.t.Helper()
	c.checkLogs(gs, jss, append([]string{"channel is closed", "connection is lost"}, refusals...))
}

func (c *Cluster) checkLogs(gs []*GoNode, jss []*jsnode.Process, bad []string) {
	c.t.Helper()
	for _, g := range gs {
		for _, s := range bad {
			if strings.Contains(g.Logs.String(), s) {
				c.t.Errorf("Go node %s logged %q", g.NodeID(), s)
			}
		}
	}
	for _, js := range jss {
		for _, s := range bad {
			if strings.Contains(js.Stderr(), s) {
				c.t.Errorf("JS node %s logged %q:\n%s", js.NodeID, s, js.Stderr())
			}
		}
	}
}

// RunBasic checks calls both ways and events both ways between one Go and
// one JS node (built-in balancer).
func RunBasic(t *testing.T, tr Transport, serializer string) {
	c := NewCluster(t, tr, serializer, false, false)
	js := c.JSNode("js")
	g := c.GoNode("go")
	c.Connect(g)

	start := time.Now()
	c.GoCallsJS(g, js)
	c.JSCallsGo(g, g.NodeID())
	t.Logf("calls both ways: %v", time.Since(start))

	// JS → Go event.
	c.JSEmits(g, "amqpt.hello", map[string]any{"from": "js"}, nil)
	c.WaitGoEvents("JS → Go emit", func(evs []Event) bool {
		return len(evs) == 1 && evs[0].Name == "amqpt.hello" && evs[0].Data["from"] == "js" && evs[0].Sender == js.NodeID
	}, g)
	// Go → JS event: both JS groups (jspeer, jspeer-audit) get it.
	if err := g.Emit(context.Background(), "conformance.fromgo", map[string]any{"from": "go"}); err != nil {
		t.Fatal(err)
	}
	c.WaitJSEvents(g, "Go → JS emit", func(list []map[string]any) bool {
		groups := map[string]bool{}
		for _, e := range list {
			if e["event"] == "conformance.fromgo" && e["sender"] == g.NodeID() {
				groups[fmt.Sprint(e["group"])] = true
			}
		}
		return len(list) == 2 && groups["jspeer"] && groups["jspeer-audit"]
	})
	c.CheckNoDeclarationErrors([]*GoNode{g}, []*jsnode.Process{js})
}

// RunBalanced runs every node with disableBalancer: calls both ways go
// through the REQB queues and events with groups through the EVENTB queues,
// shared by Go and JS nodes that declare them alike. jsFirst chooses which
// side declares the shared queues first.
func RunBalanced(t *testing.T, tr Transport, serializer string, jsFirst bool) {
	c := NewCluster(t, tr, serializer, true, false)
	var js *jsnode.Process
	var g1 *GoNode
	if jsFirst {
		js = c.JSNode("js")
		g1 = c.GoNode("go1")
	} else {
		g1 = c.GoNode("go1")
		js = c.JSNode("js")
	}
	g2 := c.GoNode("go2")
	c.Connect(g1)
	c.Connect(g2)

	c.GoCallsJS(g1, js)
	served := map[string]int{}
	for range 6 {
		served[c.JSCallsGo(g1, "")]++
	}
	if served[g1.NodeID()]+served[g2.NodeID()] != 6 {
		t.Errorf("JS → Go balanced calls answered by %v", served)
	}
	t.Logf("JS → Go balanced calls answered by %v", served)

	// JS → Go: events with a group go to one member of the group.
	for i := range 6 {
		c.JSEmits(g1, "amqpt.balanced", map[string]any{"i": i}, []string{"gosvc"})
	}
	c.WaitGoEvents("JS → Go balanced events", func(evs []Event) bool { return len(evs) >= 6 }, g1, g2)
	time.Sleep(300 * time.Millisecond) // duplicates, if any, arrive
	evs := append(g1.Events(), g2.Events()...)
	seen := map[string]int{}
	for _, e := range evs {
		seen[fmt.Sprint(e.Data["i"])]++
	}
	if len(evs) != 6 || len(seen) != 6 {
		t.Errorf("JS → Go balanced events: each of 6 once, got %v", evs)
	}
	t.Logf("balanced events: %d on %s, %d on %s", len(g1.Events()), g1.NodeID(), len(g2.Events()), g2.NodeID())

	// Go → JS: an event with a group lands in that group's queue only. JS
	// names an EVENTB queue after the listener's pattern
	// ("conformance.**") but publishes to the concrete event name, so with
	// AMQP only an event named like the pattern reaches a JS pattern
	// listener (moleculer amqp.js:456, base.js:205).
	if err := g1.Emit(context.Background(), "conformance.**", map[string]any{"from": "go"}, bridge.WithGroups("jspeer")); err != nil {
		t.Fatal(err)
	}
	c.WaitJSEvents(g1, "Go → JS balanced event", func(list []map[string]any) bool { return len(list) >= 1 })
	time.Sleep(300 * time.Millisecond)
	list := c.received(g1)
	if len(list) != 1 || list[0]["group"] != "jspeer" || list[0]["sender"] != g1.NodeID() {
		t.Errorf("Go → JS balanced event to group jspeer: %v", list)
	}
	c.CheckNoDeclarationErrors([]*GoNode{g1, g2}, []*jsnode.Process{js})
}

// callRecord is one call made while the broker restarts.
type callRecord struct {
	start, end time.Time
	ok         bool
	err        string
}

// caller makes calls one after the other until stop is closed.
type caller struct {
	mu   sync.Mutex
	recs []callRecord
}

func (c *caller) run(stop <-chan struct{}, done *sync.WaitGroup, call func() (bool, string)) {
	done.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			r := callRecord{start: time.Now()}
			r.ok, r.err = call()
			r.end = time.Now()
			c.mu.Lock()
			c.recs = append(c.recs, r)
			c.mu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// firstSuccessAfter returns the end of the first successful call started
// after t.
func (c *caller) firstSuccessAfter(t time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		if r.ok && r.start.After(t) {
			return r.end, true
		}
	}
	return time.Time{}, false
}

func (c *caller) records() []callRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.recs)
}

// RunRestart restarts RabbitMQ (rabbitmqctl stop_app / start_app) while a
// Go and a JS node call each other, and checks that calls succeed again in
// both directions within 10 s after the broker is back and that every call
// returns within its timeout.
func RunRestart(t *testing.T, tr Transport) {
	c := NewCluster(t, tr, "JSON", false, true)
	js := c.JSNode("js")
	g := c.GoNode("go")
	c.Connect(g)

	const (
		goTimeout = 2 * time.Second // Go → JS calls
		jsTimeout = 2 * time.Second // JS → Go calls, timed by JS
		outer     = 4 * time.Second // the Go call of jspeer.capture
		slack     = time.Second
		recovery  = 10 * time.Second
	)
	var goToJS, jsToGo caller
	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopped := false
	stopCallers := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	defer stopCallers()
	goToJS.run(stop, &wg, func() (bool, string) {
		_, err := g.Call(context.Background(), "jspeer.echo", map[string]any{"a": 1}, bridge.WithTimeout(goTimeout))
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	jsToGo.run(stop, &wg, func() (bool, string) {
		v, err := g.Call(context.Background(), "jspeer.capture", map[string]any{
			"action": "gosvc.echo", "params": map[string]any{"b": 2}, "opts": map[string]any{"timeout": jsTimeout.Milliseconds()},
		}, bridge.WithTimeout(outer))
		if err != nil {
			return false, "capture: " + err.Error()
		}
		var res map[string]any
		if err := v.Decode(&res); err != nil || res["ok"] != true {
			return false, fmt.Sprint(res["error"])
		}
		return true, ""
	})

	time.Sleep(time.Second)
	if _, ok := goToJS.firstSuccessAfter(time.Time{}); !ok {
		t.Fatal("no Go → JS call succeeded before the restart")
	}
	if _, ok := jsToGo.firstSuccessAfter(time.Time{}); !ok {
		t.Fatal("no JS → Go call succeeded before the restart")
	}
	stopAt := time.Now()
	StopApp(t)
	stoppedAt := time.Now()
	time.Sleep(time.Second)
	startAt := time.Now()
	StartApp(t)
	readyAt := time.Now()
	t.Logf("stop_app took %v, broker down for %v, start_app until ready took %v",
		stoppedAt.Sub(stopAt).Round(time.Millisecond), readyAt.Sub(stoppedAt).Round(time.Millisecond), readyAt.Sub(startAt).Round(time.Millisecond))

	deadline := readyAt.Add(recovery + outer + slack)
	var goBack, jsBack time.Time
	for time.Now().Before(deadline) {
		var ok1, ok2 bool
		goBack, ok1 = goToJS.firstSuccessAfter(readyAt)
		jsBack, ok2 = jsToGo.firstSuccessAfter(readyAt)
		if ok1 && ok2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	stopCallers()

	if goBack.IsZero() {
		t.Errorf("no Go → JS call succeeded after the broker came back")
	} else {
		t.Logf("Go → JS calls succeed again %v after the broker is back", goBack.Sub(readyAt).Round(time.Millisecond))
		if goBack.Sub(readyAt) > recovery {
			t.Errorf("Go → JS calls took %v to recover, want ≤ %v", goBack.Sub(readyAt), recovery)
		}
	}
	if jsBack.IsZero() {
		t.Errorf("no JS → Go call succeeded after the broker came back")
	} else {
		t.Logf("JS → Go calls succeed again %v after the broker is back", jsBack.Sub(readyAt).Round(time.Millisecond))
		if jsBack.Sub(readyAt) > recovery {
			t.Errorf("JS → Go calls took %v to recover, want ≤ %v", jsBack.Sub(readyAt), recovery)
		}
	}
	for _, x := range []struct {
		name  string
		c     *caller
		limit time.Duration
	}{{"Go → JS", &goToJS, goTimeout + slack}, {"JS → Go", &jsToGo, outer + slack}} {
		recs := x.c.records()
		var failed int
		var longest time.Duration
		errs := map[string]int{}
		for _, r := range recs {
			d := r.end.Sub(r.start)
			longest = max(longest, d)
			if !r.ok {
				failed++
				errs[r.err]++
			}
			if d > x.limit {
				t.Errorf("%s call started %v after the stop took %v (limit %v): %s", x.name,
					r.start.Sub(stopAt).Round(time.Millisecond), d.Round(time.Millisecond), x.limit, r.err)
			}
		}
		t.Logf("%s: %d calls, %d failed, longest %v; errors: %v", x.name, len(recs), failed, longest.Round(time.Millisecond), errs)
	}
	c.checkLogs([]*GoNode{g}, []*jsnode.Process{js}, refusals)
}
