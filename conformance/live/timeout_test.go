package live

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/protocol"
)

// Acceptance 4: a JS caller's timeout on a slow Go action, and a Go caller's
// timeout on a slow JS action, give RequestTimeoutError in time.
func TestCallerTimeouts(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.slow", g.NodeID())

	// JS → slow Go action.
	r := capture(t, g, a.NodeID, "goecho.slow", map[string]any{"ms": 1500.0}, map[string]any{"timeout": 300.0})
	e := capturedErr(t, r)
	mustEqual(t, "JS caller timeout: error", withoutKeys(e, "message", "data", "nodeID"),
		map[string]any{"name": "RequestTimeoutError", "code": 504.0, "type": "REQUEST_TIMEOUT", "retryable": true})
	mustEqual(t, "JS caller timeout: data.action", asMap(t, e["data"])["action"], "goecho.slow")
	if ms := r["elapsedMs"].(float64); ms < 250 || ms > 1400 {
		t.Errorf("JS caller timed out after %.0f ms, want about 300", ms)
	}

	// An action's own timeout, published in INFO, is applied by JS callers
	// that set none (and by the Go receiver, which gets it in the REQ). A
	// root call: a child call would pass on its parent's remaining budget,
	// which takes precedence in JS.
	r = brokerCapture(t, g, a.NodeID, "goecho.slowT", map[string]any{"ms": 1500.0}, nil)
	mustEqual(t, "JS caller, Go action timeout: error", capturedErr(t, r)["name"], "RequestTimeoutError")
	if ms := r["elapsedMs"].(float64); ms < 250 || ms > 1400 {
		t.Errorf("JS caller timed out after %.0f ms, want about the action's 300", ms)
	}
	// And so does a Go caller without a deadline of its own.
	{
		t0 := time.Now()
		_, err := g.Call(context.Background(), "goecho.slowT", map[string]any{"ms": 1500.0})
		if !errors.Is(err, bridge.ErrRequestTimeout) || time.Since(t0) > 1400*time.Millisecond {
			t.Errorf("Go caller of an action with a timeout: %v after %v", err, time.Since(t0))
		}
	}

	// Go → slow JS action.
	ctx, cancel := callCtx()
	defer cancel()
	t0 := time.Now()
	_, err := g.Call(ctx, "jspeer.sleep", map[string]any{"ms": 1500}, bridge.WithNodeID(a.NodeID), bridge.WithTimeout(300*time.Millisecond))
	elapsed := time.Since(t0)
	if !errors.Is(err, bridge.ErrRequestTimeout) {
		t.Fatalf("Go caller timeout: err = %v, want RequestTimeoutError", err)
	}
	// Two timers race, as between JS nodes: the caller's own (data.nodeID
	// = the target) and the JS receiver's, which got the same budget
	// (data.nodeID = ctx.nodeID there = the caller).
	f := errorFields(t, err)
	timedOutOn, _ := asMap(t, f["data"])["nodeID"].(string)
	if timedOutOn != a.NodeID && timedOutOn != g.NodeID() {
		t.Errorf("timeout data.nodeID = %q", timedOutOn)
	}
	mustEqual(t, "Go caller timeout: error", withoutKeys(f, "nodeID"), map[string]any{
		"name": "RequestTimeoutError", "code": 504.0, "type": "REQUEST_TIMEOUT", "retryable": true,
		"message": "Request is timed out when call 'jspeer.sleep' action on '" + timedOutOn + "' node.",
		"data":    map[string]any{"action": "jspeer.sleep", "nodeID": timedOutOn}})
	if elapsed < 250*time.Millisecond || elapsed > 1400*time.Millisecond {
		t.Errorf("Go caller timed out after %v, want about 300ms", elapsed)
	}
	// A Go context deadline works the same way.
	dctx, dcancel := callCtx()
	defer dcancel()
	dctx2, dcancel2 := contextWithTimeout(dctx, 300*time.Millisecond)
	defer dcancel2()
	if _, err := g.Call(dctx2, "jspeer.sleep", map[string]any{"ms": 1500}, bridge.WithNodeID(a.NodeID)); !errors.Is(err, bridge.ErrRequestTimeout) {
		t.Errorf("Go caller with a context deadline: err = %v, want RequestTimeoutError", err)
	}
	// The late response does not disturb later calls.
	time.Sleep(300 * time.Millisecond)
	if got := callOn(t, g, a.NodeID, "jspeer.whoami", nil); got != a.NodeID {
		t.Errorf("whoami after a timeout = %v", got)
	}
}

// Acceptance 4: the distributed timeout. A Go action called with a budget
// passes on only what is left of it, and a JS action's remaining budget
// reaches a Go action as its context deadline.
func TestDistributedTimeout(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	echo := newGoEcho()
	g := c.goNode("go", nil, echo.service())
	a := c.jsNode("jsa", "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.sleepThenCall", g.NodeID())
	// The REQ timeouts are read on the wire.
	var toA *sniffer
	if cfg.canSniffOthers() {
		toA = c.sniffOther(protocol.TargetedTopic(protocol.Request, a.NodeID))
	} else {
		notApplicable(t, "checking the timeout field of the nested REQ and that a skipped call sends none", cfg.whyNoSniff())
	}

	// JS (budget 1000 ms) → Go: sleep 300 ms, then call jspeer.sleep 900
	// ms: the nested call gets about 700 ms and times out, it must not
	// succeed.
	r := capture(t, g, a.NodeID, "goecho.sleepThenCall",
		map[string]any{"sleepMs": 300.0, "action": "jspeer.sleep", "params": map[string]any{"ms": 900.0}},
		map[string]any{"timeout": 1000.0})
	mustEqual(t, "JS caller outcome", capturedErr(t, r)["name"], "RequestTimeoutError")
	var in innerCall
	select {
	case in = <-echo.inner:
	case <-time.After(5 * time.Second):
		t.Fatal("the Go action made no nested call")
	}
	if !errors.Is(in.err, bridge.ErrRequestTimeout) {
		t.Errorf("nested call: err = %v (result %v), want RequestTimeoutError", in.err, in.result)
	}
	if toA != nil {
		var sent map[string]any
		eventually(t, 3*time.Second, "the nested REQ to JS", func() bool {
			for _, p := range toA.find("action", "jspeer.sleep") {
				sent = p
				return true
			}
			return false
		})
		// The REQ carries what is left of the budget: at most 1000 - 300.
		sentMs, _ := sent["timeout"].(float64)
		if sentMs <= 0 || sentMs > 710 {
			t.Errorf("nested REQ timeout = %v ms, want the remaining ~700", sent["timeout"])
		}
		// The nested call ends when that remaining time is up (allowing
		// for a busy machine's late timers).
		remaining := time.Duration(sentMs * float64(time.Millisecond))
		if in.elapsed < remaining-50*time.Millisecond || in.elapsed > remaining+time.Second {
			t.Errorf("nested call failed after %v, want about its %v", in.elapsed, remaining)
		}
	} else if in.elapsed < 400*time.Millisecond || in.elapsed > 700*time.Millisecond+time.Second {
		// Without the wire: the nested call ends when about 700 ms of
		// the budget are up.
		t.Errorf("nested call failed after %v, want about the remaining 700 ms", in.elapsed)
	}

	// Budget spent before the nested call: RequestSkippedError, nothing sent.
	r = capture(t, g, a.NodeID, "goecho.sleepThenCall",
		map[string]any{"sleepMs": 500.0, "action": "jspeer.whoami"}, map[string]any{"timeout": 300.0})
	mustEqual(t, "JS caller outcome (skipped)", capturedErr(t, r)["name"], "RequestTimeoutError")
	select {
	case in = <-echo.inner:
	case <-time.After(5 * time.Second):
		t.Fatal("the Go action made no nested call")
	}
	if in.err == nil {
		t.Fatalf("nested call after the budget succeeded: %v", in.result)
	}
	mustEqual(t, "skipped call error", errorFields(t, in.err), map[string]any{
		"name": "RequestSkippedError", "code": 514.0, "type": "REQUEST_SKIPPED", "retryable": false,
		"message": "Calling 'jspeer.whoami' is skipped because timeout reached on '" + g.NodeID() + "' node.",
		"data":    map[string]any{"action": "jspeer.whoami", "nodeID": g.NodeID()}})
	if toA != nil {
		time.Sleep(200 * time.Millisecond)
		if n := len(toA.find("action", "jspeer.whoami")); n != 0 {
			t.Errorf("%d REQ for the skipped call were sent", n)
		}
	}

	// Go → JS capture (budget 2000 ms) → Go action: its context deadline
	// is the remaining budget; without a budget there is no deadline.
	ctx, cancel := callCtx()
	defer cancel()
	v, err := g.Call(ctx, "jspeer.capture", map[string]any{"action": "goecho.deadline"},
		bridge.WithNodeID(a.NodeID), bridge.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	d := asMap(t, captured(t, asMap(t, plain(t, v))))
	if d["hasDeadline"] != true || d["remainingMs"].(float64) > 2000 || d["remainingMs"].(float64) < 1500 {
		t.Errorf("Go action deadline under a 2000 ms JS budget: %s", jsonString(d))
	}
	// (No deadline on the Go caller's context either.)
	v, err = g.Call(context.Background(), "jspeer.capture", map[string]any{"action": "goecho.deadline"}, bridge.WithNodeID(a.NodeID))
	if err != nil {
		t.Fatal(err)
	}
	d = asMap(t, captured(t, asMap(t, plain(t, v))))
	mustEqual(t, "Go action deadline without a budget", d, map[string]any{"hasDeadline": false})
}
