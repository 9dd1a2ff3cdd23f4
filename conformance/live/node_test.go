package live

import (
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
)

// Acceptance 1: a JS node's $node service shows the Go node and its
// services.
func TestJSNodeServiceShowsGoNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service(), versionedService)
	a := c.jsNode("jsa", "jspeer")
	waitJSSees(t, g, a.NodeID, "v2.greeter.hello", g.NodeID())
	waitJSSees(t, g, a.NodeID, "goecho.echo", g.NodeID())

	// $node.list: the Go node is available, remote, a "go" client.
	var goItem map[string]any
	for _, x := range asList(t, callOn(t, g, a.NodeID, "$node.list", nil)) {
		if n := asMap(t, x); n["id"] == g.NodeID() {
			goItem = n
		}
	}
	if goItem == nil {
		t.Fatalf("JS $node.list does not list the Go node %s", g.NodeID())
	}
	mustEqual(t, "Go node available", goItem["available"], true)
	mustEqual(t, "Go node local", goItem["local"], false)
	mustEqual(t, "Go node instanceID", goItem["instanceID"], g.InstanceID())
	mustEqual(t, "Go node client", goItem["client"], map[string]any{
		"type": "go", "version": bridge.Version, "langVersion": runtime.Version()})

	// $node.services: full names, the versioned one as v2.greeter, with
	// its actions under full names and its secure settings hidden.
	services := map[string]map[string]any{}
	for _, x := range asList(t, callOn(t, g, a.NodeID, "$node.services",
		map[string]any{"withActions": true, "withEvents": true})) {
		s := asMap(t, x)
		services[s["fullName"].(string)] = s
	}
	gr := services["v2.greeter"]
	if gr == nil {
		t.Fatalf("JS $node.services has no v2.greeter: %s", jsonString(keysOf(anyMap(services))))
	}
	mustEqual(t, "v2.greeter name", gr["name"], "greeter")
	mustEqual(t, "v2.greeter version", gr["version"], 2.0)
	mustEqual(t, "v2.greeter nodes", gr["nodes"], []any{g.NodeID()})
	mustEqual(t, "v2.greeter settings", gr["settings"], map[string]any{"a": 1.0})
	mustEqual(t, "v2.greeter metadata", gr["metadata"], map[string]any{"scalable": true})
	mustEqual(t, "v2.greeter actions", asMap(t, gr["actions"]), map[string]any{
		"v2.greeter.hello": map[string]any{"params": map[string]any{"name": "string"}, "rawName": "hello", "name": "v2.greeter.hello"},
	})
	mustEqual(t, "v2.greeter events", asMap(t, gr["events"]), map[string]any{
		"greeter.said": map[string]any{"name": "greeter.said"},
		"greeter.*":    map[string]any{"name": "greeter.*", "group": "greeters"},
	})
	ge := services["goecho"]
	if ge == nil {
		t.Fatal("JS $node.services has no goecho")
	}
	if _, ok := ge["version"]; ok {
		t.Errorf("unversioned goecho has a version: %v", ge["version"])
	}
	for _, name := range []string{"goecho.echo", "goecho.relay", "goecho.undef", "goecho.nul"} {
		if _, ok := asMap(t, ge["actions"])[name]; !ok {
			t.Errorf("goecho lacks action %s in JS $node.services: %s", name, jsonString(keysOf(asMap(t, ge["actions"]))))
		}
	}
	if nodes := asList(t, services["$node"]["nodes"]); !slices.Contains(nodes, any(g.NodeID())) {
		t.Errorf("$node service nodes %v lack the Go node", nodes)
	}

	// $node.actions / $node.events: the Go endpoints are registered.
	found := false
	for _, x := range asList(t, callOn(t, g, a.NodeID, "$node.actions", map[string]any{"withEndpoints": true})) {
		it := asMap(t, x)
		if it["name"] == "v2.greeter.hello" {
			found = true
			mustEqual(t, "v2.greeter.hello count", it["count"], 1.0)
			mustEqual(t, "v2.greeter.hello available", it["available"], true)
			mustEqual(t, "v2.greeter.hello endpoints", it["endpoints"], []any{
				map[string]any{"nodeID": g.NodeID(), "state": true, "available": true}})
		}
	}
	if !found {
		t.Error("JS $node.actions lacks v2.greeter.hello")
	}
	groups := map[string]string{}
	for _, x := range asList(t, callOn(t, g, a.NodeID, "$node.events", nil)) {
		it := asMap(t, x)
		if n, _ := it["name"].(string); n == "greeter.said" || n == "greeter.*" {
			groups[n] = it["group"].(string)
		}
	}
	mustEqual(t, "JS event groups of the Go events", groups, map[string]string{"greeter.said": "greeter", "greeter.*": "greeters"})

	// Heartbeats carry the Go node's CPU usage to JS.
	eventually(t, 5*time.Second, "JS to get the Go node's cpu", func() bool {
		for _, x := range asList(t, callOn(t, g, a.NodeID, "$node.list", nil)) {
			if n := asMap(t, x); n["id"] == g.NodeID() {
				_, cpu := n["cpu"].(float64)
				_, cpuSeq := n["cpuSeq"].(float64)
				return cpu && cpuSeq
			}
		}
		return false
	})

	// A service added to the running Go node is announced (new seq) and
	// JS registers it.
	if err := g.AddService(bridge.Service{Name: "late", Actions: []bridge.Action{
		{Name: "hi", Handler: func(*bridge.Context) (any, error) { return "hi", nil }},
	}}); err != nil {
		t.Fatal(err)
	}
	waitJSSees(t, g, a.NodeID, "late.hi", g.NodeID())
	mustEqual(t, "JS → late Go service", captured(t, capture(t, g, a.NodeID, "late.hi", nil, nil)), "hi")
}

func anyMap[V any](m map[string]V) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Acceptance 1: the Go node's $node actions answer JS callers with the
// shapes a JS node's $node actions have. The same JS caller asks the Go node
// and a JS node of the same cluster; both answers must agree.
func TestGoNodeServiceAnswersJSCallers(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service(), versionedService)
	a := c.jsNode("jsa", "jspeer")
	b := c.jsNode("jsb", "shared")
	waitGoSees(t, g, a.NodeID, "jspeer")
	waitGoSees(t, g, b.NodeID, "shared")
	waitJSSees(t, g, a.NodeID, "goecho.echo", g.NodeID())
	waitJSSees(t, g, a.NodeID, "shared.whoami", b.NodeID)
	// b must know a and g too, and the two answering nodes must agree on
	// what they know of every node (two JS nodes need not agree at every
	// moment either: on TCP each learns each node by gossip of its own).
	eventually(t, 15*time.Second, "jsb to see every node", func() bool {
		r := capture(t, g, a.NodeID, "$node.services", nil, map[string]any{"nodeID": b.NodeID})
		for _, x := range asList(t, captured(t, r)) {
			if s := asMap(t, x); s["fullName"] == "v2.greeter" {
				return true
			}
		}
		return false
	})
	eventually(t, 15*time.Second, "the Go node and jsb to agree on every node", func() bool {
		view := func(node string) string {
			r := capture(t, g, a.NodeID, "$node.list", nil, map[string]any{"nodeID": node})
			out := map[string]any{}
			for _, x := range asList(t, captured(t, r)) {
				n := asMap(t, x)
				out[n["id"].(string)] = []any{n["available"], n["seq"], n["instanceID"]}
			}
			return jsonString(out)
		}
		gv, bv := view(g.NodeID()), view(b.NodeID)
		return gv == bv && strings.Count(gv, `[true,`) == 3
	})

	ask := func(t *testing.T, action string, params map[string]any) (goAns, jsAns any) {
		t.Helper()
		var p any
		if params != nil {
			p = params
		}
		goAns = captured(t, capture(t, g, a.NodeID, action, p, map[string]any{"nodeID": g.NodeID()}))
		jsAns = captured(t, capture(t, g, a.NodeID, action, p, map[string]any{"nodeID": b.NodeID}))
		return
	}

	t.Run("list", func(t *testing.T) {
		for _, params := range []map[string]any{nil, {"onlyAvailable": true}} {
			goAns, jsAns := ask(t, "$node.list", params)
			goItems, jsItems := byKey(t, goAns, "id"), byKey(t, jsAns, "id")
			mustEqual(t, "node IDs", keysOf(goItems), keysOf(jsItems))
			// Local items answer for themselves; remote ones for the others.
			mustEqual(t, "local item keys", keysOf(goItems[g.NodeID()]), keysOf(jsItems[b.NodeID]))
			mustEqual(t, "remote item keys (the JS caller)", keysOf(goItems[a.NodeID]), keysOf(jsItems[a.NodeID]))
			mustEqual(t, "remote item keys (the other)", keysOf(goItems[b.NodeID]), keysOf(jsItems[g.NodeID()]))
			for _, id := range keysOf(goItems) {
				gi, ji := goItems[id], jsItems[id]
				for _, k := range []string{"available", "instanceID", "client", "metadata", "ipList", "hostname", "config", "offlineSince", "seq"} {
					mustEqual(t, "node "+id+" "+k, gi[k], ji[k])
				}
				mustEqual(t, "node "+id+" local", gi["local"], id == g.NodeID())
			}
			// The local node comes first.
			mustEqual(t, "first item of the Go answer", asMap(t, asList(t, goAns)[0])["id"], g.NodeID())
			mustEqual(t, "first item of the JS answer (reference)", asMap(t, asList(t, jsAns)[0])["id"], b.NodeID)
			if goItems[g.NodeID()]["port"] != nil {
				t.Errorf("local port = %v, want null", goItems[g.NodeID()]["port"])
			}
		}
	})

	t.Run("services", func(t *testing.T) {
		for _, params := range []map[string]any{
			nil,
			{"withActions": true, "withEvents": true},
			{"skipInternal": true, "withActions": true},
			{"onlyAvailable": true, "grouping": true},
		} {
			goAns, jsAns := ask(t, "$node.services", params)
			goItems, jsItems := byKey(t, goAns, "fullName"), byKey(t, jsAns, "fullName")
			mustEqual(t, jsonString(params)+" full names", keysOf(goItems), keysOf(jsItems))
			for _, name := range keysOf(goItems) {
				gi, ji := goItems[name], jsItems[name]
				if ji == nil {
					continue
				}
				mustEqual(t, jsonString(params)+" "+name+" keys", keysOf(gi), keysOf(ji))
				mustEqual(t, jsonString(params)+" "+name+" nodes", sortedStrings(gi["nodes"]), sortedStrings(ji["nodes"]))
				for _, k := range []string{"name", "version", "available", "settings", "metadata"} {
					mustEqual(t, jsonString(params)+" "+name+" "+k, gi[k], ji[k])
				}
				if gi["actions"] != nil {
					mustEqual(t, jsonString(params)+" "+name+" action names", keysOf(asMap(t, gi["actions"])), keysOf(asMap(t, ji["actions"])))
				}
				if gi["events"] != nil {
					mustEqual(t, jsonString(params)+" "+name+" event names", keysOf(asMap(t, gi["events"])), keysOf(asMap(t, ji["events"])))
				}
			}
		}
		// Not grouped: one item per (service, node), with nodeID.
		goAns, jsAns := ask(t, "$node.services", map[string]any{"grouping": false})
		mustEqual(t, "ungrouped items", serviceNodePairs(t, goAns), serviceNodePairs(t, jsAns))
		mustEqual(t, "ungrouped item keys", keysOf(asMap(t, asList(t, goAns)[0])), keysOf(asMap(t, asList(t, jsAns)[0])))
		// Only local: each node answers for itself.
		goAns, jsAns = ask(t, "$node.services", map[string]any{"onlyLocal": true})
		gl, jl := byKey(t, goAns, "fullName"), byKey(t, jsAns, "fullName")
		mustEqual(t, "Go onlyLocal services", keysOf(gl), []string{"$node", "goecho", "v2.greeter"})
		mustEqual(t, "onlyLocal $node item keys", keysOf(gl["$node"]), keysOf(jl["$node"]))
	})

	t.Run("actions", func(t *testing.T) {
		for _, params := range []map[string]any{nil, {"withEndpoints": true}, {"skipInternal": true, "onlyAvailable": true}} {
			goAns, jsAns := ask(t, "$node.actions", params)
			goItems, jsItems := byKey(t, goAns, "name"), byKey(t, jsAns, "name")
			mustEqual(t, jsonString(params)+" action names", keysOf(goItems), keysOf(jsItems))
			for _, name := range keysOf(goItems) {
				gi, ji := goItems[name], jsItems[name]
				if ji == nil {
					continue
				}
				mustEqual(t, jsonString(params)+" "+name+" keys", keysOf(gi), keysOf(ji))
				mustEqual(t, jsonString(params)+" "+name+" count", gi["count"], ji["count"])
				mustEqual(t, jsonString(params)+" "+name+" available", gi["available"], ji["available"])
				if gi["endpoints"] != nil {
					mustEqual(t, name+" endpoint nodes", endpointNodes(t, gi["endpoints"]), endpointNodes(t, ji["endpoints"]))
				}
				if gi["action"] != nil && ji["action"] != nil {
					mustEqual(t, name+" action descriptor", gi["action"], ji["action"])
				}
			}
		}
	})

	t.Run("events", func(t *testing.T) {
		for _, params := range []map[string]any{nil, {"withEndpoints": true}} {
			goAns, jsAns := ask(t, "$node.events", params)
			key := func(x any) string { m := asMap(t, x); return m["name"].(string) + "|" + m["group"].(string) }
			goItems, jsItems := map[string]map[string]any{}, map[string]map[string]any{}
			for _, x := range asList(t, goAns) {
				goItems[key(x)] = asMap(t, x)
			}
			for _, x := range asList(t, jsAns) {
				jsItems[key(x)] = asMap(t, x)
			}
			mustEqual(t, jsonString(params)+" event lists", keysOf(anyMap(goItems)), keysOf(anyMap(jsItems)))
			for k, gi := range goItems {
				ji := jsItems[k]
				if ji == nil {
					continue
				}
				mustEqual(t, k+" keys", keysOf(gi), keysOf(ji))
				mustEqual(t, k+" count", gi["count"], ji["count"])
				mustEqual(t, k+" event", gi["event"], ji["event"])
				if gi["endpoints"] != nil {
					mustEqual(t, k+" endpoint nodes", endpointNodes(t, gi["endpoints"]), endpointNodes(t, ji["endpoints"]))
				}
			}
		}
	})

	t.Run("health", func(t *testing.T) {
		goAns, jsAns := ask(t, "$node.health", nil)
		gh, jh := asMap(t, goAns), asMap(t, jsAns)
		mustEqual(t, "health keys", keysOf(gh), keysOf(jh))
		for _, k := range keysOf(jh) {
			jm, ok := jh[k].(map[string]any)
			if !ok {
				continue
			}
			gm, ok := gh[k].(map[string]any)
			if !ok {
				t.Errorf("health %s: got %s, want an object", k, jsonString(gh[k]))
				continue
			}
			mustEqual(t, "health "+k+" keys", keysOf(gm), keysOf(jm))
			for _, k2 := range keysOf(jm) {
				if jm2, ok := jm[k2].(map[string]any); ok {
					gm2, _ := gm[k2].(map[string]any)
					mustEqual(t, "health "+k+"."+k2+" keys", keysOf(gm2), keysOf(jm2))
				}
				mustEqual(t, "health "+k+"."+k2+" JSON type", jsonKind(gm[k2]), jsonKind(jm[k2]))
			}
		}
		mustEqual(t, "health client", gh["client"], map[string]any{"type": "go", "version": bridge.Version, "langVersion": runtime.Version()})
	})
}

func jsonKind(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// byKey indexes a list of objects by one of their fields.
func byKey(t *testing.T, list any, key string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, x := range asList(t, list) {
		m := asMap(t, x)
		k, _ := m[key].(string)
		if _, dup := out[k]; dup {
			t.Errorf("duplicate %s %q in %s", key, k, jsonString(list))
		}
		out[k] = m
	}
	return out
}

func sortedStrings(x any) []string {
	l, _ := x.([]any)
	var out []string
	for _, v := range l {
		s, _ := v.(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func endpointNodes(t *testing.T, x any) []string {
	var out []string
	for _, e := range asList(t, x) {
		out = append(out, asMap(t, e)["nodeID"].(string))
	}
	sort.Strings(out)
	return out
}

func serviceNodePairs(t *testing.T, x any) []string {
	var out []string
	for _, e := range asList(t, x) {
		m := asMap(t, e)
		out = append(out, m["fullName"].(string)+"@"+m["nodeID"].(string))
	}
	sort.Strings(out)
	return out
}
