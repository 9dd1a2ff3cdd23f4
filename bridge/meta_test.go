package bridge

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters/memory"
)

// resLog records the meta of the RES packets a broker sends.
type resLog struct {
	mu   sync.Mutex
	meta []packets.Value
}

func (l *resLog) middleware() Middleware {
	return Middleware{TransporterSend: func(next SendFunc) SendFunc {
		return func(ctx context.Context, topic protocol.Topic, data []byte, p packets.Payload) error {
			if res, ok := p.(*packets.Response); ok {
				l.mu.Lock()
				l.meta = append(l.meta, res.Meta)
				l.mu.Unlock()
			}
			return next(ctx, topic, data, p)
		}
	}}
}

func (l *resLog) last(t *testing.T) packets.Value {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.meta) == 0 {
		t.Fatal("no RES sent")
	}
	return l.meta[len(l.meta)-1]
}

// TestServedMetaStaysEncodedUntilRead checks that a served request's meta
// is decoded only when the handler reads it: unread, it goes back in the
// RES as it came; read and changed, the changes go back.
func TestServedMetaStaysEncodedUntilRead(t *testing.T) {
	bus := memory.NewBus()
	sent := &resLog{}
	svc := Service{Name: "m", Actions: []Action{
		{Name: "untouched", Handler: func(*Context) (any, error) { return "ok", nil }},
		{Name: "changes", Handler: func(ctx *Context) (any, error) {
			ctx.Meta()["seen"] = ctx.Meta()["a"]
			return "ok", nil
		}},
		{Name: "fails", Handler: func(ctx *Context) (any, error) {
			ctx.Meta()["failed"] = true
			return nil, NewError("no", 500, "", nil)
		}},
	}}
	startBroker(t, Options{NodeID: "server", Transporter: bus.Transporter(), Middlewares: []Middleware{sent.middleware()},
		HeartbeatInterval: time.Second, HeartbeatTimeout: 3 * time.Second}, nil, svc)
	client := newTestBroker(t, bus, "client")
	ctx := withTimeout(t, 2*time.Second)
	if err := client.WaitForServices(ctx, "m"); err != nil {
		t.Fatal(err)
	}

	meta := Meta{"b": 2.0, "a": 1.0}
	if _, err := client.Call(ctx, "m.untouched", nil, WithMeta(meta)); err != nil {
		t.Fatal(err)
	}
	if raw, ok := sent.last(t).Raw(packets.JSONFormat); !ok || string(raw) != `{"a":1,"b":2}` {
		t.Errorf("unread meta went back as %v, want the JSON text that came", sent.last(t))
	}
	if !reflect.DeepEqual(meta, Meta{"a": 1.0, "b": 2.0}) {
		t.Errorf("caller's meta after the call: %v", meta)
	}

	if _, err := client.Call(ctx, "m.changes", nil, WithMeta(meta)); err != nil {
		t.Fatal(err)
	}
	if _, ok := sent.last(t).Raw(packets.JSONFormat); ok {
		t.Errorf("changed meta went back as it came: %v", sent.last(t))
	}
	if !reflect.DeepEqual(meta, Meta{"a": 1.0, "b": 2.0, "seen": 1.0}) {
		t.Errorf("caller's meta after the call: %v", meta)
	}

	if _, err := client.Call(ctx, "m.fails", nil, WithMeta(meta)); err == nil {
		t.Fatal("m.fails succeeded")
	}
	if meta["failed"] != true {
		t.Errorf("an error's meta did not reach the caller: %v", meta)
	}
}

func TestContextMeta(t *testing.T) {
	raw := packets.RawValue(packets.JSON, []byte(`{"a":1}`))
	for _, c := range []struct {
		name string
		raw  packets.Value
		want Meta
	}{
		{"object", raw, Meta{"a": 1.0}},
		{"null", packets.Null, Meta{}},
		{"undefined", packets.Undefined, Meta{}},
		{"not an object", packets.RawValue(packets.JSON, []byte(`[1]`)), Meta{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := &Context{rawMeta: &c.raw}
			if got := ctx.Meta(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Meta() = %v, want %v", got, c.want)
			}
		})
	}
	// {} goes out for none, as JS's `payload.meta || {}`.
	for _, v := range []packets.Value{packets.Null, packets.Undefined} {
		if got := (&Context{rawMeta: &v}).metaValue(); got.String() != "{}" {
			t.Errorf("metaValue of %v = %v, want {}", v, got)
		}
	}
	if got := (&Context{}).metaValue(); got.String() != "{}" {
		t.Errorf("metaValue without meta = %v, want {}", got)
	}
	if got, _ := (&Context{rawMeta: &raw}).metaValue().Raw(packets.JSONFormat); string(got) != `{"a":1}` {
		t.Errorf("unread meta sent as %q", got)
	}

	// A retry's attempts share one meta, as the copies of JS's ctx do.
	first := &Context{Context: context.Background(), rawMeta: &raw}
	again := first.retryCopy(context.Background())
	again.Meta()["x"] = true
	if first.Meta()["x"] != true {
		t.Error("a retry's change to meta did not reach the first attempt's context")
	}
}

// TestEventHandlersShareMeta: the handlers of one EVENT packet on a node
// see one meta, as the copies of JS's ctx share theirs.
func TestEventHandlersShareMeta(t *testing.T) {
	bus := memory.NewBus()
	var mu sync.Mutex
	seen := map[string]Meta{}
	done := make(chan struct{}, 2)
	listener := func(name string) Service {
		return Service{Name: name, Events: []Event{{Name: "ping", Handler: func(ctx *Context) error {
			mu.Lock()
			seen[name] = ctx.Meta()
			mu.Unlock()
			done <- struct{}{}
			return nil
		}}}}
	}
	newTestBroker(t, bus, "server", listener("one"), listener("two"))
	client := newTestBroker(t, bus, "client")
	ctx := withTimeout(t, 2*time.Second)
	if err := client.WaitForServices(ctx, "one", "two"); err != nil {
		t.Fatal(err)
	}
	if err := client.Emit(ctx, "ping", nil, WithEventMeta(Meta{"k": "v"})); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("the handlers did not run")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["one"]["k"] != "v" || reflect.ValueOf(seen["one"]).UnsafePointer() != reflect.ValueOf(seen["two"]).UnsafePointer() {
		t.Errorf("the handlers saw %v and %v, want one meta with k", seen["one"], seen["two"])
	}
}
