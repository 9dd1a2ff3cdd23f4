// Package jsinterop is the live interop check the transporter packages run
// in their tests: a Go node (bridge.Broker) and a real moleculer 0.14 node
// (compat/jsnode.js) join one fresh namespace over a real broker, then
//
//   - Go calls jspeer.echo on the JS node,
//   - JS calls an action of the Go node (through jspeer.capture),
//   - a Go emit reaches the JS node's event handlers (not with
//     DisableBalancer, see Config), and
//   - a JS emit reaches the Go node's event handler.
//
// It is a test helper: it reports through testing.TB and fails the test on
// any difference.
package jsinterop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
	_ "github.com/molbridge/molbridge/serializers/msgpack" // the MsgPack variant
)

// Config is one run of the check.
type Config struct {
	// GoURL is the Go node's TransporterURL; JSTransporter is the JS node's
	// TRANSPORTER (defaults to GoURL).
	GoURL, JSTransporter string
	// GoOptions and JSOptions are the transporter options of each side
	// (JSOptions goes to TRANSPORTER_OPTIONS as JSON).
	GoOptions, JSOptions map[string]any
	// Serializer is the serializer of both nodes; "" means JSON.
	Serializer string
	// DisableBalancer runs both nodes with disableBalancer: true. The Go
	// emit to JS is then left out: jsnode.js's listeners are patterns
	// ("conformance.**"), and with disableBalancer a balanced event goes to
	// the channel "<prefix>.EVENTB.<group>.<event name>" while listeners
	// subscribe "<prefix>.EVENTB.<group>.<pattern>", which only brokers
	// with wildcards (NATS) match. The Go listener has an exact name.
	DisableBalancer bool
	// Timeout bounds each wait (discovery, calls, events); default 20 s.
	Timeout time.Duration
}

// RandomID returns n random bytes in hex, for namespaces and node IDs.
func RandomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type logBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

// Run runs the check. Node IDs contain only letters, digits and "-" (STAN
// client IDs allow no more).
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.JSTransporter == "" {
		cfg.JSTransporter = cfg.GoURL
	}
	suffix := RandomID(4)
	ns := "ti-" + suffix
	goID, jsID := "go-"+suffix, "js-"+suffix

	// The Go node: an action JS calls, and an event handler JS emits to.
	events := make(chan map[string]any, 16)
	logs := &logBuffer{}
	b, err := bridge.New(bridge.Options{
		NodeID:             goID,
		Namespace:          ns,
		TransporterURL:     cfg.GoURL,
		TransporterOptions: cfg.GoOptions,
		SerializerName:     cfg.Serializer,
		DisableBalancer:    cfg.DisableBalancer,
		HeartbeatInterval:  time.Second,
		HeartbeatTimeout:   30 * time.Second,
		Logger:             slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("bridge.New: %v", err)
	}
	err = b.AddService(bridge.Service{
		Name: "gosvc",
		Actions: []bridge.Action{{Name: "hello", Handler: func(ctx *bridge.Context) (any, error) {
			var p map[string]any
			if err := ctx.Params.Decode(&p); err != nil {
				return nil, err
			}
			return map[string]any{"hello": p["name"], "node": goID, "caller": ctx.NodeID}, nil
		}}},
		Events: []bridge.Event{{Name: "interop.js2go", Handler: func(ctx *bridge.Context) error {
			var p map[string]any
			_ = ctx.Params.Decode(&p)
			events <- map[string]any{"event": ctx.EventName, "data": p, "sender": ctx.NodeID}
			return nil
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	t0 := time.Now()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Go node Start over %s: %v\n%s", cfg.GoURL, err, logs.String())
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = b.Stop(sctx)
		if t.Failed() {
			t.Logf("--- Go node %s log ---\n%s", goID, logs.String())
		}
	})
	t.Logf("Go node started in %v", time.Since(t0).Round(time.Millisecond))

	env := map[string]string{}
	if cfg.Serializer != "" {
		env["SERIALIZER"] = cfg.Serializer
	}
	if cfg.JSOptions != nil {
		js, err := json.Marshal(cfg.JSOptions)
		if err != nil {
			t.Fatal(err)
		}
		env["TRANSPORTER_OPTIONS"] = string(js)
	}
	t1 := time.Now()
	js := jsnode.Start(t, jsnode.Options{
		NodeID: jsID, Namespace: ns, Transporter: cfg.JSTransporter,
		HeartbeatInterval: 1, HeartbeatTimeout: 30, DisableBalancer: cfg.DisableBalancer,
		Env: env, ReadyTimeout: cfg.Timeout,
	})
	t.Logf("JS node ready in %v", time.Since(t1).Round(time.Millisecond))

	// Each side must see the other's services.
	if err := b.WaitForServices(ctx, "jspeer"); err != nil {
		t.Fatalf("the Go node never saw the JS node's jspeer service: %v", err)
	}
	call := func(action string, params any) map[string]any {
		t.Helper()
		cctx, ccancel := context.WithTimeout(context.Background(), cfg.Timeout)
		defer ccancel()
		v, err := b.Call(cctx, action, params)
		if err != nil {
			t.Fatalf("call %s: %v", action, err)
		}
		var m map[string]any
		if err := v.Decode(&m); err != nil {
			t.Fatalf("call %s: result %v: %v", action, v, err)
		}
		return m
	}
	if _, err := jsCall(ctx, b, "jspeer.waitFor", map[string]any{"services": []string{"gosvc"}, "timeout": cfg.Timeout.Milliseconds()}); err != nil {
		t.Fatalf("the JS node never saw the Go node's gosvc service: %v", err)
	}
	t.Logf("discovery both ways after %v", time.Since(t0).Round(time.Millisecond))

	// 1. Go calls JS.
	echo := call("jspeer.echo", map[string]any{"n": 42.0, "s": "héllo"})
	params, _ := echo["params"].(map[string]any)
	if echo["nodeID"] != jsID || params["n"] != 42.0 || params["s"] != "héllo" {
		t.Errorf("jspeer.echo returned %v", echo)
	}

	// 2. JS calls Go.
	capt := call("jspeer.capture", map[string]any{"action": "gosvc.hello", "params": map[string]any{"name": "js"}})
	res, _ := capt["result"].(map[string]any)
	if capt["ok"] != true || res["hello"] != "js" || res["node"] != goID || res["caller"] != jsID {
		t.Errorf("JS calling gosvc.hello: %v", capt)
	}

	// 3. Go emits; both JS groups (jspeer, jspeer-audit) get it once.
	if !cfg.DisableBalancer {
		goEmit(t, ctx, b, goID, cfg.Timeout)
	}

	// 4. JS emits; the Go handler gets it once.
	if _, err := jsCall(ctx, b, "jspeer.emit", map[string]any{"event": "interop.js2go", "data": map[string]any{"from": "js"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		data, _ := ev["data"].(map[string]any)
		if ev["event"] != "interop.js2go" || ev["sender"] != jsID || data["from"] != "js" {
			t.Errorf("Go received %v", ev)
		}
	case <-time.After(cfg.Timeout):
		t.Fatal("the JS emit never reached the Go handler")
	}
	select {
	case ev := <-events:
		t.Errorf("a second event reached the Go handler: %v", ev)
	case <-time.After(300 * time.Millisecond):
	}
	if !js.Running() {
		t.Errorf("the JS node exited: %s", js.Stderr())
	}
	t.Logf("whole exchange in %v", time.Since(t0).Round(time.Millisecond))
}

// goEmit emits conformance.go2js from the Go node and waits until each of
// the JS node's two listener groups got it exactly once.
func goEmit(t *testing.T, ctx context.Context, b *bridge.Broker, goID string, timeout time.Duration) {
	t.Helper()
	if err := b.Emit(context.Background(), "conformance.go2js", map[string]any{"from": "go"}); err != nil {
		t.Fatalf("Emit: %v", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		var got []map[string]any
		raw, err := jsCall(ctx, b, "jspeer.received", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(raw, &got)
		groups := map[string]int{}
		for _, r := range got {
			if r["event"] == "conformance.go2js" && r["sender"] == goID {
				groups[fmt.Sprint(r["group"])]++
			}
		}
		if groups["jspeer"] == 1 && groups["jspeer-audit"] == 1 && len(got) == 2 {
			break
		}
		if time.Now().After(deadline) || len(got) > 2 {
			t.Fatalf("JS received %v for one Go emit, want one per group (jspeer, jspeer-audit)", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jsCall calls a JS action and returns its result as JSON.
func jsCall(ctx context.Context, b *bridge.Broker, action string, params any) ([]byte, error) {
	v, err := b.Call(ctx, action, params)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", action, err)
	}
	return json.Marshal(v)
}
