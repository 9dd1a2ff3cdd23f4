package live

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/protocol"
)

// errorCases are errors jspeer.fail can throw.
var errorCases = []map[string]any{
	{"name": "MoleculerClientError", "message": "Bad thing", "code": 422.0, "type": "BAD", "data": map[string]any{"x": 1.0, "list": []any{"a", nil, 2.5}}},
	{"name": "MoleculerRetryableError", "message": "try later ✓", "code": 503.0, "type": "LATER", "data": map[string]any{"n": 1.0}},
	{"name": "MoleculerError", "message": "teapot", "code": 418.0, "type": "TEAPOT", "data": "a string", "retryable": true},
	{"name": "MoleculerError", "message": "no code, no type"},
	{"name": "MoleculerClientError", "message": "array data", "code": 400.0, "data": []any{1.0, map[string]any{}}},
}

// Acceptance 3: errors thrown by JS reach a Go caller with every field; a
// JS caller sees the same fields.
func TestErrorsFromJSToGo(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	b := c.jsNode("jsb", "jspeer")
	waitGoSees(t, g, a.NodeID, "jspeer")
	waitGoSees(t, g, b.NodeID, "jspeer")
	waitJSSees(t, g, b.NodeID, "jspeer.fail", a.NodeID)
	ctx, cancel := callCtx()
	defer cancel()
	for _, p := range errorCases {
		_, err := g.Call(ctx, "jspeer.fail", p, bridge.WithNodeID(a.NodeID))
		if err == nil {
			t.Fatalf("jspeer.fail %v succeeded", p)
		}
		got := errorFields(t, err)
		ref := capturedErr(t, capture(t, g, b.NodeID, "jspeer.fail", p, map[string]any{"nodeID": a.NodeID}))
		mustEqual(t, p["message"].(string)+": Go caller vs JS caller", got, ref)
		if got["nodeID"] != a.NodeID {
			t.Errorf("nodeID = %v, want %s", got["nodeID"], a.NodeID)
		}
	}
	// errors.Is works on the sentinels by name.
	_, err := g.Call(ctx, "jspeer.fail", errorCases[0], bridge.WithNodeID(a.NodeID))
	if !errors.Is(err, bridge.ErrClient) {
		t.Errorf("errors.Is(%v, ErrClient) = false", err)
	}
}

// Acceptance 3: errors returned by Go actions reach JS callers with every
// field, as a JS action's errors do.
func TestErrorsFromGoToJS(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	b := c.jsNode("jsb", "jspeer")
	waitGoSees(t, g, b.NodeID, "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.fail", g.NodeID())
	waitJSSees(t, g, a.NodeID, "jspeer.fail", b.NodeID)
	for _, p := range errorCases {
		fromGo := capturedErr(t, capture(t, g, a.NodeID, "goecho.fail", p, nil))
		fromJS := capturedErr(t, capture(t, g, a.NodeID, "jspeer.fail", p, map[string]any{"nodeID": b.NodeID}))
		mustEqual(t, p["message"].(string)+": nodeID", fromGo["nodeID"], g.NodeID())
		mustEqual(t, p["message"].(string)+": Go error vs JS error", withoutKeys(fromGo, "nodeID"), withoutKeys(fromJS, "nodeID"))
	}
	// A custom error class: JS rebuilds it as an Error with every field.
	custom := map[string]any{"name": "MyError", "message": "custom class", "code": 418.0, "type": "TEAPOT", "data": map[string]any{"x": 1.0}, "retryable": true}
	got := capturedErr(t, capture(t, g, a.NodeID, "goecho.fail", custom, nil))
	want := map[string]any{}
	for k, v := range custom {
		want[k] = v
	}
	want["nodeID"] = g.NodeID()
	mustEqual(t, "custom error", got, want)
	// A plain Go error keeps its message and node.
	got = capturedErr(t, capture(t, g, a.NodeID, "goecho.failPlain", nil, nil))
	mustEqual(t, "plain Go error", map[string]any{"message": got["message"], "nodeID": got["nodeID"]},
		map[string]any{"message": "plain go failure", "nodeID": g.NodeID()})

	// Validation errors of a Go action look like a JS action's.
	fromGo := capturedErr(t, capture(t, g, a.NodeID, "goecho.add", map[string]any{"a": "x"}, nil))
	fromJS := capturedErr(t, capture(t, g, a.NodeID, "jspeer.add", map[string]any{"a": "x"}, map[string]any{"nodeID": b.NodeID}))
	fixAction := func(e map[string]any) map[string]any {
		b, _ := json.Marshal(withoutKeys(e, "nodeID"))
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		for _, it := range asList(t, out["data"]) {
			delete(asMap(t, it), "action")
		}
		return out
	}
	mustEqual(t, "validation error: Go vs JS", fixAction(fromGo), fixAction(fromJS))
	for _, it := range asList(t, fromGo["data"]) {
		mustEqual(t, "validation item action", asMap(t, it)["action"], "goecho.add")
		mustEqual(t, "validation item nodeID (the caller)", asMap(t, it)["nodeID"], a.NodeID)
	}
}

// Acceptance 3: a JS error thrown through a Go action reaches the JS caller
// unchanged, as through a JS action.
func TestJSErrorThroughGoAction(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	b := c.jsNode("jsb", "jspeer")
	waitGoSees(t, g, b.NodeID, "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.relay", g.NodeID())
	waitJSSees(t, g, a.NodeID, "jspeer.call", b.NodeID)
	// Through JS, b calls a: b must know a's actions too (on TCP each node
	// learns each other node through gossip of its own).
	waitJSSees(t, g, b.NodeID, "jspeer.fail", a.NodeID)
	for _, p := range errorCases {
		viaGo := capturedErr(t, capture(t, g, a.NodeID, "goecho.relay",
			map[string]any{"action": "jspeer.fail", "params": p, "nodeID": a.NodeID}, nil))
		viaJS := capturedErr(t, capture(t, g, a.NodeID, "jspeer.call",
			map[string]any{"action": "jspeer.fail", "params": p, "opts": map[string]any{"nodeID": a.NodeID}},
			map[string]any{"nodeID": b.NodeID}))
		mustEqual(t, p["message"].(string)+": through Go vs through JS", viaGo, viaJS)
		mustEqual(t, p["message"].(string)+": nodeID is the thrower", viaGo["nodeID"], a.NodeID)
	}
}

// Acceptance 3: calling a missing action fails as in JS: never registered →
// ServiceNotFoundError, its only node gone → ServiceNotAvailableError, a
// named node without it → ServiceNotFoundError with the node.
func TestMissingActionErrors(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	gone := c.jsNode("gone", "shared")
	waitGoSees(t, g, gone.NodeID, "shared")
	waitJSSees(t, g, a.NodeID, "shared.whoami", gone.NodeID)
	waitJSSees(t, g, a.NodeID, "goecho.echo", g.NodeID())
	ctx, cancel := callCtx()
	defer cancel()

	goErr := func(action string, opts ...bridge.CallOption) map[string]any {
		t.Helper()
		_, err := g.Call(ctx, action, nil, opts...)
		if err == nil {
			t.Fatalf("Go call of %s succeeded", action)
		}
		return errorFields(t, err)
	}

	// Never registered.
	wantNF := map[string]any{"name": "ServiceNotFoundError", "message": "Service 'nope.nope' is not found.", "code": 404.0,
		"type": "SERVICE_NOT_FOUND", "retryable": true, "data": map[string]any{"action": "nope.nope"}}
	mustEqual(t, "JS root call of a never-registered action (reference)", capturedErr(t, brokerCapture(t, g, a.NodeID, "nope.nope", nil, nil)), wantNF)
	mustEqual(t, "Go call of a never-registered action", goErr("nope.nope"), wantNF)

	// Its only node went away.
	if err := gone.Stop(); err != nil {
		t.Fatalf("stopping %s: %v", gone.NodeID, err)
	}
	eventually(t, 5*time.Second, "Go to drop shared.whoami", func() bool {
		_, err := g.Call(ctx, "shared.whoami", nil)
		return err != nil
	})
	eventually(t, 5*time.Second, "JS to drop shared.whoami", func() bool {
		return len(jsEndpoints(t, g, a.NodeID, "shared.whoami")) == 0
	})
	wantNA := map[string]any{"name": "ServiceNotAvailableError", "message": "Service 'shared.whoami' is not available.", "code": 404.0,
		"type": "SERVICE_NOT_AVAILABLE", "retryable": true, "data": map[string]any{"action": "shared.whoami"}}
	mustEqual(t, "JS call of an action whose node left (reference)", capturedErr(t, brokerCapture(t, g, a.NodeID, "shared.whoami", nil, nil)), wantNA)
	mustEqual(t, "Go call of an action whose node left", goErr("shared.whoami"), wantNA)
	mustEqual(t, "JS child call of an action whose node left (reference)", capturedErr(t, capture(t, g, a.NodeID, "shared.whoami", nil, nil)), wantNA)
	// Through a Go action: the error gets the Go node as its origin, as a
	// JS responder fills in its own nodeID.
	viaGo := capturedErr(t, capture(t, g, a.NodeID, "goecho.relay", map[string]any{"action": "shared.whoami"}, nil))
	wantVia := withoutKeys(wantNA)
	wantVia["nodeID"] = g.NodeID()
	mustEqual(t, "JS → Go → action whose node left", viaGo, wantVia)

	// Naming a node that does not have the action.
	wantOn := func(action, node string) map[string]any {
		return map[string]any{"name": "ServiceNotFoundError", "message": "Service '" + action + "' is not found on '" + node + "' node.",
			"code": 404.0, "type": "SERVICE_NOT_FOUND", "retryable": true, "data": map[string]any{"action": action, "nodeID": node}}
	}
	mustEqual(t, "JS call naming the departed node (reference)",
		capturedErr(t, brokerCapture(t, g, a.NodeID, "shared.whoami", nil, map[string]any{"nodeID": gone.NodeID})), wantOn("shared.whoami", gone.NodeID))
	mustEqual(t, "Go call naming the departed node", goErr("shared.whoami", bridge.WithNodeID(gone.NodeID)), wantOn("shared.whoami", gone.NodeID))
	mustEqual(t, "Go call naming a node without the action", goErr("jspeer.echo", bridge.WithNodeID(g.NodeID())), wantOn("jspeer.echo", g.NodeID()))
	// A JS caller naming the Go node for an action the Go node lacks.
	for _, action := range []string{"nope.nope", "jspeer.echo", "shared.whoami"} {
		mustEqual(t, "JS caller naming the Go node for "+action,
			capturedErr(t, capture(t, g, a.NodeID, action, nil, map[string]any{"nodeID": g.NodeID()})), wantOn(action, g.NodeID()))
	}
}

// Acceptance 3: a REQ for an action the Go node lacks (as a JS caller with
// a stale registry sends it) is answered like JS answers it:
// ServiceNotFoundError {action, nodeID} from the receiver, with the
// request's meta.
func TestRequestForMissingActionAnswered(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.echo", g.NodeID())
	if !cfg.canInject() {
		notApplicable(t, "a REQ from a caller with a stale registry", whyNoInject)
		return
	}
	stale := "stale-" + c.ns[3:]
	res := c.sniff(protocol.TargetedTopic(protocol.Response, stale), stale)
	link := c.rawLink(stale+"-tx", nil)
	// A JS node answers the same REQ the same way (reference).
	for _, target := range []string{g.NodeID(), a.NodeID} {
		req := map[string]any{"id": "r-" + target, "action": "only.elsewhere", "params": map[string]any{}, "meta": map[string]any{"m": 1.0},
			"timeout": 0.0, "level": 1.0, "tracing": nil, "parentID": nil, "requestID": "r-" + target, "caller": nil, "stream": false,
			"ver": "4", "sender": stale}
		if err := link.publish(protocol.TargetedTopic(protocol.Request, target), req); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "both answers", func() bool { return len(res.packets()) == 2 })
	answers := map[string]map[string]any{}
	for _, p := range res.packets() {
		answers[p["sender"].(string)] = p
	}
	want := func(node string) map[string]any {
		return map[string]any{"id": "r-" + node, "meta": map[string]any{"m": 1.0}, "success": false, "data": nil, "ver": "4", "sender": node,
			"error": map[string]any{"name": "ServiceNotFoundError", "message": "Service 'only.elsewhere' is not found on '" + node + "' node.",
				"nodeID": node, "code": 404.0, "type": "SERVICE_NOT_FOUND", "retryable": true,
				"data": map[string]any{"action": "only.elsewhere", "nodeID": node}}}
	}
	clean := func(p map[string]any) map[string]any {
		out := withoutKeys(p, "$subject")
		if e, ok := out["error"].(map[string]any); ok {
			out["error"] = withoutKeys(e, "stack")
		}
		return out
	}
	mustEqual(t, "JS answer (reference)", clean(answers[a.NodeID]), want(a.NodeID))
	mustEqual(t, "Go answer", clean(answers[g.NodeID()]), want(g.NodeID()))
}
