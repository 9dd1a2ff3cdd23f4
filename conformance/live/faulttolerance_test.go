package live

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
)

// Issue 5, acceptance 3: retries, circuit breakers, bulkheads and
// fallbacks between Go and real JS nodes. The JS node's side is jsnode's
// ft service (ft.work fails on demand and counts its executions) and its
// ftpeer service (concurrent calls, and the $circuit-breaker.* events it
// hears); goFT is the Go twin of ft.

// goFT is the Go twin of jsnode's ft service (but for ft.block, which
// blocks a JS event loop).
type goFT struct {
	nodeID string
	mu     sync.Mutex
	// failures is the number of calls of work that fail next (-1: all),
	// with errSpec's error.
	failures    int
	errSpec     map[string]any
	delay       time.Duration // of work when params.ms does not say
	calls       int
	inFlight    int
	maxInFlight int
	// ft.sleepy deliveries that ran, and the most at once.
	evHandled, evInFlight, evMaxInFlight int
}

func newGoFT(nodeID string) *goFT { return &goFT{nodeID: nodeID} }

func (f *goFT) service() bridge.Service {
	return bridge.Service{
		Name: "ft",
		Actions: []bridge.Action{
			{Name: "work", Handler: f.work},
			{Name: "configure", Handler: func(ctx *bridge.Context) (any, error) {
				p := paramMap(ctx)
				f.mu.Lock()
				defer f.mu.Unlock()
				n, _ := p["failures"].(float64)
				f.failures = int(n)
				f.errSpec, _ = p["error"].(map[string]any)
				f.delay = msParam(p, "delay")
				f.calls = 0
				f.maxInFlight = f.inFlight
				f.evHandled, f.evMaxInFlight = 0, f.evInFlight
				return true, nil
			}},
			{Name: "stats", Handler: func(*bridge.Context) (any, error) {
				f.mu.Lock()
				defer f.mu.Unlock()
				return map[string]any{"calls": f.calls, "inFlight": f.inFlight, "maxInFlight": f.maxInFlight,
					"events": map[string]any{"handled": f.evHandled, "maxInFlight": f.evMaxInFlight}}, nil
			}},
			{Name: "guarded",
				Handler: func(*bridge.Context) (any, error) {
					return nil, bridge.NewError("guarded failed", 500, "GUARDED", nil)
				},
				Fallback: func(ctx *bridge.Context, err error) (any, error) {
					var e *bridge.Error
					name := ""
					if errors.As(err, &e) {
						name = e.Name
					}
					params, _ := ctx.Params.Interface()
					return map[string]any{"fallback": true, "error": name, "nodeID": f.nodeID, "params": params}, nil
				}},
			{Name: "fragile",
				CircuitBreaker: &bridge.CircuitBreakerOptions{Enabled: true, MinRequestCount: 2, Threshold: 0.5, HalfOpenTime: time.Minute},
				Handler: func(*bridge.Context) (any, error) {
					f.mu.Lock()
					f.calls++
					f.mu.Unlock()
					return nil, bridge.NewError("fragile failed", 500, "FRAGILE", nil)
				}},
			{Name: "retried",
				RetryPolicy: &bridge.RetryPolicy{Enabled: true, Retries: 2, Delay: 50 * time.Millisecond},
				Handler: func(*bridge.Context) (any, error) {
					f.mu.Lock()
					f.calls++
					f.mu.Unlock()
					return nil, bridge.NewRetryableError("retried failed", 500, "RETRIED", nil)
				}},
		},
		Events: []bridge.Event{
			{Name: "ft.sleepy", Handler: func(ctx *bridge.Context) error {
				f.mu.Lock()
				f.evInFlight++
				f.evMaxInFlight = max(f.evMaxInFlight, f.evInFlight)
				f.mu.Unlock()
				time.Sleep(msParam(paramMap(ctx), "ms"))
				f.mu.Lock()
				f.evInFlight--
				f.evHandled++
				f.mu.Unlock()
				return nil
			}},
		},
	}
}

// work is ft.work: it sleeps params.ms, then fails as configured.
func (f *goFT) work(ctx *bridge.Context) (any, error) {
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	d := msParam(paramMap(ctx), "ms")
	if d == 0 {
		f.mu.Lock()
		d = f.delay
		f.mu.Unlock()
	}
	time.Sleep(d)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures != 0 {
		if f.failures > 0 {
			f.failures--
		}
		msg, _ := f.errSpec["message"].(string)
		if msg == "" {
			msg = "ft.work failed"
		}
		code, _ := f.errSpec["code"].(float64)
		typ, _ := f.errSpec["type"].(string)
		if f.errSpec["name"] == "MoleculerError" {
			return nil, bridge.NewError(msg, int(code), typ, f.errSpec["data"])
		}
		return nil, bridge.NewRetryableError(msg, int(code), typ, f.errSpec["data"])
	}
	return map[string]any{"nodeID": f.nodeID, "call": call}, nil
}

// Errors ft.work is told to fail with.
var (
	retryableSpec    = map[string]any{"name": "MoleculerRetryableError", "message": "flaky", "type": "FLAKY"}
	nonRetryableSpec = map[string]any{"name": "MoleculerError", "message": "broken", "code": 500.0, "type": "BROKEN"}
)

// configureFT tells the ft service of a node how its next ft.work calls
// fail (failures: how many, -1 for all) and resets its counters.
func configureFT(t *testing.T, g *goNode, nodeID string, failures int, spec map[string]any) {
	t.Helper()
	p := map[string]any{"failures": float64(failures)}
	if spec != nil {
		p["error"] = spec
	}
	callOn(t, g, nodeID, "ft.configure", p)
}

// ftCalls returns how many times a node's ft.work ran since configureFT.
func ftCalls(t *testing.T, g *goNode, nodeID string) int {
	t.Helper()
	return int(asMap(t, callOn(t, g, nodeID, "ft.stats", nil))["calls"].(float64))
}

// jsNodeOpts starts a JS node whose broker options include brokerOpts
// (BROKER_OPTIONS).
func (c *cluster) jsNodeOpts(role string, brokerOpts map[string]any, services ...string) *jsnode.Process {
	c.t.Helper()
	b, err := json.Marshal(brokerOpts)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.jsNodeWith(jsnode.Options{NodeID: c.id(role), Services: services,
		Env: map[string]string{"BROKER_OPTIONS": string(b)}})
}

// errName is the Moleculer name of a Go error.
func errName(err error) string {
	var e *bridge.Error
	if errors.As(err, &e) {
		return e.Name
	}
	return ""
}

// ---------------------------------------------------------------- retries

// A Go caller with a retry policy: a retryable failure on one JS node is
// retried on the other, which answers; a non-retryable one is not retried;
// a call's own retry count overrides the policy's.
func TestRetryGoCallerMovesToAnotherJSNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", func(o *bridge.Options) {
		o.RetryPolicy = bridge.RetryPolicy{Enabled: true, Retries: 2, Delay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond}
	})
	j1 := c.jsNode("js1", "ft")
	j2 := c.jsNode("js2", "ft")
	waitGoSees(t, g, j1.NodeID, "ft")
	waitGoSees(t, g, j2.NodeID, "ft")

	// js1 fails every call with a retryable error: every call succeeds,
	// on js2.
	configureFT(t, g, j1.NodeID, -1, retryableSpec)
	configureFT(t, g, j2.NodeID, 0, nil)
	const n = 6
	for i := range n {
		r := asMap(t, call(t, g, "ft.work", nil))
		if r["nodeID"] != j2.NodeID {
			t.Fatalf("call %d answered by %v, want %s", i, r["nodeID"], j2.NodeID)
		}
	}
	c1, c2 := ftCalls(t, g, j1.NodeID), ftCalls(t, g, j2.NodeID)
	if c2 != n || c1 < n-1 {
		// Round-robin sends every call but maybe the first to js1 first.
		t.Fatalf("js1 ran ft.work %d times, js2 %d: want js1 at least %d (each failing call retried on js2), js2 %d", c1, c2, n-1, n)
	}
	if !containsLog(g, "Retry to call 'ft.work' action") {
		t.Errorf("no retry was logged by the Go caller")
	}

	// A non-retryable error is the caller's at once.
	configureFT(t, g, j1.NodeID, -1, nonRetryableSpec)
	configureFT(t, g, j2.NodeID, 0, nil)
	failed := 0
	for range 4 {
		ctx, cancel := callCtx()
		v, err := g.Call(ctx, "ft.work", nil)
		cancel()
		if err != nil {
			failed++
			f := errorFields(t, err)
			mustEqual(t, "non-retryable error", withoutKeys(f, "data"), map[string]any{
				"name": "MoleculerError", "message": "broken", "code": 500.0, "type": "BROKEN",
				"retryable": false, "nodeID": j1.NodeID})
			continue
		}
		if id := asMap(t, plain(t, v))["nodeID"]; id != j2.NodeID {
			t.Errorf("a call answered by %v", id)
		}
	}
	c1, c2 = ftCalls(t, g, j1.NodeID), ftCalls(t, g, j2.NodeID)
	if failed != 2 || c1 != 2 || c2 != 2 {
		t.Errorf("non-retryable: %d of 4 calls failed, js1 ran %d, js2 %d; want 2, 2, 2 (round-robin, no retry)", failed, c1, c2)
	}

	// Both fail: the policy's 2 retries make 3 attempts, a call's own
	// count overrides it, WithRetries(0) makes none.
	for _, tc := range []struct {
		name     string
		opts     []bridge.CallOption
		attempts int
	}{
		{"policy", nil, 3},
		{"WithRetries(4)", []bridge.CallOption{bridge.WithRetries(4)}, 5},
		{"WithRetries(0)", []bridge.CallOption{bridge.WithRetries(0)}, 1},
	} {
		configureFT(t, g, j1.NodeID, -1, retryableSpec)
		configureFT(t, g, j2.NodeID, -1, retryableSpec)
		ctx, cancel := callCtx()
		_, err := g.Call(ctx, "ft.work", nil, tc.opts...)
		cancel()
		if errName(err) != "MoleculerRetryableError" {
			t.Errorf("%s: err = %v, want the last attempt's MoleculerRetryableError", tc.name, err)
		}
		if got := ftCalls(t, g, j1.NodeID) + ftCalls(t, g, j2.NodeID); got != tc.attempts {
			t.Errorf("%s: %d attempts, want %d", tc.name, got, tc.attempts)
		}
	}
	// A fallback answers once the retries are spent.
	configureFT(t, g, j1.NodeID, -1, retryableSpec)
	configureFT(t, g, j2.NodeID, -1, retryableSpec)
	got := call(t, g, "ft.work", nil, bridge.WithFallbackValue(map[string]any{"fallback": true}))
	mustEqual(t, "fallback after the retries", got, map[string]any{"fallback": true})
	if n := ftCalls(t, g, j1.NodeID) + ftCalls(t, g, j2.NodeID); n != 3 {
		t.Errorf("fallback after the retries: %d attempts, want 3", n)
	}
}

// A JS caller with a retry policy: a retryable failure of a Go node is
// retried on another node (JS or Go), which answers. The Go node, although
// its own retry policy is on, does not retry a remote caller's request: the
// caller does.
func TestRetryJSCallerMovesOffGoNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ftG, ftG2 := newGoFT(c.id("go")), newGoFT(c.id("go2"))
	g := c.goNode("go", func(o *bridge.Options) {
		o.RetryPolicy = bridge.RetryPolicy{Enabled: true, Retries: 3, Delay: 20 * time.Millisecond}
	}, ftG.service())
	g2 := c.goNode("go2", nil, ftG2.service())
	j := c.jsNode("js", "ft")
	caller := c.jsNodeOpts("caller", map[string]any{
		"retryPolicy": map[string]any{"enabled": true, "retries": 3, "delay": 20}}, "jspeer")
	waitJSSees(t, g, caller.NodeID, "ft.work", g.NodeID(), g2.NodeID(), j.NodeID)
	nodes := []string{g.NodeID(), g2.NodeID(), j.NodeID}
	total := func() (sum int) {
		for _, id := range nodes {
			sum += ftCalls(t, g, id)
		}
		return sum
	}

	// Go fails; the healthy node is JS, then Go.
	for _, healthy := range []string{j.NodeID, g2.NodeID()} {
		for _, id := range nodes {
			if id == healthy {
				configureFT(t, g, id, 0, nil)
			} else {
				configureFT(t, g, id, -1, retryableSpec)
			}
		}
		const n = 6
		for i := range n {
			r := asMap(t, captured(t, brokerCapture(t, g, caller.NodeID, "ft.work", nil, nil)))
			if r["nodeID"] != healthy {
				t.Fatalf("healthy %s: call %d answered by %v", healthy, i, r["nodeID"])
			}
		}
		if cg, ch := ftCalls(t, g, g.NodeID()), ftCalls(t, g, healthy); cg < n-1 || ch != n {
			t.Errorf("healthy %s: the failing Go node ran ft.work %d times, the healthy one %d; want at least %d and %d", healthy, cg, ch, n-1, n)
		}
	}

	// A request pinned to the failing Go node, without retries: one
	// execution there (the Go node's retry policy leaves remote requests
	// to their caller), nothing elsewhere, the Go error at the caller.
	configureFT(t, g, g.NodeID(), -1, retryableSpec)
	configureFT(t, g, g2.NodeID(), 0, nil)
	configureFT(t, g, j.NodeID, 0, nil)
	e := capturedErr(t, brokerCapture(t, g, caller.NodeID, "ft.work", nil, map[string]any{"nodeID": g.NodeID(), "retries": 0.0}))
	mustEqual(t, "pinned failure", e, map[string]any{"name": "MoleculerRetryableError", "message": "flaky",
		"code": 500.0, "type": "FLAKY", "retryable": true, "nodeID": g.NodeID()})
	if got := ftCalls(t, g, g.NodeID()); got != 1 || total() != 1 {
		t.Errorf("pinned call without retries: the Go node ran ft.work %d times, all nodes %d; want 1 and 1", got, total())
	}

	// A non-retryable Go error is not retried.
	configureFT(t, g, g.NodeID(), -1, nonRetryableSpec)
	configureFT(t, g, g2.NodeID(), 0, nil)
	configureFT(t, g, j.NodeID, 0, nil)
	failed := 0
	for range 6 {
		r := brokerCapture(t, g, caller.NodeID, "ft.work", nil, nil)
		if r["ok"] == true {
			continue
		}
		failed++
		mustEqual(t, "non-retryable Go error at the JS caller", capturedErr(t, r), map[string]any{
			"name": "MoleculerError", "message": "broken", "code": 500.0, "type": "BROKEN", "retryable": false,
			"nodeID": g.NodeID()})
	}
	if cg := ftCalls(t, g, g.NodeID()); failed != 2 || cg != 2 || total() != 6 {
		t.Errorf("non-retryable: %d of 6 calls failed, the Go node ran %d, all nodes %d; want 2, 2, 6 (round-robin over 3, no retry)", failed, cg, total())
	}

	// All fail: the policy's 3 retries make 4 attempts; the call's own
	// retries option overrides it.
	for _, tc := range []struct {
		opts     map[string]any
		attempts int
	}{{nil, 4}, {map[string]any{"retries": 1.0}, 2}} {
		for _, id := range nodes {
			configureFT(t, g, id, -1, retryableSpec)
		}
		e := capturedErr(t, brokerCapture(t, g, caller.NodeID, "ft.work", nil, tc.opts))
		if e["name"] != "MoleculerRetryableError" {
			t.Errorf("opts %v: error %s", tc.opts, jsonString(e))
		}
		if got := total(); got != tc.attempts {
			t.Errorf("opts %v: %d attempts, want %d", tc.opts, got, tc.attempts)
		}
	}
	// A fallback answers once the retries are spent.
	for _, id := range nodes {
		configureFT(t, g, id, -1, retryableSpec)
	}
	got := captured(t, brokerCapture(t, g, caller.NodeID, "ft.work", nil,
		map[string]any{"fallbackResponse": map[string]any{"fallback": true}}))
	mustEqual(t, "JS fallback after the retries", got, map[string]any{"fallback": true})
	if n := total(); n != 4 {
		t.Errorf("JS fallback after the retries: %d attempts, want 4", n)
	}
}

// An action's own retry policy travels in its INFO descriptor: a Go caller
// without a policy retries a JS action that has one, and a JS caller
// without one retries a Go action that has one, as JS callers do between
// themselves. (One cluster each, so that each action has one node.)
func TestRetryPolicyOfTheAction(t *testing.T) {
	t.Parallel()
	// Go caller, JS action.
	c := newCluster(t)
	g := c.goNode("go", nil)
	j := c.jsNode("js", "ft")
	waitGoSees(t, g, j.NodeID, "ft")
	configureFT(t, g, j.NodeID, 0, nil)
	ctx, cancel := callCtx()
	_, err := g.Call(ctx, "ft.retried", nil)
	cancel()
	if errName(err) != "MoleculerRetryableError" {
		t.Errorf("Go caller: err = %v", err)
	}
	if got := ftCalls(t, g, j.NodeID); got != 3 {
		t.Errorf("Go caller: the JS node ran ft.retried %d times, want 3 (retries 2 of the action's policy)", got)
	}

	// JS caller, Go action.
	c2 := newCluster(t)
	ftG := newGoFT(c2.id("go"))
	g2 := c2.goNode("go", nil, ftG.service())
	caller := c2.jsNode("caller", "jspeer")
	waitJSSees(t, g2, caller.NodeID, "ft.retried", g2.NodeID())
	e := capturedErr(t, brokerCapture(t, g2, caller.NodeID, "ft.retried", nil, nil))
	if e["name"] != "MoleculerRetryableError" || e["nodeID"] != g2.NodeID() {
		t.Errorf("JS caller: error %s", jsonString(e))
	}
	if got := ftCalls(t, g2, g2.NodeID()); got != 3 {
		t.Errorf("JS caller: the Go node ran ft.retried %d times, want 3 (retries 2 of the action's policy)", got)
	}
}

// A retried call picks its node again, even when the caller named one, as
// in JS: Go and JS callers alike.
func TestRetryOfACallToOneNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", func(o *bridge.Options) {
		o.RetryPolicy = bridge.RetryPolicy{Enabled: true, Retries: 1, Delay: 20 * time.Millisecond}
	})
	j1 := c.jsNode("js1", "ft")
	j2 := c.jsNode("js2", "ft")
	caller := c.jsNodeOpts("caller", map[string]any{
		"retryPolicy": map[string]any{"enabled": true, "retries": 1, "delay": 20}}, "jspeer")
	waitGoSees(t, g, j1.NodeID, "ft")
	waitGoSees(t, g, j2.NodeID, "ft")
	waitJSSees(t, g, caller.NodeID, "ft.work", j1.NodeID, j2.NodeID)

	for _, who := range []string{"Go", "JS"} {
		// js1 fails once: the second attempt goes to js1 or js2,
		// whichever the balancer picks; both succeed. Over several calls
		// both are picked.
		answered := map[any]int{}
		for range 6 {
			configureFT(t, g, j1.NodeID, 1, retryableSpec)
			configureFT(t, g, j2.NodeID, 0, nil)
			var r map[string]any
			if who == "Go" {
				r = asMap(t, call(t, g, "ft.work", nil, bridge.WithNodeID(j1.NodeID)))
			} else {
				r = asMap(t, captured(t, brokerCapture(t, g, caller.NodeID, "ft.work", nil, map[string]any{"nodeID": j1.NodeID})))
			}
			answered[r["nodeID"]]++
		}
		if len(answered) != 2 {
			t.Errorf("%s caller: retries of calls to %s answered by %v, want both nodes", who, j1.NodeID, answered)
		}
	}
}

// containsLog reports whether a Go node logged s.
func containsLog(g *goNode, s string) bool { return strings.Contains(g.logs.String(), s) }

// ---------------------------------------------------------------- circuit breaker

// The circuit-breaker settings of both callers: three calls in the window
// are enough to judge, half of them failing opens the circuit for 7 s (a
// scenario's calls must fit in that time, even on a busy machine). The
// window is long, so that no reset falls within a test.
const (
	cbMinRequests = 3
	cbHalfOpen    = 7 * time.Second
	cbWindow      = 300 * time.Second
)

// breakerRun is what a circuit-breaker scenario observed.
type breakerRun struct {
	// events are the $circuit-breaker.* events the JS listener heard,
	// with node IDs replaced by roles.
	events []any
	// notAvailable is the error of a call made while both circuits are
	// open; pinned the error of a call to js1 while its circuit is open.
	notAvailable, pinned map[string]any
}

// breakerScenario runs one circuit-breaker scenario: a caller with a
// breaker (callWork makes one ft.work call and reports the node that
// answered, or the error) calls ft.work, served by the JS nodes js1 and
// js2, while the JS node listener records the breaker's events. driver is
// a Go node that configures the ft services; roles maps node IDs to the
// names the events are reported with.
func breakerScenario(t *testing.T, driver *goNode, js1, js2, listener string, roles map[string]string,
	callWork func(nodeID string) (node string, errFields map[string]any)) breakerRun {
	t.Helper()
	configureFT(t, driver, js1, -1, nonRetryableSpec)
	configureFT(t, driver, js2, 0, nil)
	start := time.Now()
	var run breakerRun

	// js1 fails every call: round-robin gives it 3 of 6 calls, and the
	// third failure opens its circuit (3 calls, all failed).
	failed := 0
	for range 6 {
		node, e := callWork("")
		if e != nil {
			failed++
			if e["nodeID"] != js1 || e["name"] != "MoleculerError" {
				t.Fatalf("a call failed with %s, want js1's MoleculerError", jsonString(e))
			}
		} else if node != js2 {
			t.Fatalf("a call answered by %s", node)
		}
	}
	if failed != 3 {
		t.Fatalf("%d of 6 calls failed, want 3 (round-robin)", failed)
	}
	// js1 is skipped now: js2 takes every call.
	for range 4 {
		if node, e := callWork(""); node != js2 {
			t.Fatalf("with js1's circuit open, a call answered by %q (error %s), want js2", node, jsonString(e))
		}
	}
	// A call to js1 itself finds no available endpoint there.
	if node, e := callWork(js1); e == nil {
		t.Fatalf("a call to js1 with its circuit open answered by %s", node)
	} else {
		run.pinned = e
	}
	if n := ftCalls(t, driver, js1); n != 3 {
		t.Fatalf("js1 ran ft.work %d times, want 3: its open circuit should keep calls away", n)
	}

	// js2 fails too: it has 7 successes in the window, so its 7th failure
	// reaches the rate of 0.5 and opens its circuit; then no endpoint is
	// left.
	configureFT(t, driver, js2, -1, nonRetryableSpec)
	failed = 0
	for i := 0; run.notAvailable == nil; i++ {
		if i == 12 {
			t.Fatalf("after %d failures of js2, calls still fail on it", failed)
		}
		node, e := callWork("")
		switch {
		case e == nil:
			t.Fatalf("a call answered by %s, want failures", node)
		case e["name"] == "ServiceNotAvailableError":
			run.notAvailable = e
		case e["nodeID"] == js2:
			failed++
		default:
			t.Fatalf("a call failed with %s", jsonString(e))
		}
	}
	if failed != 7 {
		t.Errorf("js2's circuit opened after %d failures, want 7 (rate 7/14)", failed)
	}
	if el := time.Since(start); el >= cbHalfOpen {
		t.Fatalf("the calls took %v, longer than the half-open time %v: the machine is too slow for this scenario", el, cbHalfOpen)
	}

	// js2 recovers, js1 does not. After the half-open time each circuit
	// lets one call through: js2's succeeds and closes it, js1's fails and
	// opens it again.
	configureFT(t, driver, js2, 0, nil)
	events := func() []any {
		return asList(t, callOn(t, driver, listener, "ftpeer.breakerEvents", nil))
	}
	count := func(event string) int {
		n := 0
		for _, e := range events() {
			if asMap(t, e)["event"] == event {
				n++
			}
		}
		return n
	}
	eventually(t, cbHalfOpen+15*time.Second, "both circuits to half-open", func() bool {
		return count("$circuit-breaker.half-opened") == 2
	})
	for i := 0; count("$circuit-breaker.closed") < 1 || count("$circuit-breaker.opened") < 3; i++ {
		if i == 20 {
			t.Fatalf("after 20 calls, js2's circuit is not closed or js1's not open again: events %s", jsonString(events()))
		}
		if node, e := callWork(""); e != nil && e["nodeID"] != js1 {
			t.Fatalf("a call failed on %s: %s", node, jsonString(e))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Now js1 recovers too: its next half-open call closes it.
	configureFT(t, driver, js1, 0, nil)
	eventually(t, cbHalfOpen+15*time.Second, "js1's circuit to half-open again", func() bool {
		return count("$circuit-breaker.half-opened") == 3
	})
	for i := 0; count("$circuit-breaker.closed") < 2; i++ {
		if i == 20 {
			t.Fatalf("js1's circuit not closed after 20 successful calls: events %s", jsonString(events()))
		}
		if node, e := callWork(""); e != nil {
			t.Fatalf("a call after recovery failed on %s: %s", node, jsonString(e))
		}
		time.Sleep(100 * time.Millisecond)
	}

	run.events = byRole(t, events(), roles)
	return run
}

// byRole replaces the node IDs of recorded breaker events with roles.
func byRole(t *testing.T, evs []any, roles map[string]string) []any {
	t.Helper()
	var out []any
	for _, x := range evs {
		e := maps.Clone(asMap(t, x))
		d := maps.Clone(asMap(t, e["data"]))
		d["nodeID"] = roles[d["nodeID"].(string)]
		e["data"] = d
		e["sender"] = roles[e["sender"].(string)]
		out = append(out, e)
	}
	return out
}

// breakerListener is a Go service that records the $circuit-breaker.*
// events it hears, as jsnode's ftpeer does.
type breakerListener struct {
	mu     sync.Mutex
	events []any
}

func (l *breakerListener) service() bridge.Service {
	return bridge.Service{
		Name: "gocblisten",
		Events: []bridge.Event{{Name: "$circuit-breaker.**", Handler: func(ctx *bridge.Context) error {
			data, err := ctx.Params.Interface()
			if err != nil {
				return err
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			l.events = append(l.events, map[string]any{"event": ctx.EventName, "data": data, "sender": ctx.NodeID})
			return nil
		}}},
	}
}

func (l *breakerListener) list(t *testing.T) []any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return asList(t, normalize(t, l.events))
}

// A Go caller's circuit breaker opens after failing calls to a JS node,
// which is then skipped (ServiceNotAvailableError when no node is left),
// half-opens after the half-open time and closes after a successful call;
// JS listeners get its $circuit-breaker.* events. A JS caller in the same
// scenario is the reference: same outcomes, same events and payloads.
func TestCircuitBreakerGoCallerAndJSNodes(t *testing.T) {
	t.Parallel()
	var jsRun, goRun breakerRun
	// Go listeners too: on the JS caller's cluster, and on the Go caller
	// itself (a local delivery).
	var jsGoListener, goGoListener breakerListener
	var jsGoHeard, goGoHeard []any
	t.Run("scenarios", func(t *testing.T) {
		t.Run("JS caller", func(t *testing.T) {
			t.Parallel()
			c := newCluster(t)
			g := c.goNode("driver", nil, jsGoListener.service())
			j1, j2 := c.jsNode("js1", "ft"), c.jsNode("js2", "ft")
			l := c.jsNode("listener", "ftpeer")
			caller := c.jsNodeOpts("caller", map[string]any{"circuitBreaker": map[string]any{
				"enabled": true, "threshold": 0.5, "minRequestCount": cbMinRequests,
				"windowTime": cbWindow.Seconds(), "halfOpenTime": cbHalfOpen.Milliseconds()}}, "jspeer")
			waitGoSees(t, g, j1.NodeID, "ft")
			waitGoSees(t, g, j2.NodeID, "ft")
			waitGoSees(t, g, l.NodeID, "ftpeer")
			waitJSSees(t, g, caller.NodeID, "ft.work", j1.NodeID, j2.NodeID)
			roles := map[string]string{j1.NodeID: "js1", j2.NodeID: "js2", caller.NodeID: "caller"}
			defer func() { jsGoHeard = byRole(t, jsGoListener.list(t), roles) }()
			jsRun = breakerScenario(t, g, j1.NodeID, j2.NodeID, l.NodeID, roles, func(nodeID string) (string, map[string]any) {
				var opts map[string]any
				if nodeID != "" {
					opts = map[string]any{"nodeID": nodeID}
				}
				r := brokerCapture(t, g, caller.NodeID, "ft.work", nil, opts)
				if r["ok"] == true {
					return asMap(t, r["result"])["nodeID"].(string), nil
				}
				return "", asMap(t, r["error"])
			})
		})
		t.Run("Go caller", func(t *testing.T) {
			t.Parallel()
			c := newCluster(t)
			g := c.goNode("caller", func(o *bridge.Options) {
				o.CircuitBreaker = bridge.CircuitBreakerOptions{Enabled: true, Threshold: 0.5,
					MinRequestCount: cbMinRequests, WindowTime: cbWindow, HalfOpenTime: cbHalfOpen}
			}, goGoListener.service())
			j1, j2 := c.jsNode("js1", "ft"), c.jsNode("js2", "ft")
			l := c.jsNode("listener", "ftpeer")
			waitGoSees(t, g, j1.NodeID, "ft")
			waitGoSees(t, g, j2.NodeID, "ft")
			waitGoSees(t, g, l.NodeID, "ftpeer")
			roles := map[string]string{j1.NodeID: "js1", j2.NodeID: "js2", g.NodeID(): "caller"}
			defer func() { goGoHeard = byRole(t, goGoListener.list(t), roles) }()
			goRun = breakerScenario(t, g, j1.NodeID, j2.NodeID, l.NodeID, roles, func(nodeID string) (string, map[string]any) {
				ctx, cancel := callCtx()
				defer cancel()
				var opts []bridge.CallOption
				if nodeID != "" {
					opts = append(opts, bridge.WithNodeID(nodeID))
				}
				v, err := g.Call(ctx, "ft.work", nil, opts...)
				if err != nil {
					return "", errorFields(t, err)
				}
				return asMap(t, plain(t, v))["nodeID"].(string), nil
			})
		})
	})
	if t.Failed() {
		return
	}
	mustEqual(t, "error with no endpoint left (Go caller vs JS caller)", goRun.notAvailable, jsRun.notAvailable)
	mustEqual(t, "JS caller's error with no endpoint left", jsRun.notAvailable["name"], "ServiceNotAvailableError")
	// Names hold node IDs: compare them by role.
	for _, r := range []*breakerRun{&jsRun, &goRun} {
		r.pinned["message"] = strings.ReplaceAll(r.pinned["message"].(string), r.pinned["data"].(map[string]any)["nodeID"].(string), "js1")
		r.pinned["data"].(map[string]any)["nodeID"] = "js1"
	}
	mustEqual(t, "error of a call to the node with an open circuit (Go caller vs JS caller)", goRun.pinned, jsRun.pinned)
	t.Logf("JS caller: error with no endpoint left %s; call to the open node %s; events %s",
		jsonString(jsRun.notAvailable), jsonString(jsRun.pinned), jsonString(jsRun.events))
	// The order of js2's closing and js1's reopening depends on the
	// balancer's turn.
	sortClosed := func(evs []any) []any {
		out := slices.Clone(evs)
		if len(out) >= 6 {
			sort.Slice(out[4:6], func(i, j int) bool {
				return jsonString(out[4+i]) < jsonString(out[4+j])
			})
		}
		return out
	}
	opened := func(node string, failures, count, rate float64) map[string]any {
		return map[string]any{"event": "$circuit-breaker.opened", "sender": "caller", "data": map[string]any{
			"nodeID": node, "service": "ft", "action": "ft.work", "failures": failures, "count": count, "rate": rate}}
	}
	other := func(event, node string) map[string]any {
		return map[string]any{"event": "$circuit-breaker." + event, "sender": "caller", "data": map[string]any{
			"nodeID": node, "service": "ft", "action": "ft.work"}}
	}
	want := sortClosed([]any{opened("js1", 3, 3, 1), opened("js2", 7, 14, 0.5),
		other("half-opened", "js1"), other("half-opened", "js2"), other("closed", "js2"), opened("js1", 4, 4, 1),
		other("half-opened", "js1"), other("closed", "js1")})
	mustEqual(t, "JS caller's breaker events (reference)", sortClosed(jsRun.events), want)
	mustEqual(t, "Go caller's breaker events", sortClosed(goRun.events), sortClosed(jsRun.events))
	mustEqual(t, "JS caller's breaker events heard by a Go listener", sortClosed(jsGoHeard), want)
	mustEqual(t, "Go caller's breaker events heard by its own Go listener", sortClosed(goGoHeard), want)
}

// ---------------------------------------------------------------- bulkhead

// A Go node's bulkhead caps the concurrent executions of its action called
// by JS: with concurrency 2 and maxQueueSize 3, of 10 concurrent JS calls
// 2 run at once, 3 wait their turn and 5 get QueueIsFullError, as from a JS
// node with the same bulkhead.
func TestBulkheadOfAGoActionCalledByJS(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ftG := newGoFT(c.id("go"))
	g := c.goNode("go", func(o *bridge.Options) {
		o.Bulkhead = bridge.BulkheadOptions{Enabled: true, Concurrency: 2, MaxQueueSize: 3}
	}, ftG.service())
	j := c.jsNodeOpts("js", map[string]any{"bulkhead": map[string]any{"enabled": true, "concurrency": 2, "maxQueueSize": 3}}, "ft")
	caller := c.jsNode("caller", "jspeer", "ftpeer")
	waitJSSees(t, g, caller.NodeID, "ft.work", g.NodeID(), j.NodeID)

	burst := func(server string) (ok int, full []any) {
		t.Helper()
		configureFT(t, g, server, 0, nil)
		out := asList(t, callOn(t, g, caller.NodeID, "ftpeer.burst", map[string]any{
			"action": "ft.work", "params": map[string]any{"ms": 1500.0}, "count": 10.0,
			"opts": map[string]any{"nodeID": server}}))
		for _, x := range out {
			r := asMap(t, x)
			if r["ok"] == true {
				ok++
				if id := asMap(t, r["result"])["nodeID"]; id != server {
					t.Errorf("a call to %s answered by %v", server, id)
				}
				continue
			}
			// Node IDs by role, for the comparison.
			e := asMap(t, r["error"])
			msg := strings.ReplaceAll(e["message"].(string), "'"+caller.NodeID+"'", "'caller'")
			e["message"] = strings.ReplaceAll(msg, "'"+server+"'", "'server'")
			if e["nodeID"] == server {
				e["nodeID"] = "server"
			}
			if d, isMap := e["data"].(map[string]any); isMap {
				for k, v := range d {
					switch v {
					case caller.NodeID:
						d[k] = "caller"
					case server:
						d[k] = "server"
					}
				}
			}
			full = append(full, e)
		}
		st := asMap(t, callOn(t, g, server, "ft.stats", nil))
		if st["maxInFlight"] != 2.0 || st["calls"] != float64(ok) {
			t.Errorf("%s: %s, want at most 2 at once and %d executions", server, jsonString(st), ok)
		}
		return ok, full
	}
	jsOK, jsFull := burst(j.NodeID)
	goOK, goFull := burst(g.NodeID())
	if jsOK != 5 || len(jsFull) != 5 {
		t.Errorf("JS node (reference): %d calls succeeded, %d rejected; want 5 and 5", jsOK, len(jsFull))
	}
	if goOK != jsOK || len(goFull) != len(jsFull) {
		t.Errorf("Go node: %d calls succeeded, %d rejected; the JS node %d and %d", goOK, len(goFull), jsOK, len(jsFull))
	}
	mustEqual(t, "QueueIsFullError of the Go node (vs the JS node's)", goFull, jsFull)
	if len(jsFull) > 0 {
		t.Logf("JS node's QueueIsFullError: %s", jsonString(jsFull[0]))
	}
}

// ---------------------------------------------------------------- fallback

// Fallbacks: a Go caller's fallback answers when a JS node times out or
// fails, and a Go action's own fallback answers JS callers when its
// handler fails, as a JS action's does.
func TestFallbacksBetweenGoAndJS(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ftG := newGoFT(c.id("go"))
	g := c.goNode("go", nil, ftG.service(), newGoEcho().service())
	j := c.jsNode("js", "jspeer", "ft")
	caller := c.jsNode("caller", "jspeer")
	waitGoSees(t, g, j.NodeID, "jspeer", "ft")
	waitJSSees(t, g, caller.NodeID, "ft.guarded", g.NodeID(), j.NodeID)
	waitJSSees(t, g, caller.NodeID, "goecho.slow", g.NodeID())

	// Go caller, slow JS action, short timeout: the fallback value.
	slow := map[string]any{"ms": 1500.0}
	ctx, cancel := callCtx()
	defer cancel()
	t0 := time.Now()
	v, err := g.Call(ctx, "jspeer.sleep", slow, bridge.WithNodeID(j.NodeID),
		bridge.WithTimeout(300*time.Millisecond), bridge.WithFallbackValue(map[string]any{"fallback": "value"}))
	if err != nil {
		t.Fatalf("timed-out call with a fallback value: %v", err)
	}
	mustEqual(t, "fallback value", plain(t, v), map[string]any{"fallback": "value"})
	if el := time.Since(t0); el < 250*time.Millisecond || el > 1400*time.Millisecond {
		t.Errorf("the fallback value came after %v, want about the 300 ms timeout", el)
	}
	// The fallback function gets the error.
	fn := func(fc *bridge.Context, err error) (any, error) {
		return map[string]any{"fallback": "function", "error": errName(err), "action": fc.Action}, nil
	}
	v, err = g.Call(ctx, "jspeer.sleep", slow, bridge.WithNodeID(j.NodeID),
		bridge.WithTimeout(300*time.Millisecond), bridge.WithFallback(fn))
	if err != nil {
		t.Fatalf("timed-out call with a fallback function: %v", err)
	}
	mustEqual(t, "fallback function's result", plain(t, v),
		map[string]any{"fallback": "function", "error": "RequestTimeoutError", "action": "jspeer.sleep"})
	// And when the JS action fails.
	v, err = g.Call(ctx, "jspeer.fail", map[string]any{"name": "MoleculerError", "message": "no"},
		bridge.WithNodeID(j.NodeID), bridge.WithFallback(fn))
	if err != nil {
		t.Fatalf("failed call with a fallback function: %v", err)
	}
	mustEqual(t, "fallback function's result (failure)", plain(t, v),
		map[string]any{"fallback": "function", "error": "MoleculerError", "action": "jspeer.fail"})
	// The late answer of the timed-out calls disturbs nothing.
	time.Sleep(1500 * time.Millisecond)
	if got := callOn(t, g, j.NodeID, "jspeer.whoami", nil); got != j.NodeID {
		t.Errorf("whoami after the fallbacks = %v", got)
	}

	// A Go action's own fallback answers a JS caller, as a JS action's
	// does.
	params := map[string]any{"x": 1.0}
	ref := captured(t, brokerCapture(t, g, caller.NodeID, "ft.guarded", params, map[string]any{"nodeID": j.NodeID}))
	mustEqual(t, "JS action's fallback (reference)", ref,
		map[string]any{"fallback": true, "error": "MoleculerError", "nodeID": j.NodeID, "params": params})
	got := captured(t, brokerCapture(t, g, caller.NodeID, "ft.guarded", params, map[string]any{"nodeID": g.NodeID()}))
	mustEqual(t, "Go action's fallback", got,
		map[string]any{"fallback": true, "error": "MoleculerError", "nodeID": g.NodeID(), "params": params})

	// A JS caller's fallbackResponse answers a slow Go action's timeout.
	r := brokerCapture(t, g, caller.NodeID, "goecho.slow", slow,
		map[string]any{"timeout": 300.0, "fallbackResponse": map[string]any{"fallback": "js"}})
	mustEqual(t, "JS caller's fallbackResponse for a slow Go action", captured(t, r), map[string]any{"fallback": "js"})
	// And a Go caller's for a slow Go action on this node.
	v, err = g.Call(ctx, "goecho.slow", slow, bridge.WithTimeout(300*time.Millisecond),
		bridge.WithFallbackValue(map[string]any{"fallback": "local"}))
	if err != nil {
		t.Fatalf("local timed-out call with a fallback value: %v", err)
	}
	mustEqual(t, "fallback value of a local call", plain(t, v), map[string]any{"fallback": "local"})

	// No fallback when no endpoint is found: the error comes before the
	// action's middlewares, in JS and in Go.
	e := capturedErr(t, brokerCapture(t, g, caller.NodeID, "nosuch.action", nil,
		map[string]any{"fallbackResponse": map[string]any{"fallback": "js"}}))
	mustEqual(t, "JS caller of a missing action, with a fallbackResponse (reference)", e["name"], "ServiceNotFoundError")
	_, err = g.Call(ctx, "nosuch.action", nil, bridge.WithFallbackValue(map[string]any{"fallback": "go"}))
	mustEqual(t, "Go caller of a missing action, with a fallback value", errorFields(t, err), e)
}

// A retryable RequestTimeoutError moves the call too: a slow node's
// timeout is retried on a fast one, whichever language the caller and the
// slow node are in, and each attempt has the whole timeout, as in JS.
func TestRetryAfterATimeout(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("caller", func(o *bridge.Options) {
		o.RetryPolicy = bridge.RetryPolicy{Enabled: true, Retries: 2, Delay: 20 * time.Millisecond}
	})
	ftG := newGoFT(c.id("go"))
	gs := c.goNode("go", nil, ftG.service())
	j := c.jsNode("js", "ft")
	caller := c.jsNodeOpts("jscaller", map[string]any{
		"retryPolicy": map[string]any{"enabled": true, "retries": 2, "delay": 20}}, "jspeer")
	waitGoSees(t, g, j.NodeID, "ft")
	waitGoSees(t, g, gs.NodeID(), "ft")
	waitJSSees(t, g, caller.NodeID, "ft.work", gs.NodeID(), j.NodeID)

	for _, slow := range []string{j.NodeID, gs.NodeID()} {
		fast := gs.NodeID()
		if slow == fast {
			fast = j.NodeID
		}
		configureFT(t, g, slow, 0, nil)
		callOn(t, g, slow, "ft.configure", map[string]any{"delay": 1500.0})
		configureFT(t, g, fast, 0, nil)
		for _, who := range []string{"Go", "JS"} {
			for i := range 4 {
				t0 := time.Now()
				var node any
				if who == "Go" {
					node = asMap(t, call(t, g, "ft.work", nil, bridge.WithTimeout(300*time.Millisecond)))["nodeID"]
				} else {
					r := asMap(t, captured(t, brokerCapture(t, g, caller.NodeID, "ft.work", nil, map[string]any{"timeout": 300.0})))
					node = r["nodeID"]
				}
				if node != fast {
					t.Errorf("%s caller, slow %s: call %d answered by %v, want %s", who, slow, i, node, fast)
				}
				if el := time.Since(t0); el > 1400*time.Millisecond {
					t.Errorf("%s caller, slow %s: call %d took %v: it waited for the slow node", who, slow, i, el)
				}
			}
		}
		if n := ftCalls(t, g, slow); n < 2 {
			t.Errorf("slow %s ran ft.work %d times, want some (each caller's calls alternate)", slow, n)
		}
		// Let the slow node's executions end before the next round.
		time.Sleep(1600 * time.Millisecond)
	}
}

// A bulkhead caps the concurrent deliveries of an event handler too: with
// concurrency 1 and maxQueueSize 2, of 6 events broadcast at once by JS a
// Go handler runs 3, one at a time, as a JS handler does.
func TestBulkheadOfEventHandlers(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ftG := newGoFT(c.id("go"))
	g := c.goNode("go", func(o *bridge.Options) {
		o.Bulkhead = bridge.BulkheadOptions{Enabled: true, Concurrency: 1, MaxQueueSize: 2}
	}, ftG.service())
	j := c.jsNodeOpts("js", map[string]any{"bulkhead": map[string]any{"enabled": true, "concurrency": 1, "maxQueueSize": 2}}, "ft")
	emitter := c.jsNode("emitter", "jspeer", "ftpeer")
	waitGoSees(t, g, j.NodeID, "ft")
	waitJSSees(t, g, emitter.NodeID, "ft.work", g.NodeID(), j.NodeID)
	configureFT(t, g, g.NodeID(), 0, nil)
	configureFT(t, g, j.NodeID, 0, nil)

	callOn(t, g, emitter.NodeID, "ftpeer.broadcastMany", map[string]any{
		"event": "ft.sleepy", "data": map[string]any{"ms": 1000.0}, "count": 6.0})
	events := func(node string) map[string]any {
		return asMap(t, asMap(t, callOn(t, g, node, "ft.stats", nil))["events"])
	}
	want := map[string]any{"handled": 3.0, "maxInFlight": 1.0}
	eventually(t, 15*time.Second, "3 deliveries on each node", func() bool {
		return events(j.NodeID)["handled"] == 3.0 && events(g.NodeID())["handled"] == 3.0
	})
	// No more come.
	time.Sleep(1500 * time.Millisecond)
	mustEqual(t, "JS handler (reference)", events(j.NodeID), want)
	mustEqual(t, "Go handler", events(g.NodeID()), want)
}

// breakerCaller is a caller with a circuit breaker for the tests below: a
// JS node or a Go node. call makes one call (to nodeID unless "", with a
// timeout unless 0) and returns the error's fields, nil on success.
type breakerCaller struct {
	name string
	call func(action string, params any, nodeID string, timeout time.Duration) map[string]any
}

// breakerCallers starts a JS and a Go caller with the same breaker
// settings in c; driver is a Go node without a breaker that runs the JS
// caller's calls.
func breakerCallers(t *testing.T, c *cluster, driver *goNode, minRequests int, window time.Duration) []breakerCaller {
	t.Helper()
	js := c.jsNodeOpts("jscaller", map[string]any{"circuitBreaker": map[string]any{
		"enabled": true, "threshold": 0.5, "minRequestCount": minRequests,
		"windowTime": window.Seconds(), "halfOpenTime": 60000}}, "jspeer")
	g := c.goNode("gocaller", func(o *bridge.Options) {
		o.CircuitBreaker = bridge.CircuitBreakerOptions{Enabled: true, Threshold: 0.5,
			MinRequestCount: minRequests, WindowTime: window, HalfOpenTime: time.Minute}
	})
	waitGoSees(t, driver, js.NodeID, "jspeer")
	return []breakerCaller{
		{"JS", func(action string, params any, nodeID string, timeout time.Duration) map[string]any {
			opts := map[string]any{}
			if nodeID != "" {
				opts["nodeID"] = nodeID
			}
			if timeout != 0 {
				opts["timeout"] = float64(timeout.Milliseconds())
			}
			r := brokerCapture(t, driver, js.NodeID, action, params, opts)
			if r["ok"] == true {
				return nil
			}
			return asMap(t, r["error"])
		}},
		{"Go", func(action string, params any, nodeID string, timeout time.Duration) map[string]any {
			ctx, cancel := callCtx()
			defer cancel()
			var opts []bridge.CallOption
			if nodeID != "" {
				opts = append(opts, bridge.WithNodeID(nodeID))
			}
			if timeout != 0 {
				opts = append(opts, bridge.WithTimeout(timeout))
			}
			if _, err := g.Call(ctx, action, params, opts...); err != nil {
				return errorFields(t, err)
			}
			return nil
		}},
	}
}

// A circuit breaker counts only the failures of the endpoint itself: an
// error that a third node returned through it does not open it, for JS
// and Go callers alike.
func TestCircuitBreakerIgnoresThirdNodesErrors(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("driver", nil)
	relay := c.jsNode("relay", "jspeer")
	j := c.jsNode("js", "ft")
	l := c.jsNode("listener", "ftpeer")
	waitGoSees(t, g, j.NodeID, "ft")
	waitGoSees(t, g, l.NodeID, "ftpeer")
	waitJSSees(t, g, relay.NodeID, "ft.work", j.NodeID)
	configureFT(t, g, j.NodeID, -1, nonRetryableSpec)
	for _, bc := range breakerCallers(t, c, g, 2, cbWindow) {
		// The relay's jspeer.call calls ft.work on js: 5 calls, 5
		// failures of js, not of the relay. (The JS caller has a jspeer
		// of its own: the calls name the relay.)
		for i := range 5 {
			e := bc.call("jspeer.call", map[string]any{"action": "ft.work"}, relay.NodeID, 0)
			if e == nil || e["name"] != "MoleculerError" || e["nodeID"] != j.NodeID {
				t.Fatalf("%s caller: call %d through the relay: error %s, want js's MoleculerError", bc.name, i, jsonString(e))
			}
		}
	}
	time.Sleep(500 * time.Millisecond)
	if evs := asList(t, callOn(t, g, l.NodeID, "ftpeer.breakerEvents", nil)); len(evs) != 0 {
		t.Errorf("breaker events: %s, want none", jsonString(evs))
	}
}

// The counts of a circuit breaker start again every windowTime (2 s here):
// failures spread over several windows never open it, as many in one
// window do, for JS and Go callers alike.
func TestCircuitBreakerWindow(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("driver", nil)
	j := c.jsNode("js", "ft")
	l := c.jsNode("listener", "ftpeer")
	waitGoSees(t, g, j.NodeID, "ft")
	waitGoSees(t, g, l.NodeID, "ftpeer")
	configureFT(t, g, j.NodeID, -1, nonRetryableSpec)
	callers := breakerCallers(t, c, g, 3, 2*time.Second)
	opened := func() int {
		return len(asList(t, callOn(t, g, l.NodeID, "ftpeer.breakerEvents", nil)))
	}
	var wg sync.WaitGroup
	slowFailures := make([]int, len(callers))
	for i, bc := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// 4 failures 3 s apart: at most 1 in a 2 s window (2 should
			// a reset be late), never the 3 that open the circuit.
			for k := range 4 {
				if k > 0 {
					time.Sleep(3 * time.Second)
				}
				if e := bc.call("ft.work", nil, "", 0); e != nil && e["name"] == "MoleculerError" {
					slowFailures[i]++
				}
			}
		}()
	}
	wg.Wait()
	for i, bc := range callers {
		if slowFailures[i] != 4 {
			t.Errorf("%s caller: %d of 4 spread calls failed on js, want 4 (circuit closed)", bc.name, slowFailures[i])
		}
	}
	if n := opened(); n != 0 {
		t.Fatalf("%d breaker events after failures spread over windows, want none", n)
	}
	// Failures in quick succession open it.
	for _, bc := range callers {
		for i := 0; ; i++ {
			if i == 9 {
				t.Fatalf("%s caller: the circuit did not open after 9 quick failures", bc.name)
			}
			if e := bc.call("ft.work", nil, "", 0); e != nil && e["name"] == "ServiceNotAvailableError" {
				break
			}
		}
	}
	eventually(t, 10*time.Second, "both callers' opened events", func() bool { return opened() == 2 })
}

// An action's own circuit-breaker settings travel in its INFO descriptor:
// a Go caller without a breaker opens a circuit on a JS action that has
// one, and a JS caller without one on a Go action that has one (2 calls,
// both failed), as JS callers do between themselves.
func TestCircuitBreakerOfTheAction(t *testing.T) {
	t.Parallel()
	// Go caller, JS action.
	c := newCluster(t)
	g := c.goNode("go", nil)
	j := c.jsNode("js", "ft")
	waitGoSees(t, g, j.NodeID, "ft")
	configureFT(t, g, j.NodeID, 0, nil)
	for i, want := range []string{"MoleculerError", "MoleculerError", "ServiceNotAvailableError"} {
		ctx, cancel := callCtx()
		_, err := g.Call(ctx, "ft.fragile", nil)
		cancel()
		if errName(err) != want {
			t.Errorf("Go caller: call %d: err = %v, want %s", i, err, want)
		}
	}
	if got := ftCalls(t, g, j.NodeID); got != 2 {
		t.Errorf("Go caller: the JS node ran ft.fragile %d times, want 2", got)
	}

	// JS caller, Go action.
	c2 := newCluster(t)
	g2 := c2.goNode("go", nil, newGoFT(c2.id("go")).service())
	caller := c2.jsNode("caller", "jspeer")
	waitJSSees(t, g2, caller.NodeID, "ft.fragile", g2.NodeID())
	for i, want := range []string{"MoleculerError", "MoleculerError", "ServiceNotAvailableError"} {
		e := capturedErr(t, brokerCapture(t, g2, caller.NodeID, "ft.fragile", nil, nil))
		if e["name"] != want {
			t.Errorf("JS caller: call %d: error %s, want %s", i, jsonString(e), want)
		}
	}
	if got := ftCalls(t, g2, g2.NodeID()); got != 2 {
		t.Errorf("JS caller: the Go node ran ft.fragile %d times, want 2", got)
	}
}

// A caller's own timeouts do not count in its circuit breaker. In JS the
// Timeout middleware, outside the breaker's, rejects the call while the
// request is still pending, and the ErrorHandler then forgets the pending
// request: the breaker never learns how the call ended. So 3 timed-out
// calls to a node, with minRequestCount 2, leave its circuit closed. (The
// node blocks its event loop, so that it cannot answer with a timeout of
// its own, which would count as its failure if it came first.)
func TestCircuitBreakerAndCallerTimeouts(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("driver", nil)
	slow := c.jsNode("slow", "ft")
	l := c.jsNode("listener", "ftpeer")
	waitGoSees(t, g, slow.NodeID, "ft")
	waitGoSees(t, g, l.NodeID, "ftpeer")
	for _, bc := range breakerCallers(t, c, g, 2, cbWindow) {
		for i := range 3 {
			e := bc.call("ft.block", map[string]any{"ms": 600.0}, "", 200*time.Millisecond)
			if e == nil || e["name"] != "RequestTimeoutError" {
				t.Fatalf("%s caller: call %d: error %s, want RequestTimeoutError", bc.name, i, jsonString(e))
			}
		}
		// The circuit is closed: the node takes the next call.
		if e := bc.call("ft.block", nil, "", 0); e != nil {
			t.Errorf("%s caller: after 3 timeouts, a call failed with %s, want the node to answer", bc.name, jsonString(e))
		}
	}
	time.Sleep(500 * time.Millisecond)
	if evs := asList(t, callOn(t, g, l.NodeID, "ftpeer.breakerEvents", nil)); len(evs) != 0 {
		t.Errorf("breaker events: %s, want none", jsonString(evs))
	}
}
