package bridge

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func newLocalBroker(t *testing.T, services ...Service) *Broker {
	t.Helper()
	b, err := New(Options{NodeID: "local", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		if err := b.AddService(s); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	return b
}

// recorder collects what handlers did, from any goroutine.
type recorder struct {
	mu   sync.Mutex
	list []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, s)
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.list)
}

func TestRemoveService(t *testing.T) {
	rec := &recorder{}
	stopped := func(name string) func(context.Context, *ServiceHandle) error {
		return func(context.Context, *ServiceHandle) error { rec.add("stopped:" + name); return nil }
	}
	b := newLocalBroker(t,
		Service{
			Name: "hot", Version: 2, Stopped: stopped("hot"),
			Actions: []Action{{Name: "a", Handler: func(*Context) (any, error) { return "hot", nil }}},
			Events:  []Event{{Name: "ping", Handler: func(*Context) error { rec.add("event:hot"); return nil }}},
			Mixins:  []Service{{Stopped: stopped("mixin")}},
		},
		Service{
			Name: "other", Stopped: stopped("other"),
			Events: []Event{{Name: "ping", Handler: func(*Context) error { rec.add("event:other"); return nil }}},
		})
	ctx := context.Background()
	seq := b.localInfo(false).Seq

	if err := b.RemoveService(ctx, "v2.hot"); err != nil {
		t.Fatalf("RemoveService: %v", err)
	}
	if got, want := rec.get(), []string{"stopped:hot", "stopped:mixin"}; !slices.Equal(got, want) {
		t.Errorf("stopped handlers: %v, want %v", got, want)
	}
	info := b.localInfo(false)
	if info.Seq != seq+1 {
		t.Errorf("seq %d after the removal, want %d", info.Seq, seq+1)
	}
	for _, s := range info.Services {
		if s.FullName == "v2.hot" {
			t.Errorf("INFO still has v2.hot")
		}
	}
	// As in JS: the action's list stays, without endpoints.
	_, err := b.Call(ctx, "v2.hot.a", nil)
	var merr *Error
	if !errors.As(err, &merr) || merr.Name != "ServiceNotAvailableError" || merr.Message != "Service 'v2.hot.a' is not available." {
		t.Errorf("call after the removal: %v, want ServiceNotAvailableError", err)
	}
	if err := b.Emit(ctx, "ping", nil); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.get()[2:], []string{"event:other"}; !slices.Equal(got, want) {
		t.Errorf("event handlers after the removal: %v, want %v", got, want)
	}

	err = b.RemoveService(ctx, "v2.hot")
	if !errors.As(err, &merr) || merr.Name != "ServiceNotFoundError" || merr.Message != "Service 'v2.hot' not found." {
		t.Errorf("second removal: %v, want JS's ServiceNotFoundError", err)
	}
	if !errors.Is(err, ErrServiceNotFound) {
		t.Errorf("second removal: %v is not ErrServiceNotFound", err)
	}

	// The name is free again.
	err = b.AddService(Service{Name: "hot", Version: 2,
		Actions: []Action{{Name: "a", Handler: func(*Context) (any, error) { return "again", nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Call[string](ctx, b, "v2.hot.a", nil); got != "again" || err != nil {
		t.Errorf("call after adding it again: %q, %v", got, err)
	}
	if got := b.localInfo(false).Seq; got != seq+2 {
		t.Errorf("seq %d after adding it again, want %d", got, seq+2)
	}
}

// A failing Stopped handler does not keep the service.
func TestRemoveServiceStoppedFails(t *testing.T) {
	b := newLocalBroker(t, Service{
		Name:    "svc",
		Stopped: func(context.Context, *ServiceHandle) error { return errors.New("boom") },
		Actions: []Action{{Name: "a", Handler: func(*Context) (any, error) { return 1, nil }}},
	})
	err := b.RemoveService(context.Background(), "svc")
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("RemoveService: %v, want the Stopped error", err)
	}
	if _, err := b.Call(context.Background(), "svc.a", nil); !errors.Is(err, ErrServiceNotAvail) {
		t.Errorf("call after the removal: %v, want ServiceNotAvailableError", err)
	}
}

// A service removed before Start never starts, and its Stopped does not run.
func TestRemoveServiceBeforeStart(t *testing.T) {
	var ran []string
	b, err := New(Options{NodeID: "local", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	err = b.AddService(Service{
		Name:    "svc",
		Started: func(context.Context, *ServiceHandle) error { ran = append(ran, "started"); return nil },
		Stopped: func(context.Context, *ServiceHandle) error { ran = append(ran, "stopped"); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.RemoveService(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 0 {
		t.Errorf("handlers ran: %v", ran)
	}
}

// A service removed while it waits for its dependencies does not come up
// when they arrive; its AddService returns without error, as the removal
// was asked for.
func TestRemoveServiceWhileStarting(t *testing.T) {
	b := newLocalBroker(t)
	added := make(chan error, 1)
	go func() {
		added <- b.AddService(Service{Name: "waiting", Dependencies: []string{"dep"},
			Started: func(context.Context, *ServiceHandle) error { return errors.New("started ran") },
			Actions: []Action{{Name: "a", Handler: func(*Context) (any, error) { return 1, nil }}}})
	}()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for b.localService("waiting") == nil {
		if time.Now().After(deadline) {
			t.Fatal("the service was never registered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := b.RemoveService(ctx, "waiting"); err != nil {
		t.Fatal(err)
	}
	if err := b.AddService(Service{Name: "dep"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-added:
		if err != nil {
			t.Errorf("AddService of the removed service: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("AddService of the removed service did not return")
	}
	if _, err := b.Call(ctx, "waiting.a", nil); err == nil {
		t.Error("the removed service answers")
	}
	for _, s := range b.localInfo(false).Services {
		if s.Name == "waiting" {
			t.Error("INFO has the removed service")
		}
	}
}
