package live

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
)

// shardKeys are the live Shard keys: strings, integers and fractions, as
// both callers send them.
func shardKeys() []any {
	var keys []any
	for i := range 60 {
		keys = append(keys, fmt.Sprintf("user-%d", i*7919))
	}
	for i := range 30 {
		keys = append(keys, i*104729)
	}
	for i := range 10 {
		keys = append(keys, float64(i)+0.25)
	}
	return keys
}

// whoamiOf returns the nodeID field of a shared.whoami or sharded.whoami
// answer.
func whoamiOf(t *testing.T, x any) string {
	t.Helper()
	id, _ := asMap(t, x)["nodeID"].(string)
	if id == "" {
		t.Fatalf("no nodeID in %s", jsonString(x))
	}
	return id
}

// Issue 5: a Go caller and a JS caller, both with the Shard strategy and
// the same shardKey, send each of 100 keys to the same node; a JS action
// that declares Shard itself is sharded by a round-robin Go caller too.
func TestShardSameNodesAsJS(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	shard := map[string]any{"shardKey": "key"}
	g := c.goNode("go", func(o *bridge.Options) { o.Strategy, o.StrategyOptions = "Shard", shard })
	plainGo := c.goNode("go-rr", nil) // RoundRobin: follows sharded.whoami's own strategy
	var servers []*jsnode.Process
	for i := range 3 {
		servers = append(servers, c.jsNode(fmt.Sprintf("js%d", i+1), "shared", "sharded"))
	}
	caller := c.jsNodeWith(jsnode.Options{NodeID: c.id("caller"), Services: []string{"jspeer"},
		Env: map[string]string{"STRATEGY": "Shard", "STRATEGY_OPTIONS": `{"shardKey":"key"}`}})
	var ids []string
	for _, s := range servers {
		waitGoSees(t, g, s.NodeID, "shared", "sharded")
		waitGoSees(t, plainGo, s.NodeID, "shared", "sharded")
		ids = append(ids, s.NodeID)
	}
	waitJSSees(t, g, caller.NodeID, "shared.whoami", ids...)
	waitJSSees(t, g, caller.NodeID, "sharded.whoami", ids...)

	hits := map[string]int{}
	for _, key := range shardKeys() {
		p := map[string]any{"key": key}
		goPick := whoamiOf(t, call(t, g, "shared.whoami", p))
		jsPick := whoamiOf(t, captured(t, brokerCapture(t, g, caller.NodeID, "shared.whoami", p, nil)))
		if goPick != jsPick {
			t.Errorf("key %#v: Go sent it to %s, JS to %s", key, goPick, jsPick)
		}
		hits[goPick]++
		// The action's own strategy, followed by a round-robin Go broker
		// and by JS.
		rrPick := whoamiOf(t, call(t, plainGo, "sharded.whoami", p))
		jsOwn := whoamiOf(t, captured(t, brokerCapture(t, g, caller.NodeID, "sharded.whoami", p, nil)))
		if rrPick != jsOwn || rrPick != goPick {
			t.Errorf("key %#v, sharded.whoami: Go (round-robin broker) sent it to %s, JS to %s; shared.whoami went to %s",
				key, rrPick, jsOwn, goPick)
		}
	}
	if len(hits) != 3 {
		t.Errorf("100 keys went to %v, want all three nodes used", hits)
	}
	// The same key again: the same node.
	for range 5 {
		if got := whoamiOf(t, call(t, g, "shared.whoami", map[string]any{"key": "user-0"})); got != whoamiOf(t, call(t, g, "shared.whoami", map[string]any{"key": "user-0"})) {
			t.Fatal("one key went to two nodes")
		}
	}
}

// Issue 5: a Go caller with CpuUsage prefers the idle node, by the CPU
// figures of the JS nodes' heartbeats. The JS nodes report set figures
// (FAKE_CPU): moleculer measures the whole host, so nodes sharing this
// machine would otherwise all report the same load.
func TestCpuUsagePrefersIdleNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", func(o *bridge.Options) { o.Strategy = "CpuUsage" })
	loads := map[string]float64{}
	var idle string
	for i, cpu := range []float64{90, 25, 70} { // none below lowCpuUsage 10: the lowest must win
		id := c.id("js" + strconv.Itoa(i+1))
		c.jsNodeWith(jsnode.Options{NodeID: id, Services: []string{"shared"},
			Env: map[string]string{"FAKE_CPU": strconv.FormatFloat(cpu, 'f', -1, 64)}})
		loads[id] = cpu
		if cpu == 25 {
			idle = id
		}
	}
	for id, cpu := range loads {
		waitGoSees(t, g, id, "shared")
		eventually(t, 15*time.Second, fmt.Sprintf("%s's heartbeat with CPU %v", id, cpu), func() bool {
			n, ok := goNodeInfo(g, id)
			return ok && n.CPU != nil && *n.CPU == cpu
		})
	}
	for i := range 30 {
		if got := whoamiOf(t, call(t, g, "shared.whoami", nil)); got != idle {
			t.Fatalf("call %d went to %s (CPU %v), want the idle %s (CPU 25)", i, got, loads[got], idle)
		}
	}
}

// Issue 5: a Go caller with Latency prefers the near node. Both JS nodes
// announce host names of their own (Latency keeps one figure per host);
// the far one holds its PONGs for 300 ms.
func TestLatencyPrefersNearNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", func(o *bridge.Options) {
		o.Strategy, o.StrategyOptions = "Latency", map[string]any{"pingInterval": 1}
	})
	var mu sync.Mutex
	pongs := map[string][]float64{}
	cancel := g.OnLocalEvent(bridge.EventNodePong, func(_ string, payload any) {
		p := payload.(map[string]any)
		id, _ := p["nodeID"].(string)
		var ms float64
		switch v := p["elapsedTime"].(type) {
		case int64:
			ms = float64(v)
		case float64:
			ms = v
		}
		mu.Lock()
		pongs[id] = append(pongs[id], ms)
		mu.Unlock()
	})
	defer cancel()
	near := c.jsNodeWith(jsnode.Options{NodeID: c.id("near"), Services: []string{"shared"},
		Env: map[string]string{"NODE_HOSTNAME": "near-" + c.ns}})
	far := c.jsNodeWith(jsnode.Options{NodeID: c.id("far"), Services: []string{"shared"},
		Env: map[string]string{"NODE_HOSTNAME": "far-" + c.ns, "PONG_DELAY_MS": "300"}})
	waitGoSees(t, g, near.NodeID, "shared")
	waitGoSees(t, g, far.NodeID, "shared")
	for id, host := range map[string]string{near.NodeID: "near-" + c.ns, far.NodeID: "far-" + c.ns} {
		if info, _ := goNodeInfo(g, id); info.Hostname != host {
			t.Fatalf("%s announces host name %q, want %q", id, info.Hostname, host)
		}
	}
	// The strategy's own pings (every second) measure both hosts.
	eventually(t, 20*time.Second, "two PONGs from each JS node", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(pongs[near.NodeID]) >= 2 && len(pongs[far.NodeID]) >= 2
	})
	mu.Lock()
	t.Logf("round trips (ms): near %v, far %v", pongs[near.NodeID], pongs[far.NodeID])
	mu.Unlock()
	for i := range 30 {
		if got := whoamiOf(t, call(t, g, "shared.whoami", nil)); got != near.NodeID {
			t.Fatalf("call %d went to %s, want the near node %s", i, got, near.NodeID)
		}
	}
}
