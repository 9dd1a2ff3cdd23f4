package live

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
)

// Services made and destroyed at runtime on a JS node go through its
// jsruntime catalog service (compat/jsnode.js).

// jsCreate makes a service on a JS node: actions answer {nodeID, service,
// action}; with dependencies it starts once they are available.
func jsCreate(t *testing.T, b *goNode, js, name string, version any, actions []string, deps []any) {
	t.Helper()
	p := map[string]any{"name": name, "actions": actions}
	if version != nil {
		p["version"] = version
	}
	if deps != nil {
		p["dependencies"] = deps
	}
	callOn(t, b, js, "jsruntime.create", p)
}

// jsDestroy is broker.destroyService on a JS node.
func jsDestroy(t *testing.T, b *goNode, js, name string, version any) {
	t.Helper()
	p := map[string]any{"name": name}
	if version != nil {
		p["version"] = version
	}
	callOn(t, b, js, "jsruntime.destroy", p)
}

// jsLifecycle lists the started/stopped handler runs of jsruntime's
// services.
func jsLifecycle(t *testing.T, b *goNode, js string) []string {
	t.Helper()
	var out []string
	for _, x := range asList(t, callOn(t, b, js, "jsruntime.lifecycle", nil)) {
		out = append(out, x.(string))
	}
	return out
}

// jsSeq returns the seq the JS node js has for node id.
func jsSeq(t *testing.T, b *goNode, js, id string) float64 {
	t.Helper()
	for _, x := range asList(t, callOn(t, b, js, "jspeer.nodes", nil)) {
		n := asMap(t, x)
		if n["id"] == id {
			seq, _ := n["seq"].(float64)
			return seq
		}
	}
	t.Fatalf("%s does not know %s", js, id)
	return 0
}

// goHas reports whether the Go broker knows node id with a service.
func goHas(b *goNode, id, fullName string) bool {
	n, ok := goNodeInfo(b, id)
	return ok && slices.ContainsFunc(n.Services, func(s bridgeServiceInfo) bool { return s.FullName == fullName })
}

// A Go service added to and removed from a running broker appears and
// disappears on JS nodes as a JS service created and destroyed at runtime
// does, and calls to it then fail as they fail for the JS one.
func TestServiceHotAddRemove(t *testing.T) {
	c := newCluster(t)
	gon := c.goNode("go", nil)
	caller := c.jsNode("caller", "jspeer")
	runtime := c.jsNode("runtime", "jspeer", "jsruntime")
	waitGoSees(t, gon, caller.NodeID, "jspeer")
	waitGoSees(t, gon, runtime.NodeID, "jsruntime")
	waitJSSees(t, gon, caller.NodeID, "jsruntime.create", runtime.NodeID)
	ctx := context.Background()

	// Go: add, call from JS, remove, call from JS.
	seq := jsSeq(t, gon, caller.NodeID, gon.NodeID())
	var stopped []string
	err := gon.AddService(bridge.Service{
		Name: "hot", Version: 2,
		Actions: []bridge.Action{{Name: "hello", Handler: func(ctx *bridge.Context) (any, error) {
			return map[string]any{"nodeID": ctx.Broker().NodeID(), "service": ctx.Service(), "action": "hello"}, nil
		}}},
		Stopped: func(_ context.Context, svc *bridge.ServiceHandle) error {
			stopped = append(stopped, "stopped:"+svc.FullName())
			return nil
		},
	})
	if err != nil {
		t.Fatalf("AddService on a running broker: %v", err)
	}
	waitJSSees(t, gon, caller.NodeID, "v2.hot.hello", gon.NodeID())
	mustEqual(t, "JS's call of the added Go service",
		captured(t, brokerCapture(t, gon, caller.NodeID, "v2.hot.hello", nil, nil)),
		map[string]any{"nodeID": gon.NodeID(), "service": "v2.hot", "action": "hello"})
	if got := jsSeq(t, gon, caller.NodeID, gon.NodeID()); got != seq+1 {
		t.Errorf("JS has seq %v for the Go node after the addition, want %v", got, seq+1)
	}

	if err := gon.RemoveService(ctx, "v2.hot"); err != nil {
		t.Fatalf("RemoveService: %v", err)
	}
	mustEqual(t, "Stopped handlers", stopped, []string{"stopped:v2.hot"})
	eventually(t, 15*time.Second, "JS to drop the Go endpoint of v2.hot.hello", func() bool {
		return len(jsEndpoints(t, gon, caller.NodeID, "v2.hot.hello")) == 0
	})
	if got := jsSeq(t, gon, caller.NodeID, gon.NodeID()); got != seq+2 {
		t.Errorf("JS has seq %v for the Go node after the removal, want %v", got, seq+2)
	}
	goGone := capturedErr(t, brokerCapture(t, gon, caller.NodeID, "v2.hot.hello", nil, nil))

	// JS: the same steps with a JS service, for reference.
	jsCreate(t, gon, runtime.NodeID, "hot", 3, []string{"hello"}, nil)
	waitGoSees(t, gon, runtime.NodeID, "v3.hot")
	mustEqual(t, "Go's call of the created JS service", call(t, gon, "v3.hot.hello", nil),
		map[string]any{"nodeID": runtime.NodeID, "service": "v3.hot", "action": "hello"})
	waitJSSees(t, gon, caller.NodeID, "v3.hot.hello", runtime.NodeID)
	captured(t, brokerCapture(t, gon, caller.NodeID, "v3.hot.hello", nil, nil))

	jsDestroy(t, gon, runtime.NodeID, "hot", 3)
	mustEqual(t, "JS lifecycle", jsLifecycle(t, gon, runtime.NodeID), []string{"started:v3.hot", "stopped:v3.hot"})
	eventually(t, 15*time.Second, "Go to drop v3.hot", func() bool { return !goHas(gon, runtime.NodeID, "v3.hot") })
	eventually(t, 15*time.Second, "the caller to drop v3.hot.hello", func() bool {
		return len(jsEndpoints(t, gon, caller.NodeID, "v3.hot.hello")) == 0
	})
	jsGone := capturedErr(t, brokerCapture(t, gon, caller.NodeID, "v3.hot.hello", nil, nil))
	t.Logf("JS's error for a destroyed service: %s", jsonString(jsGone))
	// The removed Go service fails on JS as the destroyed JS one does.
	mustEqual(t, "JS's error for the removed Go service (names aligned)",
		alignNames(t, goGone, "v2.hot", "v3.hot"), jsGone)
	// And Go reports the destroyed JS service as JS does.
	ctxc, cancel := callCtx()
	defer cancel()
	_, err = gon.Call(ctxc, "v3.hot.hello", nil)
	if err == nil {
		t.Fatal("Go's call of the destroyed JS service succeeded")
	}
	mustEqual(t, "Go's error for the destroyed JS service", errorFields(t, err), jsGone)
}

// alignNames replaces one service's name with another's in an error
// report, so that the reports of two services compare.
func alignNames(t *testing.T, report map[string]any, from, to string) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(jsonString(report), from, to)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Services wait for their dependencies across languages: a Go service
// (whose dependency comes from a mixin) starts only once a JS service
// exists, and a JS service only once a Go service exists.
func TestServiceDependencies(t *testing.T) {
	c := newCluster(t)
	gon := c.goNode("go", nil)
	runtime := c.jsNode("runtime", "jspeer", "jsruntime")
	waitGoSees(t, gon, runtime.NodeID, "jsruntime")
	waitJSSees(t, gon, runtime.NodeID, "jsruntime.create", runtime.NodeID)

	// Go depends on JS.
	started := make(chan struct{})
	added := make(chan error, 1)
	go func() {
		added <- gon.AddService(bridge.Service{
			Name:   "dependent",
			Mixins: []bridge.Service{{Dependencies: []string{"v1.provider"}}},
			Actions: []bridge.Action{{Name: "hello", Handler: func(*bridge.Context) (any, error) {
				return "go dependent", nil
			}}},
			Started: func(context.Context, *bridge.ServiceHandle) error { close(started); return nil },
		})
	}()
	time.Sleep(time.Second)
	select {
	case <-started:
		t.Fatal("the Go service started before its JS dependency exists")
	default:
	}
	if got := jsEndpoints(t, gon, runtime.NodeID, "dependent.hello"); len(got) != 0 {
		t.Fatalf("JS sees the Go service before its dependency exists: %v", got)
	}
	jsCreate(t, gon, runtime.NodeID, "provider", 1, []string{"hello"}, nil)
	select {
	case err := <-added:
		if err != nil {
			t.Fatalf("AddService: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the Go service did not start after its JS dependency appeared")
	}
	waitJSSees(t, gon, runtime.NodeID, "dependent.hello", gon.NodeID())

	// JS depends on Go.
	jsCreate(t, gon, runtime.NodeID, "consumer", nil, []string{"hello"}, []any{map[string]any{"name": "provider", "version": 2}})
	time.Sleep(time.Second)
	if goHas(gon, runtime.NodeID, "consumer") {
		t.Fatal("the JS service started before its Go dependency exists")
	}
	if got := jsLifecycle(t, gon, runtime.NodeID); slices.Contains(got, "started:consumer") {
		t.Fatalf("the JS service's started ran before its Go dependency exists: %v", got)
	}
	err := gon.AddService(bridge.Service{Name: "provider", Version: 2,
		Actions: []bridge.Action{{Name: "hello", Handler: func(*bridge.Context) (any, error) { return "go provider", nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	waitGoSees(t, gon, runtime.NodeID, "consumer")
	mustEqual(t, "JS lifecycle", jsLifecycle(t, gon, runtime.NodeID), []string{"started:v1.provider", "started:consumer"})
	mustEqual(t, "Go's call of the JS service", call(t, gon, "consumer.hello", nil),
		map[string]any{"nodeID": runtime.NodeID, "service": "consumer", "action": "hello"})
}

// JS sees a Go service with mixins as merged: settings (secure ones left
// out), metadata and actions, a disabled one gone.
func TestServiceMixinsSeenByJS(t *testing.T) {
	c := newCluster(t)
	base := bridge.Service{
		Settings: map[string]any{"$secureSettings": []string{"token"}, "token": "t", "page": 10.0, "db": map[string]any{"host": "h", "port": 1.0}},
		Metadata: map[string]any{"region": "eu", "tier": 1.0},
		Actions: []bridge.Action{
			{Name: "list", Params: bridge.Schema{"page": "number|optional"}, Handler: func(*bridge.Context) (any, error) { return "list", nil }},
			{Name: "debug", Handler: func(*bridge.Context) (any, error) { return "debug", nil }},
		},
	}
	gon := c.goNode("go", nil, bridge.Service{
		Name: "mixed", Version: 2, Mixins: []bridge.Service{base},
		Settings: map[string]any{"page": 20.0, "db": map[string]any{"port": 2.0}},
		Metadata: map[string]any{"tier": 2.0},
		Actions: []bridge.Action{
			{Name: "list", Params: bridge.Schema{"sort": "string|optional"}},
			{Name: "debug", Disabled: true},
		},
	})
	js := c.jsNode("js", "jspeer")
	waitJSSees(t, gon, js.NodeID, "v2.mixed.list", gon.NodeID())
	var svc map[string]any
	for _, x := range asList(t, callOn(t, gon, js.NodeID, "$node.services", map[string]any{"withActions": true})) {
		if s := asMap(t, x); s["fullName"] == "v2.mixed" {
			svc = s
		}
	}
	if svc == nil {
		t.Fatal("JS does not list v2.mixed")
	}
	mustEqual(t, "settings", svc["settings"], map[string]any{"page": 20.0, "db": map[string]any{"host": "h", "port": 2.0}})
	mustEqual(t, "metadata", svc["metadata"], map[string]any{"region": "eu", "tier": 2.0})
	actions := asMap(t, svc["actions"])
	mustEqual(t, "actions", keysOf(actions), []string{"v2.mixed.list"})
	mustEqual(t, "params", asMap(t, actions["v2.mixed.list"])["params"],
		map[string]any{"page": "number|optional", "sort": "string|optional"})
	mustEqual(t, "JS's call", captured(t, brokerCapture(t, gon, js.NodeID, "v2.mixed.list", map[string]any{"page": 1}, nil)), "list")
}
