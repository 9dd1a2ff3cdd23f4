package bridge

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/transporters/memory"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestBroker(t *testing.T, bus *memory.Bus, id string, svcs ...Service) *Broker {
	t.Helper()
	return startBroker(t, Options{NodeID: id, Transporter: bus.Transporter(),
		HeartbeatInterval: time.Second, HeartbeatTimeout: 3 * time.Second}, nil, svcs...)
}

type addParams struct{ A, B float64 }

var mathService = Service{
	Name: "math",
	Actions: []Action{
		{Name: "add", Params: Schema{"a": "number", "b": "number"},
			Handler: Typed(func(ctx *Context, p addParams) (float64, error) { return p.A + p.B, nil })},
		{Name: "undef", Handler: func(*Context) (any, error) { return nil, nil }},
		{Name: "null", Handler: func(*Context) (any, error) { return Null, nil }},
		{Name: "meta", Handler: func(ctx *Context) (any, error) { ctx.Meta()["seen"] = true; return ctx.Level, nil }},
		{Name: "slow", Handler: func(ctx *Context) (any, error) {
			select {
			case <-time.After(300 * time.Millisecond):
			case <-ctx.Done():
			}
			return "late", nil
		}},
	},
}

func TestRemoteCallOverMemory(t *testing.T) {
	bus := memory.NewBus()
	newTestBroker(t, bus, "server", mathService)
	client := newTestBroker(t, bus, "client")
	ctx := context.Background()
	if err := client.WaitForServices(withTimeout(t, 2*time.Second), "math"); err != nil {
		t.Fatal(err)
	}

	sum, err := Call[float64](ctx, client, "math.add", map[string]any{"a": 2, "b": 3})
	if err != nil || sum != 5 {
		t.Fatalf("add = %v, %v", sum, err)
	}
	if v, err := client.Call(ctx, "math.undef", nil); err != nil || !v.IsUndefined() {
		t.Errorf("undef = %v, %v", v, err)
	}
	if v, err := client.Call(ctx, "math.null", nil); err != nil || !v.IsNull() {
		t.Errorf("null = %v, %v", v, err)
	}
	meta := Meta{"in": 1}
	if _, err := client.Call(ctx, "math.meta", nil, WithMeta(meta)); err != nil || meta["seen"] != true {
		t.Errorf("meta not merged back: %v, %v", meta, err)
	}

	_, err = client.Call(ctx, "math.add", map[string]any{"a": "x"})
	var merr *Error
	if !errors.As(err, &merr) || merr.Name != "ValidationError" || merr.Code != 422 || merr.NodeID != "server" {
		t.Fatalf("validation error = %#v", err)
	}
	items, _ := merr.Data.([]any)
	if len(items) != 2 {
		t.Fatalf("validation items = %#v", merr.Data)
	}
	first := items[0].(map[string]any)
	if first["field"] != "a" || first["type"] != "number" || first["nodeID"] != "client" || first["action"] != "math.add" {
		t.Errorf("first item = %v", first)
	}

	_, err = client.Call(ctx, "math.slow", nil, WithTimeout(50*time.Millisecond))
	if !errors.Is(err, ErrRequestTimeout) {
		t.Errorf("slow = %v, want RequestTimeoutError", err)
	}
	_, err = client.Call(ctx, "nope.nope", nil)
	if !errors.Is(err, ErrServiceNotFound) {
		t.Errorf("missing = %v", err)
	}
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestEventsOverMemory(t *testing.T) {
	bus := memory.NewBus()
	var mu sync.Mutex
	got := map[string]int{}
	record := func(tag string) EventHandler {
		return func(ctx *Context) error {
			mu.Lock()
			got[tag]++
			mu.Unlock()
			return nil
		}
	}
	svc := func(name string) Service {
		return Service{Name: name, Events: []Event{{Name: "user.*", Handler: record(name)}}}
	}
	a := newTestBroker(t, bus, "a")
	b1 := newTestBroker(t, bus, "b1", svc("mail"), svc("audit"))
	newTestBroker(t, bus, "b2", svc("audit"))
	_ = b1
	if err := a.WaitForServices(withTimeout(t, 2*time.Second), "mail", "audit"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	for range 4 {
		if err := a.Emit(context.Background(), "user.created", map[string]any{"id": 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Broadcast(context.Background(), "user.deleted", nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		done := got["mail"] == 5 && got["audit"] == 6
		mu.Unlock()
		if done {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("got %v, want mail 5 (4 emits + 1 broadcast), audit 6 (4 emits + 2 broadcast)", got)
}

// TestPendingCallsReused runs remote calls side by side, some of them
// timing out, and checks that every call gets its own result: a pending
// call goes back to the pool only once its result is taken.
func TestPendingCallsReused(t *testing.T) {
	bus := memory.NewBus()
	svc := Service{Name: "e", Actions: []Action{{Name: "echo", Handler: func(ctx *Context) (any, error) {
		var p struct{ N, SleepMs int }
		if err := ctx.Params.Decode(&p); err != nil {
			return nil, err
		}
		time.Sleep(time.Duration(p.SleepMs) * time.Millisecond)
		return p.N, nil
	}}}}
	newTestBroker(t, bus, "server", svc)
	client := newTestBroker(t, bus, "client")
	ctx := withTimeout(t, 10*time.Second)
	if err := client.WaitForServices(ctx, "e"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 30 {
				n := g*1000 + i
				slow := i%5 == 0
				params, timeout := map[string]any{"N": n}, 5*time.Second
				if slow {
					params["SleepMs"], timeout = 50, 10*time.Millisecond
				}
				got, err := Call[int](ctx, client, "e.echo", params, WithTimeout(timeout))
				switch {
				case slow && !errors.Is(err, ErrRequestTimeout):
					t.Errorf("call %d: %v, %v; want a timeout", n, got, err)
				case !slow && (err != nil || got != n):
					t.Errorf("call %d: %v, %v", n, got, err)
				}
			}
		})
	}
	wg.Wait()
}
