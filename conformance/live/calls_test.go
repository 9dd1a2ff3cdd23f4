package live

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/protocol"
)

// jsonKinds are params of every JSON kind.
func jsonKinds() map[string]any {
	all := map[string]any{
		"unicode":  "héllo wörld — 世界 🚀 \u0000\u001f \"quoted\" \\ back\nline\ttab \u2028\u2029",
		"maxSafe":  9007199254740991.0,
		"minSafe":  -9007199254740991.0,
		"neg":      -42.0,
		"zero":     0.0,
		"float":    3.14159,
		"negFloat": -0.5,
		"tiny":     1e-7,
		"huge":     1.5e300,
		"inexact":  0.1 + 0.2,
		"true":     true,
		"false":    false,
		"null":     nil,
		"empty":    "",
		"emptyObj": map[string]any{},
		"emptyArr": []any{},
		"nested": map[string]any{"a": map[string]any{"b": map[string]any{"c": []any{1.0, []any{2.0, []any{3.0, map[string]any{}}}}}},
			"arr": []any{1.0, "two", nil, true, map[string]any{"k": nil}, []any{}}},
		"keys with.dots and spaces": map[string]any{"": "empty key", "ключ": "значение"},
	}
	kinds := map[string]any{"object": all}
	for k, v := range all {
		kinds["top "+k] = map[string]any{"v": v}
	}
	// Top-level params that are not objects.
	kinds["string"] = "just a string ✓"
	kinds["number"] = 9007199254740991.0
	kinds["negative"] = -1.25
	kinds["array"] = []any{1.0, "x", nil, map[string]any{"y": []any{}}}
	kinds["emptyObject"] = map[string]any{}
	kinds["emptyArray"] = []any{}
	kinds["bool"] = false
	return kinds
}

// Acceptance 2: params of every JSON kind cross unchanged, both ways, as
// they do between two JS nodes.
func TestParamsOfEveryKindRoundTrip(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	b := c.jsNode("jsb", "jspeer")
	waitGoSees(t, g, b.NodeID, "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.echo", g.NodeID())
	waitJSSees(t, g, a.NodeID, "jspeer.echo", b.NodeID)

	kinds := jsonKinds()
	kinds["null"] = bridge.Null
	for name, v := range kinds {
		want := normalize(t, v)
		// The same chain between JS nodes is the reference. JSON carries
		// every kind unchanged; another serializer may change a value
		// between JS nodes too (notepack.io writes 1.5e+300 as 0): then
		// Go must change it the same way.
		ref := asMap(t, captured(t, capture(t, g, a.NodeID, "jspeer.echo", v, map[string]any{"nodeID": b.NodeID})))["params"]
		if strings.EqualFold(cfg.Serializer, "JSON") {
			mustEqual(t, name+": JS→JS params (reference)", ref, want)
		} else if !reflect.DeepEqual(ref, want) {
			t.Logf("%s: %s changes these params between JS nodes: sent %s, JS got %s; that is the reference", name, cfg.Serializer, jsonString(want), jsonString(ref))
			want = ref
		}
		// Go → JS: the JS echo returns what it got.
		got := asMap(t, callOn(t, g, a.NodeID, "jspeer.echo", v))
		mustEqual(t, name+": Go→JS params", got["params"], want)
		// JS → Go (and back to Go through JS).
		got = asMap(t, captured(t, capture(t, g, a.NodeID, "goecho.echo", v, nil)))
		mustEqual(t, name+": JS→Go params", got["params"], want)
		// Results too: the Go action returns its params as its result.
		res := captured(t, capture(t, g, a.NodeID, "goecho.raw", v, nil))
		mustEqual(t, name+": Go result to JS", res, want)
	}
	// No params: JS turns undefined into {}; Go does too.
	got := asMap(t, callOn(t, g, a.NodeID, "jspeer.echo", nil))
	mustEqual(t, "Go→JS undefined params", got["params"], map[string]any{})
	got = asMap(t, captured(t, capture(t, g, a.NodeID, "goecho.echo", nil, nil)))
	mustEqual(t, "JS→Go undefined params", got["params"], map[string]any{})
}

// Acceptance 2: meta reaches the callee, the callee's changes reach the
// caller, on root and child calls, as between JS nodes.
func TestMetaPropagation(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	b := c.jsNode("jsb", "jspeer")
	waitGoSees(t, g, b.NodeID, "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.echo", g.NodeID())
	waitJSSees(t, g, a.NodeID, "jspeer.echo", b.NodeID)

	// Root call Go → JS: the map passed as meta is the context's meta; the
	// callee's changes are merged into it.
	meta := bridge.Meta{"a": 1.0, "s": "x", "o": map[string]any{"n": []any{1.0}}}
	sent := maps.Clone(meta)
	got := asMap(t, call(t, g, "jspeer.echo", nil, bridge.WithNodeID(a.NodeID), bridge.WithMeta(meta)))
	mustEqual(t, "meta seen by the JS callee", got["meta"], normalize(t, sent))
	mustEqual(t, "root meta after the call", normalize(t, meta), normalize(t, map[string]any{"a": 1.0, "s": "x", "o": map[string]any{"n": []any{1.0}}, "echoed": true}))

	// Child call Go → JS: ctx.Call merges the child's meta over the
	// parent's, and the callee's changes come back into ctx.Meta and, for a
	// local root call, into the caller's map.
	root := bridge.Meta{"a": 1.0}
	r := asMap(t, call(t, g, "goecho.relay", map[string]any{
		"action": "jspeer.echo", "params": map[string]any{}, "meta": map[string]any{"d": 4.0}, "nodeID": a.NodeID,
	}, bridge.WithMeta(root)))
	mustEqual(t, "child meta seen by the JS callee", asMap(t, r["result"])["meta"], map[string]any{"a": 1.0, "d": 4.0})
	mustEqual(t, "parent ctx.Meta after the child call", r["meta"], map[string]any{"a": 1.0, "d": 4.0, "echoed": true})
	mustEqual(t, "root meta after the chain", normalize(t, root), map[string]any{"a": 1.0, "d": 4.0, "echoed": true})

	// JS → Go child call, against JS → JS: identical meta flows.
	run := func(action string, opts map[string]any) (capt map[string]any, rootAfter any) {
		m := bridge.Meta{"a": 1.0}
		r := asMap(t, call(t, g, "jspeer.capture", map[string]any{"action": action, "params": map[string]any{}, "opts": opts},
			bridge.WithNodeID(a.NodeID), bridge.WithMeta(m)))
		return r, normalize(t, m)
	}
	jsR, jsRoot := run("jspeer.echo", map[string]any{"nodeID": b.NodeID, "meta": map[string]any{"d": 4.0}})
	goR, goRoot := run("goecho.echo", map[string]any{"meta": map[string]any{"d": 4.0}})
	mustEqual(t, "JS→JS callee meta (reference)", asMap(t, jsR["result"])["meta"], map[string]any{"a": 1.0, "d": 4.0})
	mustEqual(t, "JS→Go callee meta", asMap(t, goR["result"])["meta"], asMap(t, jsR["result"])["meta"])
	mustEqual(t, "JS capture meta after calling Go", goR["meta"], jsR["meta"])
	mustEqual(t, "Go root meta after JS→Go", goRoot, jsRoot)
	mustEqual(t, "Go root meta after JS→JS (reference)", jsRoot, map[string]any{"a": 1.0, "d": 4.0, "echoed": true})

	// A Go callee that never reads meta sends it back as it came, still
	// encoded: the JS caller's meta is what it sent, nested values and
	// unicode included.
	sentMeta := map[string]any{"d": "é😀", "o": map[string]any{"n": []any{1.0, nil, "x"}, "t": true}}
	pr, pRoot := run("goecho.slow", map[string]any{"meta": sentMeta})
	wantMeta := map[string]any{"a": 1.0, "d": "é😀", "o": map[string]any{"n": []any{1.0, nil, "x"}, "t": true}}
	mustEqual(t, "JS capture meta after a Go callee that did not read it", pr["meta"], wantMeta)
	mustEqual(t, "Go root meta after JS → Go callee that did not read it", pRoot, wantMeta)

	// Meta set by a failing callee still reaches the caller.
	fr, fRoot := run("goecho.metaFail", nil)
	mustEqual(t, "JS capture meta after a failing Go callee", fr["meta"], map[string]any{"a": 1.0, "failed": true})
	mustEqual(t, "Go root meta after a failing Go callee via JS", fRoot, map[string]any{"a": 1.0, "failed": true})
	ctx, cancel := callCtx()
	defer cancel()
	m := bridge.Meta{"a": 1.0}
	if _, err := g.Call(ctx, "jspeer.capture", map[string]any{"action": "goecho.metaFail"}, bridge.WithNodeID(a.NodeID), bridge.WithMeta(m)); err != nil {
		t.Fatal(err)
	}
	m2 := bridge.Meta{"z": 1.0}
	_, err := g.Call(ctx, "goecho.relay", map[string]any{"action": "jspeer.call", "nodeID": a.NodeID,
		"params": map[string]any{"action": "goecho.metaFail"}}, bridge.WithMeta(m2))
	if err == nil {
		t.Fatal("relay of a failing call succeeded")
	}
	mustEqual(t, "Go root meta after Go → JS → failing Go", normalize(t, m2), map[string]any{"z": 1.0, "failed": true})
}

// Acceptance 2: caller, level, requestID and parentID are what JS sets.
func TestContextFieldsMatchJS(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	b := c.jsNode("jsb", "jspeer")
	waitGoSees(t, g, b.NodeID, "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.echo", g.NodeID())
	waitJSSees(t, g, a.NodeID, "jspeer.echo", b.NodeID)
	// The parentID and ctx.ID checks read the REQ packets on the wire.
	var toA, toG *sniffer
	if cfg.canSniffOthers() {
		toA = c.sniffOther(protocol.TargetedTopic(protocol.Request, a.NodeID))
		toG = c.sniffOther(protocol.TargetedTopic(protocol.Request, g.NodeID()))
	} else {
		notApplicable(t, "checking parentID and the Go ctx.ID against the REQ packets on the wire", cfg.whyNoSniff())
	}

	// The REQ a Go root call sent to A, found by its request ID; nil
	// (unchecked) when the REQ cannot be seen.
	captureID := func(rid string) any {
		t.Helper()
		if toA == nil {
			return nil
		}
		var id string
		eventually(t, 5*time.Second, "the sniffed REQ "+rid, func() bool {
			if ps := toA.find("requestID", rid); len(ps) == 1 {
				id, _ = ps[0]["id"].(string)
				return true
			}
			return false
		})
		return id
	}

	// JS capture → echo: JS→JS (reference) and JS→Go.
	chain := func(rid, action string, opts map[string]any) map[string]any {
		r := asMap(t, call(t, g, "jspeer.capture", map[string]any{"action": action, "params": map[string]any{"x": 1.0}, "opts": opts},
			bridge.WithCallOptions(bridge.CallOptions{NodeID: a.NodeID, RequestID: rid})))
		return asMap(t, captured(t, r))
	}
	ridJS, ridGo := "rq-js-"+c.ns, "rq-go-"+c.ns
	jsEcho := chain(ridJS, "jspeer.echo", map[string]any{"nodeID": b.NodeID})
	goEcho := chain(ridGo, "goecho.echo", nil)
	want := func(rid string) map[string]any {
		return map[string]any{"caller": "jspeer", "level": 2.0, "requestID": rid, "parentID": captureID(rid)}
	}
	pick := func(m map[string]any) map[string]any {
		return map[string]any{"caller": m["caller"], "level": m["level"], "requestID": m["requestID"], "parentID": m["parentID"]}
	}
	// Without the wire, parentID is only checked to be set (the capture
	// context's ID, unknown here).
	pickSeen := func(m map[string]any) map[string]any {
		p := pick(m)
		if toA == nil {
			if id, _ := p["parentID"].(string); id == "" {
				t.Errorf("empty parentID in %s", jsonString(m))
			}
			p["parentID"] = nil
		}
		return p
	}
	mustEqual(t, "JS capture → JS echo (reference)", pickSeen(jsEcho), want(ridJS))
	mustEqual(t, "JS capture → Go echo", pickSeen(goEcho), want(ridGo))
	// The Go context's ID is the REQ's ID.
	if toG != nil {
		eventually(t, 5*time.Second, "the REQ to the Go node", func() bool { return len(toG.find("requestID", ridGo)) == 1 })
		mustEqual(t, "Go ctx.ID", goEcho["id"], toG.find("requestID", ridGo)[0]["id"])
	}

	// Go child call → JS echo: caller is the Go service, parentID the Go
	// context's ID, level 2, the request ID passed on.
	ridRelay := "rq-relay-" + c.ns
	r := asMap(t, call(t, g, "goecho.relay", map[string]any{"action": "jspeer.echo", "params": map[string]any{}, "nodeID": a.NodeID},
		bridge.WithCallOptions(bridge.CallOptions{RequestID: ridRelay})))
	mustEqual(t, "Go relay → JS echo", pick(asMap(t, r["result"])),
		map[string]any{"caller": "goecho", "level": 2.0, "requestID": ridRelay, "parentID": r["id"]})
	mustEqual(t, "Go relay ctx", map[string]any{"level": r["level"], "requestID": r["requestID"]},
		map[string]any{"level": 1.0, "requestID": ridRelay})

	// Root calls: level 1, no caller, no parent; the request ID is the
	// context's own ID unless given.
	// Avro, ProtoBuf and Thrift strings cannot be null: there JS reads a
	// root call's null caller and parentID back as "" (JS → JS included),
	// so "" counts as null.
	root := func(m map[string]any) map[string]any {
		p := withoutKeys(pick(m), "requestID")
		if !schemaless() {
			for _, k := range []string{"caller", "parentID"} {
				if p[k] == "" {
					p[k] = nil
				}
			}
		}
		return p
	}
	rootJS := asMap(t, captured(t, brokerCapture(t, g, a.NodeID, "jspeer.echo", nil, map[string]any{"nodeID": b.NodeID})))
	rootGo := asMap(t, captured(t, brokerCapture(t, g, a.NodeID, "goecho.echo", nil, nil)))
	for name, m := range map[string]map[string]any{"JS root → JS (reference)": rootJS, "JS root → Go": rootGo} {
		if rid, _ := m["requestID"].(string); rid == "" {
			t.Errorf("%s: empty requestID", name)
		}
		mustEqual(t, name, root(m), map[string]any{"caller": nil, "level": 1.0, "parentID": nil})
	}
	mustEqual(t, "JS root → Go: requestID is the ctx ID", rootGo["requestID"], rootGo["id"])
	fromGo := asMap(t, callOn(t, g, a.NodeID, "jspeer.echo", nil))
	mustEqual(t, "Go root → JS", root(fromGo), map[string]any{"caller": nil, "level": 1.0, "parentID": nil})
	if rid, _ := fromGo["requestID"].(string); rid == "" {
		t.Error("Go root → JS: empty requestID")
	}
}

// Acceptance 2: undefined stays undefined and null stays null, both ways.
func TestUndefinedAndNullResults(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	b := c.jsNode("jsb", "jspeer")
	waitGoSees(t, g, b.NodeID, "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.echo", g.NodeID())
	waitJSSees(t, g, a.NodeID, "jspeer.echo", b.NodeID)
	ctx, cancel := callCtx()
	defer cancel()

	// JS → Go.
	v, err := g.Call(ctx, "jspeer.undef", nil, bridge.WithNodeID(a.NodeID))
	if err != nil || !v.IsUndefined() {
		t.Errorf("Go calling jspeer.undef = %v, %v; want undefined", v, err)
	}
	v, err = g.Call(ctx, "jspeer.nul", nil, bridge.WithNodeID(a.NodeID))
	if err != nil || !v.IsNull() {
		t.Errorf("Go calling jspeer.nul = %v, %v; want null", v, err)
	}

	// Go → JS, compared with JS → JS.
	report := func(r map[string]any) map[string]any {
		_, has := r["result"]
		return map[string]any{"ok": r["ok"], "resultUndefined": r["resultUndefined"], "hasResult": has, "result": r["result"]}
	}
	jsUndef := report(capture(t, g, a.NodeID, "jspeer.undef", nil, map[string]any{"nodeID": b.NodeID}))
	goUndef := report(capture(t, g, a.NodeID, "goecho.undef", nil, nil))
	mustEqual(t, "JS→JS undefined (reference)", jsUndef, map[string]any{"ok": true, "resultUndefined": true, "hasResult": false, "result": nil})
	mustEqual(t, "JS→Go undefined", goUndef, jsUndef)
	jsNull := report(capture(t, g, a.NodeID, "jspeer.nul", nil, map[string]any{"nodeID": b.NodeID}))
	goNull := report(capture(t, g, a.NodeID, "goecho.nul", nil, nil))
	mustEqual(t, "JS→JS null (reference)", jsNull, map[string]any{"ok": true, "resultUndefined": false, "hasResult": true, "result": nil})
	mustEqual(t, "JS→Go null", goNull, jsNull)

	// Through a Go action that relays a JS result, and a JS one relaying Go.
	r := asMap(t, call(t, g, "goecho.relay", map[string]any{"action": "jspeer.undef", "nodeID": a.NodeID}))
	mustEqual(t, "Go relay of jspeer.undef", r["resultUndefined"], true)
	r = asMap(t, call(t, g, "goecho.relay", map[string]any{"action": "jspeer.nul", "nodeID": a.NodeID}))
	mustEqual(t, "Go relay of jspeer.nul", []any{r["resultUndefined"], r["result"]}, []any{false, nil})
	v, err = g.Call(ctx, "jspeer.call", map[string]any{"action": "goecho.undef"}, bridge.WithNodeID(a.NodeID))
	if err != nil || !v.IsUndefined() {
		t.Errorf("Go → jspeer.call → goecho.undef = %v, %v; want undefined", v, err)
	}
	v, err = g.Call(ctx, "jspeer.call", map[string]any{"action": "goecho.nul"}, bridge.WithNodeID(a.NodeID))
	if err != nil || !v.IsNull() {
		t.Errorf("Go → jspeer.call → goecho.nul = %v, %v; want null", v, err)
	}

	// Null params stay null, undefined params become {} (as JS sends them).
	mustEqual(t, "JS→Go null params", captured(t, capture(t, g, a.NodeID, "goecho.raw", bridge.Null, nil)), nil)
	got := asMap(t, callOn(t, g, a.NodeID, "jspeer.echo", bridge.Null))
	if p, has := got["params"]; !has || p != nil {
		t.Errorf("Go→JS null params arrived as %s", jsonString(got["params"]))
	}
}
