package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters/memory"
)

// hookLog records the hooks of the recording middlewares, as
// compat/mworder.js does in JS.
type hookLog struct {
	mu          sync.Mutex
	seq         []string
	transporter map[string]bool
}

func (l *hookLog) add(s string) {
	l.mu.Lock()
	l.seq = append(l.seq, s)
	l.mu.Unlock()
}

func (l *hookLog) rec(hook, mw, name string) {
	if strings.HasPrefix(name, "$") {
		return
	}
	if name == "" {
		l.add(hook + ":" + mw)
	} else {
		l.add(hook + ":" + mw + ":" + name)
	}
}

func (l *hookLog) middleware(mw string) bridge.Middleware {
	lifecycle := func(hook string) func(context.Context, *bridge.Broker) error {
		return func(context.Context, *bridge.Broker) error { l.rec(hook, mw, ""); return nil }
	}
	svcHook := func(hook string) func(context.Context, *bridge.ServiceHandle) error {
		return func(_ context.Context, s *bridge.ServiceHandle) error { l.rec(hook, mw, s.FullName()); return nil }
	}
	emitHook := func(hook string) func(bridge.EmitFunc) bridge.EmitFunc {
		return func(next bridge.EmitFunc) bridge.EmitFunc {
			return func(ctx context.Context, event string, data any, o bridge.EmitOptions) error {
				l.rec(hook, mw, event)
				return next(ctx, event, data, o)
			}
		}
	}
	return bridge.Middleware{
		Name:            mw,
		Created:         func(*bridge.Broker) { l.rec("created", mw, "") },
		Starting:        lifecycle("starting"),
		Started:         lifecycle("started"),
		Stopping:        lifecycle("stopping"),
		Stopped:         lifecycle("stopped"),
		ServiceCreated:  func(s *bridge.ServiceHandle) { l.rec("serviceCreated", mw, s.FullName()) },
		ServiceStarting: svcHook("serviceStarting"),
		ServiceStarted:  svcHook("serviceStarted"),
		ServiceStopping: svcHook("serviceStopping"),
		ServiceStopped:  svcHook("serviceStopped"),
		LocalAction: func(next bridge.Handler, a *bridge.ActionSpec) bridge.Handler {
			return func(c *bridge.Context) (any, error) { l.rec("localAction", mw, a.Name); return next(c) }
		},
		RemoteAction: func(next bridge.Handler, a *bridge.ActionSpec) bridge.Handler {
			return func(c *bridge.Context) (any, error) { l.rec("remoteAction", mw, a.Name); return next(c) }
		},
		LocalEvent: func(next bridge.EventHandler, e *bridge.EventSpec) bridge.EventHandler {
			return func(c *bridge.Context) error { l.rec("localEvent", mw, e.Name); return next(c) }
		},
		Call: func(next bridge.CallFunc) bridge.CallFunc {
			return func(ctx context.Context, action string, params any, o bridge.CallOptions) (bridge.Value, error) {
				l.rec("call", mw, action)
				return next(ctx, action, params, o)
			}
		},
		Emit:           emitHook("emit"),
		Broadcast:      emitHook("broadcast"),
		BroadcastLocal: emitHook("broadcastLocal"),
		TransporterSend: func(next bridge.SendFunc) bridge.SendFunc {
			return func(ctx context.Context, topic protocol.Topic, data []byte, p packets.Payload) error {
				l.mu.Lock()
				l.transporter["send:"+mw] = true
				l.mu.Unlock()
				return next(ctx, topic, data, p)
			}
		},
		TransporterReceive: func(next bridge.ReceiveFunc) bridge.ReceiveFunc {
			return func(t protocol.PacketType, data []byte) {
				l.mu.Lock()
				l.transporter["receive:"+mw] = true
				l.mu.Unlock()
				next(t, data)
			}
		},
	}
}

// jsHookOrder runs compat/mworder.js.
func jsHookOrder(t *testing.T) (seq []string, transporter map[string]bool) {
	t.Helper()
	script, err := jsnode.Script()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "mworder.js")
	cmd.Dir = filepath.Dir(script)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node compat/mworder.js: %v", err)
	}
	var res struct {
		Sequence    []string
		Transporter map[string]bool
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res.Sequence, res.Transporter
}

// The hooks of two user middlewares fire in the order JS fires them, for
// the same scenario.
func TestMiddlewareOrderMatchesJS(t *testing.T) {
	wantSeq, wantTr := jsHookOrder(t)

	log := &hookLog{transporter: map[string]bool{}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus := memory.NewBus()
	ctx := context.Background()

	remote, err := bridge.New(bridge.Options{NodeID: "n2", Transporter: bus.Transporter(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.AddService(bridge.Service{Name: "remote", Actions: []bridge.Action{{Name: "act",
		Handler: func(*bridge.Context) (any, error) { return "remote", nil }}}}); err != nil {
		t.Fatal(err)
	}
	if err := remote.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer remote.Stop(ctx)

	b, err := bridge.New(bridge.Options{NodeID: "n1", Transporter: bus.Transporter(), Logger: quiet,
		Middlewares: []bridge.Middleware{log.middleware("A"), log.middleware("B")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddService(bridge.Service{
		Name: "svc",
		Actions: []bridge.Action{{Name: "act", Handler: func(*bridge.Context) (any, error) {
			log.add("handler:svc.act")
			return "local", nil
		}}},
		Events: []bridge.Event{{Name: "ev", Handler: func(*bridge.Context) error { log.add("handler:ev"); return nil }}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.WaitForServices(wctx, "remote"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		run  func() error
	}{
		{"call local", func() error { _, err := b.Call(ctx, "svc.act", nil); return err }},
		{"call remote", func() error { _, err := b.Call(ctx, "remote.act", nil); return err }},
		{"emit", func() error { return b.Emit(ctx, "ev", nil) }},
		{"broadcast", func() error { return b.Broadcast(ctx, "ev", nil) }},
		{"broadcastLocal", func() error { return b.BroadcastLocal(ctx, "ev", nil) }},
		{"stop", func() error { return b.Stop(ctx) }},
	}
	for _, s := range steps {
		log.add("-- " + s.name)
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	if !slices.Equal(log.seq, wantSeq) {
		t.Errorf("hook order differs from JS's\n%s", sideBySide(log.seq, wantSeq))
	}
	if fmt.Sprint(log.transporter) != fmt.Sprint(wantTr) {
		t.Errorf("transporter hooks fired: %v, JS: %v", log.transporter, wantTr)
	}
}

func sideBySide(got, want []string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-4s %-36s %s\n", "", "Go", "JS")
	for i := range max(len(got), len(want)) {
		g, w := "", ""
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		mark := " "
		if g != w {
			mark = "≠"
		}
		fmt.Fprintf(&sb, "%-4d %-36s %s %s\n", i, g, mark, w)
	}
	return sb.String()
}
