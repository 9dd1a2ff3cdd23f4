package bridge

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/molbridge/molbridge/transporters/memory"
)

// startBroker starts a broker with a fake clock and the given services.
func startBroker(t *testing.T, opts Options, clk clock, svcs ...Service) *Broker {
	t.Helper()
	if opts.NodeID == "" {
		opts.NodeID = "node-1"
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if clk != nil {
		b.clock = clk
	}
	for _, s := range svcs {
		if err := b.AddService(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	return b
}

// failing is a service whose action "run" fails with the error that fail
// returns for the n-th call (1-based), or succeeds when it returns nil.
func failing(name string, calls *atomic.Int32, fail func(n int32) error) Service {
	return Service{Name: name, Actions: []Action{{Name: "run", Handler: func(ctx *Context) (any, error) {
		if err := fail(calls.Add(1)); err != nil {
			return nil, err
		}
		return "ok", nil
	}}}}
}

func retryable() error { return NewRetryableError("try again", 503, "AGAIN", nil) }

func TestRetryPolicy(t *testing.T) {
	policy := RetryPolicy{Enabled: true, Retries: 3, Delay: 100 * time.Millisecond, MaxDelay: 250 * time.Millisecond, Factor: 2}
	tests := []struct {
		name      string
		err       func() error
		opts      []CallOption
		action    *RetryPolicy
		wantCalls int32
		wantSleep []time.Duration
	}{
		{"retryable error: every retry, delays grow up to MaxDelay", retryable, nil, nil, 4,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond}},
		{"non-retryable error: no retry", func() error { return NewError("no", 500, "", nil) }, nil, nil, 1, nil},
		{"plain Go error: no retry", func() error { return errors.New("plain") }, nil, nil, 1, nil},
		{"per-call retries", retryable, []CallOption{WithRetries(1)}, nil, 2, []time.Duration{100 * time.Millisecond}},
		{"per-call no retries", retryable, []CallOption{WithRetries(0)}, nil, 1, nil},
		{"action disables the policy", retryable, nil, &RetryPolicy{Disabled: true}, 1, nil},
		{"action sets its own count", retryable, nil, &RetryPolicy{Retries: 1}, 2, []time.Duration{100 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			var calls atomic.Int32
			svc := failing("svc", &calls, func(int32) error { return tt.err() })
			svc.Actions[0].RetryPolicy = tt.action
			b := startBroker(t, Options{RetryPolicy: policy}, clk, svc)
			_, err := b.Call(context.Background(), "svc.run", nil, tt.opts...)
			if err == nil {
				t.Fatal("call succeeded")
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("handler ran %d times, want %d", got, tt.wantCalls)
			}
			if got := clk.slept(); !slices.Equal(got, tt.wantSleep) {
				t.Errorf("pauses %v, want %v", got, tt.wantSleep)
			}
		})
	}
}

func TestRetrySucceedsAfterFailures(t *testing.T) {
	var calls atomic.Int32
	b := startBroker(t, Options{RetryPolicy: RetryPolicy{Enabled: true}}, newFakeClock(),
		failing("svc", &calls, func(n int32) error {
			if n < 3 {
				return retryable()
			}
			return nil
		}))
	v, err := b.Call(context.Background(), "svc.run", nil)
	if err != nil || v.String() != `"ok"` {
		t.Fatalf("call = %v, %v", v, err)
	}
	if calls.Load() != 3 {
		t.Errorf("handler ran %d times, want 3", calls.Load())
	}
}

// A retry goes through the balancer again, so to the other node; the node
// that serves a remote request never retries it itself.
func TestRetryMovesToAnotherNode(t *testing.T) {
	bus := memory.NewBus()
	var badCalls, goodCalls atomic.Int32
	policy := RetryPolicy{Enabled: true, Delay: time.Millisecond}
	startOn := func(id string, svc Service) *Broker {
		b, err := New(Options{NodeID: id, Transporter: bus.Transporter(), Logger: quietLogger(), RetryPolicy: policy})
		if err != nil {
			t.Fatal(err)
		}
		if svc.Name != "" {
			if err := b.AddService(svc); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Stop(context.Background()) })
		return b
	}
	startOn("bad", failing("svc", &badCalls, func(int32) error { return retryable() }))
	startOn("good", failing("svc", &goodCalls, func(int32) error { return nil }))
	client := startOn("client", Service{})
	waitEndpoints(t, client, "svc.run", 2)
	for i := range 10 {
		if _, err := client.Call(context.Background(), "svc.run", nil); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if goodCalls.Load() != 10 {
		t.Errorf("good node served %d calls, want 10", goodCalls.Load())
	}
	// The round-robin counter moves on at each attempt, so each call's
	// first attempt may land on the bad node: once per call at most, as
	// the bad node does not retry what it serves.
	if n := badCalls.Load(); n < 1 || n > 10 {
		t.Errorf("bad node ran %d times, want 1 to 10", n)
	}
	// A caller without a retry policy: the serving node, whose policy is
	// on, does not retry for it.
	plain, err := New(Options{NodeID: "plain", Transporter: bus.Transporter(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer plain.Stop(context.Background())
	waitEndpoints(t, plain, "svc.run", 2)
	badCalls.Store(0)
	if _, err := plain.Call(context.Background(), "svc.run", nil, WithNodeID("bad")); !IsRetryable(err) {
		t.Fatalf("call to the bad node: %v", err)
	}
	if n := badCalls.Load(); n != 1 {
		t.Errorf("the bad node ran %d times for one request, want 1", n)
	}
}

func waitEndpoints(t *testing.T, b *Broker, action string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b.reg.mu.RLock()
		l := b.reg.actions[action]
		got := 0
		if l != nil {
			got = len(l.endpoints)
		}
		b.reg.mu.RUnlock()
		if got >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: fewer than %d endpoints after 5 s", action, n)
}

// events collects the "$circuit-breaker.*" events a broker broadcasts.
type events struct {
	mu   sync.Mutex
	list []string
	data []map[string]any
}

func (e *events) record(name string, payload any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, name)
	m, _ := payload.(map[string]any)
	e.data = append(e.data, m)
}

func (e *events) names(b *Broker) []string {
	b.flushBus()
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

func TestCircuitBreaker(t *testing.T) {
	clk := newFakeClock()
	var fail atomic.Bool
	var calls atomic.Int32
	cb := CircuitBreakerOptions{Enabled: true, Threshold: 0.5, MinRequestCount: 3,
		WindowTime: time.Minute, HalfOpenTime: 10 * time.Second}
	b := startBroker(t, Options{CircuitBreaker: cb}, clk, failing("svc", &calls, func(int32) error {
		if fail.Load() {
			return NewError("down", 500, "", nil)
		}
		return nil
	}))
	ev := &events{}
	b.OnLocalEvent("$circuit-breaker.**", ev.record)
	ctx := context.Background()
	call := func() error { _, err := b.Call(ctx, "svc.run", nil); return err }

	// One success, two failures: 2/3 failed ≥ 0.5 with 3 calls.
	if err := call(); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	_ = call()
	if got := ev.names(b); len(got) != 0 {
		t.Fatalf("events after 2 calls: %v", got)
	}
	_ = call()
	if got := ev.names(b); !slices.Equal(got, []string{"$circuit-breaker.opened"}) {
		t.Fatalf("events = %v, want opened", got)
	}
	want := map[string]any{"nodeID": "node-1", "service": "svc", "action": "svc.run", "failures": 2, "count": 3, "rate": 2.0 / 3}
	if got := ev.data[0]; !mapsEqual(got, want) {
		t.Errorf("opened payload = %v, want %v", got, want)
	}

	// Open: the only endpoint is skipped.
	before := calls.Load()
	if err := call(); !errors.Is(err, ErrServiceNotAvail) {
		t.Errorf("call while open: %v, want ServiceNotAvailableError", err)
	}
	if calls.Load() != before {
		t.Error("the handler ran while the circuit was open")
	}

	// After HalfOpenTime one call goes through; its success closes it.
	clk.Advance(10 * time.Second)
	fail.Store(false)
	if err := call(); err != nil {
		t.Fatalf("call when half-open: %v", err)
	}
	if got := ev.names(b); !slices.Equal(got, []string{"$circuit-breaker.opened", "$circuit-breaker.half-opened", "$circuit-breaker.closed"}) {
		t.Errorf("events = %v", got)
	}
	if err := call(); err != nil {
		t.Errorf("call after close: %v", err)
	}
}

func TestCircuitBreakerHalfOpenFailureReopens(t *testing.T) {
	clk := newFakeClock()
	var calls atomic.Int32
	cb := CircuitBreakerOptions{Enabled: true, Threshold: 0.5, MinRequestCount: 1, HalfOpenTime: time.Second}
	b := startBroker(t, Options{CircuitBreaker: cb}, clk, failing("svc", &calls, func(int32) error {
		return NewError("down", 500, "", nil)
	}))
	ev := &events{}
	b.OnLocalEvent("$circuit-breaker.**", ev.record)
	_, _ = b.Call(context.Background(), "svc.run", nil)
	clk.Advance(time.Second)
	_, _ = b.Call(context.Background(), "svc.run", nil) // the half-open trial fails
	if got := ev.names(b); !slices.Equal(got, []string{"$circuit-breaker.opened", "$circuit-breaker.half-opened", "$circuit-breaker.opened"}) {
		t.Errorf("events = %v", got)
	}
	if _, err := b.Call(context.Background(), "svc.run", nil); !errors.Is(err, ErrServiceNotAvail) {
		t.Errorf("after a failed trial: %v, want ServiceNotAvailableError", err)
	}
}

func TestCircuitBreakerCounting(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		advance time.Duration // between the two halves of the calls
		opens   bool
	}{
		{"server errors count", NewError("down", 500, "", nil), 0, true},
		{"client errors do not", NewClientError("bad", 422, "", nil), 0, false},
		{"errors of a third node do not", &Error{Name: "MoleculerError", Code: 500, NodeID: "elsewhere"}, 0, false},
		{"the window resets the counts", NewError("down", 500, "", nil), time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			var calls atomic.Int32
			cb := CircuitBreakerOptions{Enabled: true, Threshold: 0.5, MinRequestCount: 4, WindowTime: time.Minute}
			b := startBroker(t, Options{CircuitBreaker: cb}, clk, failing("svc", &calls, func(int32) error { return tt.err }))
			ev := &events{}
			b.OnLocalEvent("$circuit-breaker.**", ev.record)
			for i := range 4 {
				if i == 2 {
					clk.Advance(tt.advance)
				}
				_, _ = b.Call(context.Background(), "svc.run", nil)
			}
			if opened := len(ev.names(b)) > 0; opened != tt.opens {
				t.Errorf("opened = %v, want %v", opened, tt.opens)
			}
		})
	}
}

func TestBulkhead(t *testing.T) {
	release := make(chan struct{})
	var running, maxRunning atomic.Int32
	var order []int
	var mu sync.Mutex
	svc := Service{Name: "svc", Actions: []Action{{
		Name:     "work",
		Bulkhead: &BulkheadOptions{Enabled: true, Concurrency: 2, MaxQueueSize: 2},
		Handler: func(ctx *Context) (any, error) {
			n := running.Add(1)
			for {
				m := maxRunning.Load()
				if n <= m || maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			var p struct{ I int }
			_ = ctx.Params.Decode(&p)
			mu.Lock()
			order = append(order, p.I)
			mu.Unlock()
			<-release
			running.Add(-1)
			return p.I, nil
		},
	}}}
	b := startBroker(t, Options{}, nil, svc)
	results := make(chan error, 5)
	for i := range 4 {
		go func() {
			_, err := b.Call(context.Background(), "svc.work", map[string]any{"i": i})
			results <- err
		}()
		// Start them in order, so that the queue order is known.
		eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(order) == min(i+1, 2)
		})
		if i >= 2 {
			time.Sleep(10 * time.Millisecond) // let call i reach the queue
		}
	}
	// Two run, two wait: the fifth is refused at once.
	_, err := b.Call(context.Background(), "svc.work", map[string]any{"i": 4})
	var merr *Error
	if !errors.As(err, &merr) || merr.Name != "QueueIsFullError" || merr.Code != 429 {
		t.Fatalf("fifth call: %v, want QueueIsFullError", err)
	}
	if want := map[string]any{"action": "svc.work", "nodeID": "node-1"}; !mapsEqual(merr.Data.(map[string]any), want) {
		t.Errorf("error data = %v, want %v", merr.Data, want)
	}
	// Finish one execution at a time: the queue runs first in, first out.
	for n := 3; n <= 4; n++ {
		release <- struct{}{}
		eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(order) == n
		})
	}
	close(release)
	for range 4 {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	if maxRunning.Load() != 2 {
		t.Errorf("max concurrent = %d, want 2", maxRunning.Load())
	}
	if !slices.Equal(order, []int{0, 1, 2, 3}) {
		t.Errorf("run order = %v, want first in first out", order)
	}
}

func TestEventBulkhead(t *testing.T) {
	release := make(chan struct{})
	var ran atomic.Int32
	svc := Service{Name: "svc", Events: []Event{{
		Name:     "job",
		Bulkhead: &BulkheadOptions{Enabled: true, Concurrency: 1, MaxQueueSize: 1},
		Handler: func(*Context) error {
			ran.Add(1)
			<-release
			return nil
		},
	}}}
	b := startBroker(t, Options{}, nil, svc)
	done := make(chan struct{}, 3)
	for range 3 {
		go func() {
			_ = b.BroadcastLocal(context.Background(), "job", nil)
			done <- struct{}{}
		}()
	}
	// One runs, one waits, the third is refused and returns at once.
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("no event was refused")
	}
	close(release)
	<-done
	<-done
	if ran.Load() != 2 {
		t.Errorf("handler ran %d times, want 2", ran.Load())
	}
}

func TestFallback(t *testing.T) {
	down := NewError("down", 500, "", nil)
	svc := Service{Name: "svc", Actions: []Action{
		{Name: "fails", Handler: func(*Context) (any, error) { return nil, down }},
		{Name: "guarded", Handler: func(*Context) (any, error) { return nil, down },
			Fallback: func(ctx *Context, err error) (any, error) { return "from definition: " + err.Error(), nil }},
		{Name: "byMethod", Handler: func(*Context) (any, error) { return nil, down }, FallbackMethod: "spare"},
		{Name: "badMethod", Handler: func(*Context) (any, error) { return nil, down }, FallbackMethod: "missing"},
	}, Methods: map[string]any{
		"spare": func(ctx *Context, err error) (any, error) { return "from method", nil },
	}}
	b := startBroker(t, Options{}, nil, svc)
	ctx := context.Background()
	tests := []struct {
		name, action string
		opts         []CallOption
		want         string
	}{
		{"call option value", "svc.fails", []CallOption{WithFallbackValue("plan B")}, `"plan B"`},
		{"call option function", "svc.fails", []CallOption{WithFallback(func(c *Context, err error) (any, error) {
			return map[string]any{"fallback": c.FallbackResult(), "err": err.(*Error).Message}, nil
		})}, `{"err":"down","fallback":true}`},
		{"action definition", "svc.guarded", nil, `"from definition: MoleculerError: down"`},
		{"call option before the definition", "svc.guarded", []CallOption{WithFallbackValue(1)}, `1`},
		{"method named by the definition", "svc.byMethod", nil, `"from method"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := b.Call(ctx, tt.action, nil, tt.opts...)
			if err != nil || v.String() != tt.want {
				t.Errorf("= %v, %v; want %s", v, err, tt.want)
			}
		})
	}
	if _, err := b.Call(ctx, "svc.fails", nil); !errors.Is(err, ErrMoleculer) {
		t.Errorf("without fallback: %v", err)
	}
	_, err := b.Call(ctx, "svc.badMethod", nil)
	if want := "MoleculerError: The 'fallback' of 'svc.badMethod' action is not a Function or valid method name: missing"; err == nil || err.Error() != want {
		t.Errorf("missing fallback method: %v", err)
	}
}

func TestTimeoutPrecedence(t *testing.T) {
	slow := func(ctx *Context) (any, error) {
		select {
		case <-time.After(80 * time.Millisecond):
			return "done", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	svc := Service{Name: "svc", Actions: []Action{
		{Name: "slow", Handler: slow},
		{Name: "limited", Handler: slow, Timeout: 20 * time.Millisecond},
	}}
	b := startBroker(t, Options{RequestTimeout: 30 * time.Millisecond}, nil, svc)
	ctx := context.Background()
	tests := []struct {
		name, action string
		opts         []CallOption
		timesOut     bool
	}{
		{"broker's requestTimeout", "svc.slow", nil, true},
		{"action's timeout", "svc.limited", nil, true},
		{"call's timeout over the action's", "svc.limited", []CallOption{WithTimeout(time.Second)}, false},
		{"negative call timeout: none", "svc.slow", []CallOption{WithTimeout(-1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.Call(ctx, tt.action, nil, tt.opts...)
			if got := errors.Is(err, ErrRequestTimeout); got != tt.timesOut {
				t.Errorf("err = %v; timed out %v, want %v", err, got, tt.timesOut)
			}
		})
	}
}

func TestMaxCallLevel(t *testing.T) {
	svc := Service{Name: "svc", Actions: []Action{{Name: "deep", Handler: func(ctx *Context) (any, error) {
		return ctx.Call("svc.deep", nil)
	}}}}
	b := startBroker(t, Options{MaxCallLevel: 3}, nil, svc)
	_, err := b.Call(context.Background(), "svc.deep", nil)
	var merr *Error
	if !errors.As(err, &merr) || merr.Name != "MaxCallLevelError" {
		t.Fatalf("err = %v, want MaxCallLevelError", err)
	}
	if want := map[string]any{"nodeID": "node-1", "level": 3}; !mapsEqual(merr.Data.(map[string]any), want) {
		t.Errorf("data = %v, want %v", merr.Data, want)
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 2 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !equalNumbers(v, w) {
			return false
		}
	}
	return true
}

func equalNumbers(a, b any) bool {
	f := func(v any) (float64, bool) {
		switch n := v.(type) {
		case int:
			return float64(n), true
		case float64:
			return n, true
		}
		return 0, false
	}
	if x, ok := f(a); ok {
		y, ok := f(b)
		return ok && x == y
	}
	return a == b
}
