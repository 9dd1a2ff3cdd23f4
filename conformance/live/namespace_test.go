package live

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/transporters"
)

// Acceptance 8: namespaces isolate. JS nodes of another namespace are
// invisible to Go and Go nodes invisible to them, though they share a broker.
func TestNamespacesIsolate(t *testing.T) {
	t.Parallel()
	c1, c2 := newCluster(t), newCluster(t)
	g1 := c1.goNode("go", nil, sharedService(c1.id("go")))
	g2 := c2.goNode("go", nil, newGoEcho().service())
	in1 := c1.jsNode("js", "jspeer")
	in2 := c2.jsNode("js", "jspeer", "shared")
	// Positive controls: each side sees its own namespace.
	waitGoSees(t, g1, in1.NodeID, "jspeer")
	waitGoSees(t, g2, in2.NodeID, "jspeer", "shared")
	waitJSSees(t, g1, in1.NodeID, "shared.whoami", g1.NodeID())
	waitJSSees(t, g2, in2.NodeID, "goecho.echo", g2.NodeID())
	// Let heartbeats, DISCOVERs and INFOs flow for a while.
	time.Sleep(2500 * time.Millisecond)

	ids := func(ns []bridge.Node) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.ID)
		}
		slices.Sort(out)
		return out
	}
	mustEqual(t, "nodes Go sees in namespace 1", ids(g1.Nodes()), sortedOf(g1.NodeID(), in1.NodeID))
	mustEqual(t, "nodes Go sees in namespace 2", ids(g2.Nodes()), sortedOf(g2.NodeID(), in2.NodeID))
	jsIDs := func(g *goNode, js string) []string {
		var out []string
		for _, x := range asList(t, callOn(t, g, js, "$node.list", nil)) {
			out = append(out, asMap(t, x)["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	mustEqual(t, "nodes JS sees in namespace 1", jsIDs(g1, in1.NodeID), sortedOf(g1.NodeID(), in1.NodeID))
	mustEqual(t, "nodes JS sees in namespace 2", jsIDs(g2, in2.NodeID), sortedOf(g2.NodeID(), in2.NodeID))

	// Calls do not cross: shared.whoami is only served by g1 in namespace
	// 1 and only by in2 in namespace 2.
	for range 4 {
		mustEqual(t, "shared.whoami in namespace 1", call(t, g1, "shared.whoami", nil), map[string]any{"nodeID": g1.NodeID()})
		mustEqual(t, "shared.whoami in namespace 2", call(t, g2, "shared.whoami", nil), map[string]any{"nodeID": in2.NodeID})
	}
	ctx, cancel := callCtx()
	defer cancel()
	if _, err := g1.Call(ctx, "goecho.echo", nil); !errors.Is(err, bridge.ErrServiceNotFound) {
		t.Errorf("namespace 1 calling namespace 2's Go action: %v, want ServiceNotFoundError", err)
	}
	mustEqual(t, "JS in namespace 1 calling namespace 2's Go action",
		capturedErr(t, brokerCapture(t, g1, in1.NodeID, "goecho.echo", nil, nil))["name"], "ServiceNotFoundError")
}

func sortedOf(s ...string) []string {
	slices.Sort(s)
	return s
}

// Acceptance 8: with disableBalancer on every node, the message broker
// balances: calls both ways and balanced events work. Only on transporters
// with a built-in balancer (NATS, AMQP, AMQP 1.0, STAN); JS forces
// disableBalancer off on the others.
func TestDisableBalancerEverywhere(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	tr, err := transporters.New(cfg.URL, cfg.transporterOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.BuiltInBalancer(); got != cfg.builtInBalancer() {
		t.Errorf("the Go %s transporter says BuiltInBalancer() = %v; JS's hasBuiltInBalancer is %v", cfg.Kind, got, cfg.builtInBalancer())
	}
	if !cfg.builtInBalancer() {
		notApplicable(t, "disableBalancer", cfg.Kind+" has no built-in balancer: JS forces disableBalancer back to false on it")
		return
	}
	rec := &recorder{}
	noBalancer := func(o *bridge.Options) { o.DisableBalancer = true }
	goSvcs := func(node string) []bridge.Service {
		return []bridge.Service{
			newGoEcho().service(),
			rec.eventService(node, "gevA", [2]string{"conformance.e1", ""}, [2]string{"conformance.**", "gall"}),
		}
	}
	g1 := c.goNode("go1", noBalancer, goSvcs(c.id("go1"))...)
	g2 := c.goNode("go2", noBalancer, goSvcs(c.id("go2"))...)
	js := func(role string, services ...string) string {
		return c.jsNodeWith(jsnodeOptions(c, role, true, services...)).NodeID
	}
	j1 := js("js1", "jspeer")
	j2 := js("js2", "jspeer", "jspeer-audit")
	waitGoSees(t, g1, j1, "jspeer")
	waitGoSees(t, g1, j2, "jspeer", "jspeer-audit")
	waitGoSees(t, g2, j2, "jspeer")
	waitJSSees(t, g1, j1, "goecho.echo", g1.NodeID(), g2.NodeID())
	waitJSEvents(t, g1, j1, map[string][]string{"conformance.e1|gevA": {g1.NodeID(), g2.NodeID()}, "conformance.**|gall": {g1.NodeID(), g2.NodeID()}})

	// Go → JS: the balanced REQB topic reaches one of the JS nodes.
	seen := map[string]int{}
	for range 8 {
		r := asMap(t, call(t, g1, "jspeer.echo", map[string]any{"k": "v"}))
		mustEqual(t, "Go → JS params", r["params"], map[string]any{"k": "v"})
		seen[r["nodeID"].(string)]++
	}
	if seen[j1]+seen[j2] != 8 {
		t.Errorf("Go → JS calls answered by %v", seen)
	}
	// JS → Go.
	seen = map[string]int{}
	for range 8 {
		r := asMap(t, captured(t, capture(t, g1, j1, "goecho.echo", map[string]any{"k": "v"}, nil)))
		mustEqual(t, "JS → Go params", r["params"], map[string]any{"k": "v"})
		seen[r["nodeID"].(string)]++
	}
	if seen[g1.NodeID()]+seen[g2.NodeID()] != 8 {
		t.Errorf("JS → Go calls answered by %v", seen)
	}
	// Go → Go through the balanced topic (the caller may serve itself).
	seen = map[string]int{}
	for range 8 {
		seen[asMap(t, call(t, g1, "goecho.echo", nil))["nodeID"].(string)]++
	}
	if seen[g1.NodeID()]+seen[g2.NodeID()] != 8 {
		t.Errorf("Go → Go balanced calls answered by %v", seen)
	}
	// Directed calls still work.
	mustEqual(t, "directed Go → JS", callOn(t, g1, j2, "jspeer.whoami", nil), j2)
	mustEqual(t, "directed JS → Go", asMap(t, captured(t, capture(t, g1, j1, "goecho.echo", nil, map[string]any{"nodeID": g2.NodeID()})))["nodeID"], g2.NodeID())

	// JS emit → each Go group exactly once (the broker's queue groups).
	const n = 6
	for i := range n {
		jsEmit(t, g1, j1, "conformance.e1", map[string]any{"i": i}, nil, false)
	}
	// On AMQP, AMQP 1.0 and STAN a balanced event queue is named after the
	// listener's pattern while emitters publish under the concrete name, so
	// pattern listeners ("conformance.**") get no balanced events — between
	// JS nodes too (moleculer's amqp.js, amqp10.js, stan.js). Only NATS maps
	// "**" onto its ">" wildcard. The exact-name group gevA gets them all.
	patterns := cfg.Kind == "NATS"
	wantGo, wantJS := map[string]int{"gevA": n}, map[string]int{}
	if patterns {
		wantGo["gall"], wantJS["jspeer"], wantJS["jspeer-audit"] = n, n, n
	} else {
		notApplicable(t, "balanced events to pattern listeners", cfg.Kind+" names balanced event queues after the pattern, so JS delivers them to exact-name listeners only")
	}
	total := func(m map[string]int) (sum int) {
		for _, v := range m {
			sum += v
		}
		return sum
	}
	settle(t, "balanced JS events at Go", func() bool { return len(rec.all()) >= total(wantGo) })
	if !patterns {
		time.Sleep(500 * time.Millisecond) // nothing more may arrive
	}
	for k, cnt := range countBy(rec.all(), func(d delivery) string { return d.Group + "#" + dataI(d.Data) }) {
		if cnt != 1 {
			t.Errorf("balanced event %s delivered %d times", k, cnt)
		}
	}
	mustEqual(t, "balanced JS events at Go per group", countBy(rec.all(), func(d delivery) string { return d.Group }), wantGo)

	// Go emit → each JS group exactly once; Go's own groups included.
	rec.reset()
	resetReceived(t, g1, j1, j2)
	ctx, cancel := callCtx()
	defer cancel()
	for i := range n {
		if err := g1.Emit(ctx, "conformance.e1", map[string]any{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, "balanced Go events", func() bool {
		return len(received(t, g1, j1))+len(received(t, g1, j2)) >= total(wantJS) && len(rec.all()) >= total(wantGo)
	})
	if !patterns {
		time.Sleep(500 * time.Millisecond) // nothing more may arrive
	}
	all := append(received(t, g1, j1), received(t, g1, j2)...)
	for k, cnt := range countBy(all, func(r jsReceived) string { return r.Group + "#" + dataI(r.Data) }) {
		if cnt != 1 {
			t.Errorf("balanced Go event %s delivered %d times at JS", k, cnt)
		}
	}
	mustEqual(t, "balanced Go events at JS per group", countBy(all, func(r jsReceived) string { return r.Group }), wantJS)
	mustEqual(t, "balanced Go events at Go per group", countBy(rec.all(), func(d delivery) string { return d.Group }), wantGo)

	// Broadcast still reaches every handler.
	rec.reset()
	resetReceived(t, g1, j1, j2)
	jsEmit(t, g1, j1, "conformance.e1", map[string]any{"i": 0}, nil, true)
	settle(t, "JS broadcast", func() bool { return len(rec.all()) >= 4 })
	mustEqual(t, "JS broadcast at Go", len(rec.all()), 4)
	rec.reset()
	resetReceived(t, g1, j1, j2)
	if err := g1.Broadcast(ctx, "conformance.e1", map[string]any{"i": 0}); err != nil {
		t.Fatal(err)
	}
	settle(t, "Go broadcast", func() bool {
		return len(received(t, g1, j1)) >= 1 && len(received(t, g1, j2)) >= 2 && len(rec.all()) >= 4
	})
	mustEqual(t, "Go broadcast at JS", len(received(t, g1, j1))+len(received(t, g1, j2)), 3)
	mustEqual(t, "Go broadcast at Go", len(rec.all()), 4)
}
