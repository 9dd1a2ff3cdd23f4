package live

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
)

// jsEventEndpoints asks a JS node which nodes serve each event list
// ("pattern|group" → node IDs), from its $node.events.
func jsEventEndpoints(t *testing.T, g *goNode, js string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, x := range asList(t, callOn(t, g, js, "$node.events", map[string]any{"withEndpoints": true, "onlyAvailable": true})) {
		it := asMap(t, x)
		k := it["name"].(string) + "|" + it["group"].(string)
		if eps, ok := it["endpoints"]; ok {
			out[k] = endpointNodes(t, eps)
		}
	}
	return out
}

// waitJSEvents waits until the JS node js has each "pattern|group" list on
// the given nodes.
func waitJSEvents(t *testing.T, g *goNode, js string, want map[string][]string) {
	t.Helper()
	eventually(t, 15*time.Second, js+" to know the event handlers", func() bool {
		got := jsEventEndpoints(t, g, js)
		for k, nodes := range want {
			for _, n := range nodes {
				if !slices.Contains(got[k], n) {
					return false
				}
			}
		}
		return true
	})
}

// jsReceived is one event a jsnode catalog service recorded.
type jsReceived struct {
	Event, Group, Sender, Service string
	Data                          any
}

func received(t *testing.T, g *goNode, js string) []jsReceived {
	t.Helper()
	var out []jsReceived
	b, _ := json.Marshal(callOn(t, g, js, "jspeer.received", nil))
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func resetReceived(t *testing.T, g *goNode, js ...string) {
	t.Helper()
	for _, n := range js {
		callOn(t, g, n, "jspeer.reset", nil)
	}
}

// jsEmit makes a JS node emit (or broadcast) an event.
func jsEmit(t *testing.T, g *goNode, js, event string, data any, groups []string, broadcast bool) {
	t.Helper()
	p := map[string]any{"event": event, "data": data, "broadcast": broadcast}
	if groups != nil {
		p["groups"] = groups
	}
	callOn(t, g, js, "jspeer.emit", p)
}

// countBy counts deliveries per key.
func countBy[T any](list []T, key func(T) string) map[string]int {
	out := map[string]int{}
	for _, x := range list {
		out[key(x)]++
	}
	return out
}

func dataI(x any) string {
	m, _ := x.(map[string]any)
	return fmt.Sprint(m["i"])
}

// Acceptance 5: a JS emit reaches each Go group exactly once (balanced
// over the Go nodes that have it), groups narrow it, broadcast reaches
// every handler.
func TestJSEventsReachGoGroups(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	rec := &recorder{}
	goSvcs := func(node string) []bridge.Service {
		return []bridge.Service{
			rec.eventService(node, "gevA", [2]string{"conformance.e1", ""}, [2]string{"conformance.*", "gwild"}),
			rec.eventService(node, "gevB", [2]string{"conformance.**", ""}),
		}
	}
	g1 := c.goNode("go1", nil, goSvcs(c.id("go1"))...)
	g2 := c.goNode("go2", nil, goSvcs(c.id("go2"))...)
	e := c.jsNode("emitter", "jspeer")
	f := c.jsNode("jsf", "jspeer", "jspeer-audit")
	waitGoSees(t, g1, e.NodeID, "jspeer")
	waitGoSees(t, g1, f.NodeID, "jspeer", "jspeer-audit")
	gos := []string{g1.NodeID(), g2.NodeID()}
	waitJSEvents(t, g1, e.NodeID, map[string][]string{
		"conformance.e1|gevA": gos, "conformance.*|gwild": gos, "conformance.**|gevB": gos,
		"conformance.**|jspeer-audit": {f.NodeID}, "conformance.**|jspeer": {e.NodeID, f.NodeID},
	})

	// Emit: each group once per event.
	const n = 6
	for i := range n {
		jsEmit(t, g1, e.NodeID, "conformance.e1", map[string]any{"i": i}, nil, false)
	}
	groupOf := func(d delivery) string { return d.Group + "#" + dataI(d.Data) }
	settle(t, "every Go group to get every emit", func() bool { return len(rec.all()) >= 3*n })
	all := rec.all()
	if len(all) != 3*n {
		t.Errorf("Go handlers ran %d times for %d emits of 3 groups, want %d: %s", len(all), n, 3*n, jsonString(all))
	}
	for k, cnt := range countBy(all, groupOf) {
		if cnt != 1 {
			t.Errorf("group#i %s delivered %d times", k, cnt)
		}
	}
	for _, grp := range []string{"gevA", "gwild", "gevB"} {
		perNode := countBy(slices.DeleteFunc(slices.Clone(all), func(d delivery) bool { return d.Group != grp }), func(d delivery) string { return d.Node })
		if perNode[g1.NodeID()] != n/2 || perNode[g2.NodeID()] != n/2 {
			t.Errorf("group %s spread %v over the Go nodes, want %d each (round-robin)", grp, perNode, n/2)
		}
	}
	for _, d := range all {
		if d.Type != "emit" || d.Sender != e.NodeID || d.Event != "conformance.e1" || !slices.Contains(d.Groups, d.Group) {
			t.Errorf("delivery %s: want type emit, sender %s, its group among the groups", jsonString(d), e.NodeID)
		}
	}
	// The JS groups: the emitter's own group stays local, the other JS
	// node's group gets each event once.
	mustEqual(t, "emitter's jspeer events", countBy(received(t, g1, e.NodeID), func(r jsReceived) string { return r.Group }), map[string]int{"jspeer": n})
	mustEqual(t, "other JS node's events", countBy(received(t, g1, f.NodeID), func(r jsReceived) string { return r.Group }), map[string]int{"jspeer-audit": n})

	// Groups narrow the emit.
	rec.reset()
	resetReceived(t, g1, e.NodeID, f.NodeID)
	for i := range 2 {
		jsEmit(t, g1, e.NodeID, "conformance.e1", map[string]any{"i": i}, []string{"gevB", "jspeer-audit"}, false)
	}
	settle(t, "the narrowed emits", func() bool { return len(rec.all()) >= 2 })
	mustEqual(t, "Go groups reached by a narrowed emit", countBy(rec.all(), groupOf), map[string]int{"gevB#0": 1, "gevB#1": 1})
	mustEqual(t, "emitter's own group with groups [gevB jspeer-audit]", len(received(t, g1, e.NodeID)), 0)
	mustEqual(t, "jspeer-audit with groups [gevB jspeer-audit]", len(received(t, g1, f.NodeID)), 2)

	// Broadcast: every handler on every node.
	rec.reset()
	resetReceived(t, g1, e.NodeID, f.NodeID)
	jsEmit(t, g1, e.NodeID, "conformance.e1", map[string]any{"i": 0}, nil, true)
	settle(t, "the broadcast", func() bool { return len(rec.all()) >= 6 })
	mustEqual(t, "Go handlers reached by a broadcast", countBy(rec.all(), func(d delivery) string { return d.Node + "/" + d.Group + "/" + d.Type }),
		map[string]int{
			g1.NodeID() + "/gevA/broadcast": 1, g1.NodeID() + "/gwild/broadcast": 1, g1.NodeID() + "/gevB/broadcast": 1,
			g2.NodeID() + "/gevA/broadcast": 1, g2.NodeID() + "/gwild/broadcast": 1, g2.NodeID() + "/gevB/broadcast": 1,
		})
	mustEqual(t, "emitter's handlers reached by its broadcast", len(received(t, g1, e.NodeID)), 1)
	mustEqual(t, "other JS node's handlers reached by the broadcast",
		countBy(received(t, g1, f.NodeID), func(r jsReceived) string { return r.Group }), map[string]int{"jspeer": 1, "jspeer-audit": 1})

	// Broadcast to some groups.
	rec.reset()
	resetReceived(t, g1, e.NodeID, f.NodeID)
	jsEmit(t, g1, e.NodeID, "conformance.e1", map[string]any{"i": 0}, []string{"gwild"}, true)
	settle(t, "the group broadcast", func() bool { return len(rec.all()) >= 2 })
	mustEqual(t, "Go handlers reached by a broadcast to gwild", countBy(rec.all(), func(d delivery) string { return d.Node + "/" + d.Group }),
		map[string]int{g1.NodeID() + "/gwild": 1, g2.NodeID() + "/gwild": 1})
	mustEqual(t, "JS handlers reached by a broadcast to gwild", len(received(t, g1, e.NodeID))+len(received(t, g1, f.NodeID)), 0)
}

// Acceptance 5: Go emit and broadcast reach JS groups as a JS emitter's
// would.
func TestGoEventsReachJSGroups(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	rec := &recorder{}
	g := c.goNode("go", nil, rec.eventService(c.id("go"), "gevA", [2]string{"conformance.**", ""}))
	e := c.jsNode("jse", "jspeer")
	f := c.jsNode("jsf", "jspeer", "jspeer-audit")
	waitGoSees(t, g, e.NodeID, "jspeer")
	waitGoSees(t, g, f.NodeID, "jspeer", "jspeer-audit")
	ctx, cancel := callCtx()
	defer cancel()

	byGroup := func(r jsReceived) string { return r.Group }
	const n = 6
	for i := range n {
		if err := g.Emit(ctx, "conformance.g", map[string]any{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, "the Go emits to reach JS", func() bool {
		return len(received(t, g, e.NodeID))+len(received(t, g, f.NodeID)) >= 2*n && len(rec.all()) >= n
	})
	re, rf := received(t, g, e.NodeID), received(t, g, f.NodeID)
	// jspeer: balanced over e and f, each event once.
	var jspeer []jsReceived
	for _, r := range append(slices.Clone(re), rf...) {
		if r.Group == "jspeer" {
			jspeer = append(jspeer, r)
		}
	}
	mustEqual(t, "jspeer deliveries per event", countBy(jspeer, func(r jsReceived) string { return dataI(r.Data) }),
		map[string]int{"0": 1, "1": 1, "2": 1, "3": 1, "4": 1, "5": 1})
	mustEqual(t, "jspeer spread over the JS nodes (round-robin)",
		map[string]int{e.NodeID: countBy(re, byGroup)["jspeer"], f.NodeID: countBy(rf, byGroup)["jspeer"]},
		map[string]int{e.NodeID: n / 2, f.NodeID: n / 2})
	mustEqual(t, "jspeer-audit deliveries", countBy(rf, byGroup)["jspeer-audit"], n)
	for _, r := range append(slices.Clone(re), rf...) {
		if r.Sender != g.NodeID() || r.Event != "conformance.g" {
			t.Errorf("JS got %s, want event conformance.g from %s", jsonString(r), g.NodeID())
		}
	}
	mustEqual(t, "Go's own group stays local", countBy(rec.all(), func(d delivery) string { return d.Node + "/" + d.Type }),
		map[string]int{g.NodeID() + "/emit": n})

	// Groups narrow the emit.
	rec.reset()
	resetReceived(t, g, e.NodeID, f.NodeID)
	for i := range 2 {
		if err := g.Emit(ctx, "conformance.g", map[string]any{"i": i}, bridge.WithGroups("jspeer-audit")); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, "the narrowed Go emits", func() bool { return len(received(t, g, f.NodeID)) >= 2 })
	mustEqual(t, "narrowed emit at f", countBy(received(t, g, f.NodeID), byGroup), map[string]int{"jspeer-audit": 2})
	mustEqual(t, "narrowed emit at e", len(received(t, g, e.NodeID)), 0)
	mustEqual(t, "narrowed emit at Go", len(rec.all()), 0)

	// Broadcast: every handler.
	rec.reset()
	resetReceived(t, g, e.NodeID, f.NodeID)
	if err := g.Broadcast(ctx, "conformance.b", map[string]any{"i": 0}); err != nil {
		t.Fatal(err)
	}
	settle(t, "the Go broadcast", func() bool {
		return len(received(t, g, e.NodeID)) >= 1 && len(received(t, g, f.NodeID)) >= 2 && len(rec.all()) >= 1
	})
	mustEqual(t, "broadcast at e", countBy(received(t, g, e.NodeID), byGroup), map[string]int{"jspeer": 1})
	mustEqual(t, "broadcast at f", countBy(received(t, g, f.NodeID), byGroup), map[string]int{"jspeer": 1, "jspeer-audit": 1})
	mustEqual(t, "broadcast at Go", countBy(rec.all(), func(d delivery) string { return d.Type }), map[string]int{"broadcastLocal": 1})

	// Broadcast to a group.
	rec.reset()
	resetReceived(t, g, e.NodeID, f.NodeID)
	if err := g.Broadcast(ctx, "conformance.b", map[string]any{"i": 0}, bridge.WithGroups("jspeer")); err != nil {
		t.Fatal(err)
	}
	settle(t, "the Go group broadcast", func() bool {
		return len(received(t, g, e.NodeID)) >= 1 && len(received(t, g, f.NodeID)) >= 1
	})
	mustEqual(t, "group broadcast at e", countBy(received(t, g, e.NodeID), byGroup), map[string]int{"jspeer": 1})
	mustEqual(t, "group broadcast at f", countBy(received(t, g, f.NodeID), byGroup), map[string]int{"jspeer": 1})
	mustEqual(t, "group broadcast at Go", len(rec.all()), 0)
}

// jsMatch asks moleculer's own utils.match which (name, pattern) pairs
// match.
func jsMatch(t *testing.T, names, patterns []string) map[[2]string]bool {
	t.Helper()
	script, err := jsnode.Script()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"names": names, "patterns": patterns})
	cmd := exec.Command("node", "-e", `
const { Utils } = require("moleculer");
const { names, patterns } = JSON.parse(process.argv[1]);
const out = {};
for (const n of names) out[n] = patterns.map(p => Utils.match(n, p));
process.stdout.write(JSON.stringify(out));`, string(in))
	cmd.Dir = filepath.Dir(script)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node utils.match: %v", err)
	}
	var res map[string][]bool
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	out := map[[2]string]bool{}
	for n, l := range res {
		for i, m := range l {
			out[[2]string{n, patterns[i]}] = m
		}
	}
	return out
}

// Acceptance 5: wildcard subscriptions match as in JS, both when JS sends
// to Go handlers and when Go sends to JS handlers.
func TestEventWildcardsMatchJS(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	patterns := []string{"conformance.*", "conformance.**", "conformance.e?", "conformance.e*", "conformance.*.y",
		"conformance.?.**", "conformance.a*b", "conf*", "conformance.e1", "*", "**", "conformance.x.**", "conformance?**"}
	names := []string{"conformance.e1", "conformance.e", "conformance.ex", "conformance.x.y", "conformance.a.b.c",
		"conformance.ab", "conformance.axb", "conformance.a.b", "conformanceX", "conformance", "other.thing", "x",
		"conformance.e1.z", "conformance.x.y.z", "conformance.a.y", "conformance.e.z", "conf.x", "conformanceX.y",
		".leading", "conformance..e1", "conformance.e1."}
	match := jsMatch(t, names, patterns)
	group := func(i int) string { return fmt.Sprintf("gw%02d", i) }

	rec := &recorder{}
	var subs [][2]string
	for i, p := range patterns {
		subs = append(subs, [2]string{p, group(i)})
	}
	g := c.goNode("go", nil, rec.eventService(c.id("go"), "gwild", subs...))
	e := c.jsNode("emitter", "jspeer")
	f := c.jsNode("jsf", "jspeer")
	waitGoSees(t, g, e.NodeID, "jspeer")
	waitGoSees(t, g, f.NodeID, "jspeer")
	want := map[string][]string{}
	for i, p := range patterns {
		want[p+"|"+group(i)] = []string{g.NodeID()}
	}
	waitJSEvents(t, g, e.NodeID, want)

	expected := map[string]int{}
	for _, n := range names {
		for i, p := range patterns {
			if match[[2]string{n, p}] {
				expected[n+"|"+group(i)] = 1
			}
		}
	}
	key := func(d delivery) string { return d.Event + "|" + d.Group }

	// JS emits, Go handlers receive.
	for _, n := range names {
		jsEmit(t, g, e.NodeID, n, nil, nil, false)
	}
	settle(t, "the wildcard events at Go", func() bool { return len(rec.all()) >= len(expected) })
	mustEqual(t, "JS emit → Go handlers (by moleculer's utils.match)", countBy(rec.all(), key), expected)

	// JS broadcasts, Go handlers receive.
	rec.reset()
	for _, n := range names {
		jsEmit(t, g, e.NodeID, n, nil, nil, true)
	}
	settle(t, "the wildcard broadcasts at Go", func() bool { return len(rec.all()) >= len(expected) })
	mustEqual(t, "JS broadcast → Go handlers", countBy(rec.all(), key), expected)

	// Go emits: its own handlers match as JS would, and JS's
	// "conformance.**" handlers get what utils.match says.
	rec.reset()
	resetReceived(t, g, e.NodeID, f.NodeID)
	ctx, cancel := callCtx()
	defer cancel()
	for _, n := range names {
		if err := g.Emit(ctx, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	wantJS := map[string]int{}
	for _, n := range names {
		if match[[2]string{n, "conformance.**"}] {
			wantJS[n] = 1
		}
	}
	settle(t, "the Go emits", func() bool {
		return len(rec.all()) >= len(expected) && len(received(t, g, e.NodeID))+len(received(t, g, f.NodeID)) >= len(wantJS)
	})
	mustEqual(t, "Go emit → Go handlers", countBy(rec.all(), key), expected)
	mustEqual(t, "Go emit → JS conformance.** handlers", countBy(append(received(t, g, e.NodeID), received(t, g, f.NodeID)...),
		func(r jsReceived) string { return r.Event }), wantJS)
}
