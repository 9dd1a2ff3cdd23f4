package livetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
)

// Cluster says how the two nodes of a Pair connect.
type Cluster struct {
	// GoURL and GoOptions are the Go broker's TransporterURL and
	// TransporterOptions.
	GoURL     string
	GoOptions map[string]any
	// JSTransporter is jsnode.js's TRANSPORTER; JSOptions, when not nil,
	// its TRANSPORTER_OPTIONS.
	JSTransporter string
	JSOptions     map[string]any
	// Serializer is used on both sides; "" is JSON.
	Serializer string
	// HeartbeatTimeout of both nodes; default 20 s (the interval is 1 s).
	HeartbeatTimeout time.Duration
}

// Pair is a Go broker and a JS node in a namespace of their own.
type Pair struct {
	Go   *bridge.Broker
	JS   *jsnode.Process
	NS   string
	GoID string
	JSID string

	t      *testing.T
	logs   *syncBuffer
	events chan received
}

type received struct {
	event, sender string
	data          bridge.Value
}

// GoService is the service of the pair's Go node: gosvc.hello answers
// {"hello": <name>, "node": <Go node ID>}; events "molbridge.**" are
// recorded.
const GoService = "gosvc"

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewPair starts the Go broker, then the JS node, and waits until each
// knows the other's services.
func NewPair(t *testing.T, c Cluster) *Pair {
	t.Helper()
	if _, err := jsnode.Script(); err != nil {
		t.Fatalf("the live interop tests need Node.js and compat/node_modules: %v", err)
	}
	begin := time.Now()
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = 20 * time.Second
	}
	id := randHex(4)
	p := &Pair{NS: "tr-" + id, GoID: "go-" + id, JSID: "js-" + id, t: t, logs: &syncBuffer{},
		events: make(chan received, 64)}
	b, err := bridge.New(bridge.Options{
		NodeID: p.GoID, Namespace: p.NS,
		TransporterURL: c.GoURL, TransporterOptions: c.GoOptions, SerializerName: c.Serializer,
		HeartbeatInterval: time.Second, HeartbeatTimeout: c.HeartbeatTimeout,
		Logger: slog.New(slog.NewTextHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("bridge.New: %v", err)
	}
	err = b.AddService(bridge.Service{
		Name: GoService,
		Actions: []bridge.Action{{Name: "hello", Handler: func(ctx *bridge.Context) (any, error) {
			var in struct{ Name string }
			if err := ctx.Params.Decode(&in); err != nil {
				return nil, err
			}
			return map[string]any{"hello": in.Name, "node": p.GoID}, nil
		}}},
		Events: []bridge.Event{{Name: "molbridge.**", Handler: func(ctx *bridge.Context) error {
			select {
			case p.events <- received{event: ctx.EventName, sender: ctx.NodeID, data: ctx.Params}:
			default:
			}
			return nil
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Go broker start (%s): %v", c.GoURL, err)
	}
	p.Go = b
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = b.Stop(sctx)
		if t.Failed() {
			t.Logf("--- Go node %s log ---\n%s", p.GoID, p.logs.String())
		}
	})

	env := map[string]string{"HEARTBEAT_INTERVAL": "1",
		"HEARTBEAT_TIMEOUT": fmt.Sprint(c.HeartbeatTimeout.Seconds())}
	if c.Serializer != "" {
		env["SERIALIZER"] = c.Serializer
	}
	if c.JSOptions != nil {
		raw, err := json.Marshal(c.JSOptions)
		if err != nil {
			t.Fatal(err)
		}
		env["TRANSPORTER_OPTIONS"] = string(raw)
	}
	goUp := time.Now()
	p.JS = jsnode.Start(t, jsnode.Options{NodeID: p.JSID, Namespace: p.NS, Transporter: c.JSTransporter, Env: env})
	jsUp := time.Now()

	if err := b.WaitForServices(ctx, "jspeer"); err != nil {
		t.Fatalf("the Go node never saw the JS node's services: %v", err)
	}
	if _, err := p.Go.Call(ctx, "jspeer.waitFor", map[string]any{"services": []string{GoService}, "timeout": 15000},
		bridge.WithTimeout(18*time.Second)); err != nil {
		t.Fatalf("the JS node never saw the Go node's services: %v", err)
	}
	t.Logf("Go node started in %v, JS node in %v, both aware of each other %v later",
		goUp.Sub(begin).Round(time.Millisecond), jsUp.Sub(goUp).Round(time.Millisecond), time.Since(jsUp).Round(time.Millisecond))
	return p
}

// Logs returns the Go broker's log so far.
func (p *Pair) Logs() string { return p.logs.String() }

// GoToJS calls jspeer.echo on the JS node and checks the answer.
func (p *Pair) GoToJS(ctx context.Context, timeout time.Duration) error {
	params := map[string]any{"n": 42, "s": "héllo", "list": []any{1, "two", true}}
	res, err := p.Go.Call(ctx, "jspeer.echo", params, bridge.WithTimeout(timeout))
	if err != nil {
		return err
	}
	var got struct {
		Params map[string]any
		NodeID string
	}
	if err := res.Decode(&got); err != nil {
		return fmt.Errorf("jspeer.echo result: %w", err)
	}
	if got.NodeID != p.JSID || !sameJSON(got.Params, params) {
		return fmt.Errorf("jspeer.echo answered %+v, want params %v from %s", got, params, p.JSID)
	}
	return nil
}

// JSToGo makes the JS node call gosvc.hello (through jspeer.capture, with
// a JS-side timeout) and checks the answer.
func (p *Pair) JSToGo(ctx context.Context, timeout time.Duration) error {
	inner := timeout * 2 / 3
	res, err := p.Go.Call(ctx, "jspeer.capture", map[string]any{
		"action": GoService + ".hello", "params": map[string]any{"name": "from-js"},
		"opts": map[string]any{"timeout": inner.Milliseconds()},
	}, bridge.WithTimeout(timeout))
	if err != nil {
		return fmt.Errorf("calling jspeer.capture: %w", err)
	}
	var got struct {
		OK     bool
		Result map[string]any
		Error  map[string]any
	}
	if err := res.Decode(&got); err != nil {
		return fmt.Errorf("jspeer.capture result: %w", err)
	}
	if !got.OK {
		return fmt.Errorf("JS %v: the JS node's call of %s.hello failed: %v", got.Error["name"], GoService, got.Error)
	}
	if got.Result["hello"] != "from-js" || got.Result["node"] != p.GoID {
		return fmt.Errorf("%s.hello answered %v to the JS node", GoService, got.Result)
	}
	return nil
}

// EmitGoToJS emits conformance.<tag> from Go and waits until both event
// groups of the JS node have recorded it.
func (p *Pair) EmitGoToJS(t *testing.T, tag string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	event := "conformance." + tag
	data := map[string]any{"tag": tag, "n": 7}
	if err := p.Go.Emit(ctx, event, data); err != nil {
		t.Fatalf("Emit %s: %v", event, err)
	}
	for {
		res, err := p.Go.Call(ctx, "jspeer.received", nil, bridge.WithTimeout(3*time.Second))
		if err != nil {
			t.Fatalf("jspeer.received: %v", err)
		}
		var got []struct {
			Event, Group, Sender string
			Data                 map[string]any
		}
		if err := res.Decode(&got); err != nil {
			t.Fatal(err)
		}
		groups := map[string]bool{}
		for _, r := range got {
			if r.Event == event && r.Sender == p.GoID && sameJSON(r.Data, data) {
				groups[r.Group] = true
			}
		}
		if groups["jspeer"] && groups["jspeer-audit"] {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the JS node did not record %s in both groups: %+v", event, got)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// EmitJSToGo makes the JS node emit molbridge.<tag> and waits until the Go
// service has received it.
func (p *Pair) EmitJSToGo(t *testing.T, tag string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	event := "molbridge." + tag
	data := map[string]any{"tag": tag, "list": []any{1, 2, 3}}
	if _, err := p.Go.Call(ctx, "jspeer.emit", map[string]any{"event": event, "data": data},
		bridge.WithTimeout(5*time.Second)); err != nil {
		t.Fatalf("jspeer.emit %s: %v", event, err)
	}
	for {
		select {
		case r := <-p.events:
			var d map[string]any
			if err := r.data.Decode(&d); err != nil {
				t.Fatal(err)
			}
			if r.event == event && r.sender == p.JSID && sameJSON(d, data) {
				return
			}
			t.Logf("Go node got another event: %s from %s: %v", r.event, r.sender, d)
		case <-ctx.Done():
			t.Fatalf("the Go node never received %s from the JS node", event)
		}
	}
}

// sameJSON compares two values by their JSON encodings, so that numbers
// decoded as float64 equal the ints they were sent as.
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var x, y any
	_ = json.Unmarshal(ja, &x)
	_ = json.Unmarshal(jb, &y)
	return reflect.DeepEqual(x, y)
}

// RunInterop runs the interoperability scenario over c: Go calls JS, JS
// calls Go, and an emitted event reaches the other side in each direction.
func RunInterop(t *testing.T, c Cluster) {
	t.Helper()
	start := time.Now()
	p := NewPair(t, c)
	t.Logf("both nodes up and aware of each other in %v", time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	step := time.Now()
	if err := p.GoToJS(ctx, 5*time.Second); err != nil {
		t.Fatalf("Go → JS call: %v", err)
	}
	if err := p.JSToGo(ctx, 5*time.Second); err != nil {
		t.Fatalf("JS → Go call: %v", err)
	}
	p.EmitGoToJS(t, "fromgo")
	p.EmitJSToGo(t, "fromjs")
	t.Logf("calls and events both ways in %v", time.Since(step).Round(time.Millisecond))
}

// Outcome is one call made while a broker restarts.
type Outcome struct {
	Kind       string
	Start, End time.Time
	Timeout    time.Duration
	Err        error
}

// RunRestart runs calls in both directions without pause while srv is
// stopped for down and started again, and checks that every call returned
// within its timeout (plus 2 s of slack), that both directions worked
// again within 10 s of the restart, and that every call made once they
// did succeeded.
func RunRestart(t *testing.T, p *Pair, srv *Server, down time.Duration) {
	t.Helper()
	const (
		callTimeout = 2 * time.Second
		// slack allows for scheduling on a loaded machine (seen: 1.2 s
		// late on 2 busy cores). The bridge starts a call's timer once
		// its REQ is published, so a slow publish adds to it as well.
		slack    = 2 * time.Second
		recovery = 10 * time.Second
	)
	var (
		mu       sync.Mutex
		outcomes []Outcome
	)
	kinds := map[string]func(context.Context) error{
		"go→js echo": func(ctx context.Context) error { return p.GoToJS(ctx, callTimeout) },
		"js→go hello": func(ctx context.Context) error {
			return p.JSToGo(ctx, callTimeout+time.Second)
		},
		"go→js sleep": func(ctx context.Context) error {
			_, err := p.Go.Call(ctx, "jspeer.sleep", map[string]any{"ms": 300}, bridge.WithTimeout(callTimeout))
			return err
		},
	}
	timeouts := map[string]time.Duration{"go→js echo": callTimeout, "js→go hello": callTimeout + time.Second,
		"go→js sleep": callTimeout}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for kind, call := range kinds {
		for range 2 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					o := Outcome{Kind: kind, Start: time.Now(), Timeout: timeouts[kind]}
					o.Err = call(context.Background())
					o.End = time.Now()
					mu.Lock()
					outcomes = append(outcomes, o)
					mu.Unlock()
					if o.Err != nil {
						time.Sleep(50 * time.Millisecond) // no busy loop while down
					}
				}
			})
		}
	}

	time.Sleep(1500 * time.Millisecond)
	stopAt := time.Now()
	srv.Stop()
	t.Logf("%s stopped in %v", srv.Name, time.Since(stopAt).Round(time.Millisecond))
	time.Sleep(down)
	srv.Start()
	upAt := time.Now()
	t.Logf("%s serving again after %v down", srv.Name, upAt.Sub(stopAt).Round(time.Millisecond))

	// Wait until every kind has succeeded after the restart, then a little
	// longer to see that it stays so.
	deadline := upAt.Add(recovery)
	firstOK := map[string]time.Time{}
	for len(firstOK) < len(kinds) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		for _, o := range outcomes {
			if o.Err == nil && o.Start.After(upAt) {
				if f, ok := firstOK[o.Kind]; !ok || o.End.Before(f) {
					firstOK[o.Kind] = o.End
				}
			}
		}
		mu.Unlock()
	}
	time.Sleep(time.Second)
	close(stop)
	waitDone := make(chan struct{})
	go func() { wg.Wait(); close(waitDone) }()
	select {
	case <-waitDone:
	case <-time.After(callTimeout + 2*slack):
		t.Errorf("calls still running %v after the load stopped: a call hangs", callTimeout+2*slack)
	}

	mu.Lock()
	defer mu.Unlock()
	var longest time.Duration
	counts := map[string]map[string]int{}
	for _, o := range outcomes {
		d := o.End.Sub(o.Start)
		if o.End.IsZero() {
			continue
		}
		longest = max(longest, d)
		if d > o.Timeout+slack {
			t.Errorf("%s call took %v (timeout %v): %v", o.Kind, d.Round(time.Millisecond), o.Timeout, o.Err)
		}
		phase := "before"
		switch {
		case o.Start.After(upAt):
			phase = "after"
		case o.End.After(stopAt):
			phase = "around the outage"
		}
		key := o.Kind + " " + phase
		if counts[key] == nil {
			counts[key] = map[string]int{}
		}
		res := "ok"
		if o.Err != nil {
			res = errorName(o.Err)
		}
		counts[key][res]++
	}
	for k, c := range counts {
		t.Logf("%-32s %v", k, c)
	}
	t.Logf("%d calls; the longest took %v", len(outcomes), longest.Round(time.Millisecond))
	for kind := range kinds {
		f, ok := firstOK[kind]
		if !ok {
			t.Errorf("%s: no successful call within %v of the restart", kind, recovery)
			continue
		}
		t.Logf("%s: working again %v after the restart", kind, f.Sub(upAt).Round(time.Millisecond))
	}
	// After recovery, every call must succeed.
	settled := upAt
	for _, f := range firstOK {
		if f.After(settled) {
			settled = f
		}
	}
	for _, o := range outcomes {
		if o.Start.After(settled.Add(500*time.Millisecond)) && o.Err != nil {
			t.Errorf("%s failed after recovery: %v", o.Kind, o.Err)
		}
	}
}

// errorName names an error for the summary: the Moleculer error name when
// it is one.
func errorName(err error) string {
	var be *bridge.Error
	if errors.As(err, &be) {
		return be.Name
	}
	s := err.Error()
	if i := strings.IndexByte(s, ':'); i > 0 {
		return s[:i]
	}
	return s
}
