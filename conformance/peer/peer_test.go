package peer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/peer"
	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/transporters/memory"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// memCluster starts a broker hosting the catalog and a client broker on one
// in-memory bus, and returns the client.
func memCluster(t *testing.T) (*bridge.Broker, *peer.Peer) {
	t.Helper()
	bus := memory.NewBus()
	start := func(id string, register func(*bridge.Broker) error) *bridge.Broker {
		b, err := bridge.New(bridge.Options{NodeID: id, Transporter: bus.Transporter(), Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		if register != nil {
			if err := register(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Stop(context.Background()) })
		return b
	}
	p := peer.New()
	start("gonode", p.Register)
	client := start("client", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.WaitForServices(ctx, "gopeer", "gopeer-audit", "v2.gopeer"); err != nil {
		t.Fatal(err)
	}
	return client, p
}

// asJSON re-encodes a value for comparison with a JSON literal.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(x) // sorted keys
	return string(b)
}

func canon(t *testing.T, s string) string {
	t.Helper()
	var x any
	if err := json.Unmarshal([]byte(s), &x); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(x)
	return string(b)
}

func TestCatalogOverMemory(t *testing.T) {
	client, p := memCluster(t)
	ctx := context.Background()

	t.Run("echo", func(t *testing.T) {
		meta := bridge.Meta{"user": "ada"}
		v, err := client.Call(ctx, "gopeer.echo", json.RawMessage(`{"x":[1,2.5,"s",null,{"y":true}]}`), bridge.WithMeta(meta))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := v.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if asJSON(t, got["params"]) != canon(t, `{"x":[1,2.5,"s",null,{"y":true}]}`) {
			t.Errorf("params = %v", got["params"])
		}
		if asJSON(t, got["meta"]) != `{"user":"ada"}` {
			t.Errorf("meta = %v (echoed must not be in the copy)", got["meta"])
		}
		if got["nodeID"] != "gonode" || got["caller"] != nil || got["parentID"] != nil || got["level"] != 1.0 {
			t.Errorf("echo = %v", got)
		}
		if rid, _ := got["requestID"].(string); rid == "" {
			t.Errorf("requestID = %v", got["requestID"])
		}
		if meta["echoed"] != true {
			t.Errorf("meta not merged back: %v", meta)
		}
	})

	t.Run("add", func(t *testing.T) {
		sum, err := bridge.Call[float64](ctx, client, "gopeer.add", map[string]any{"a": 1, "b": 2})
		if err != nil || sum != 3 {
			t.Fatalf("add = %v, %v", sum, err)
		}
		_, err = client.Call(ctx, "gopeer.add", map[string]any{"a": "x", "b": 2})
		var merr *bridge.Error
		if !errors.As(err, &merr) || merr.Name != "ValidationError" || merr.Code != 422 {
			t.Fatalf("add {a:x} = %v", err)
		}
		if items, _ := merr.Data.([]any); len(items) != 1 || items[0].(map[string]any)["field"] != "a" {
			t.Errorf("data = %#v", merr.Data)
		}
	})

	t.Run("v2.echo", func(t *testing.T) {
		v, err := client.Call(ctx, "v2.gopeer.echo", nil)
		if err != nil || asJSON(t, v) != `{"version":2}` {
			t.Fatalf("v2.gopeer.echo = %v, %v", v, err)
		}
	})

	t.Run("fail", func(t *testing.T) {
		cases := []struct {
			params    map[string]any
			want      bridge.Error
			retryable bool
		}{
			{map[string]any{"message": "boom"}, bridge.Error{Name: "MoleculerError", Message: "boom", Code: 500}, false},
			{map[string]any{"name": "MoleculerClientError", "message": "bad", "type": "BAD", "data": map[string]any{"k": 1}},
				bridge.Error{Name: "MoleculerClientError", Message: "bad", Code: 400, Type: "BAD"}, false},
			{map[string]any{"name": "MoleculerRetryableError", "message": "again", "code": 503},
				bridge.Error{Name: "MoleculerRetryableError", Message: "again", Code: 503}, true},
			{map[string]any{"name": "MoleculerError", "message": "r", "retryable": true},
				bridge.Error{Name: "MoleculerError", Message: "r", Code: 500}, true},
			{map[string]any{"name": "Nope"}, bridge.Error{Name: "MoleculerClientError", Message: "fail: unknown error name Nope", Code: 422, Type: "BAD_NAME"}, false},
		}
		for _, c := range cases {
			_, err := client.Call(ctx, "gopeer.fail", c.params)
			var merr *bridge.Error
			if !errors.As(err, &merr) {
				t.Fatalf("fail %v = %v", c.params, err)
			}
			if merr.Name != c.want.Name || merr.Message != c.want.Message || merr.Code != c.want.Code ||
				merr.Type != c.want.Type || merr.Retryable != c.retryable || merr.NodeID != "gonode" {
				t.Errorf("fail %v = %#v", c.params, merr)
			}
			if d, ok := c.params["data"]; ok && asJSON(t, merr.Data) != asJSON(t, d) {
				t.Errorf("data = %v", merr.Data)
			}
		}
	})

	t.Run("sleep", func(t *testing.T) {
		t0 := time.Now()
		v, err := client.Call(ctx, "gopeer.sleep", map[string]any{"ms": 50})
		if err != nil || asJSON(t, v) != `{"slept":50}` || time.Since(t0) < 50*time.Millisecond {
			t.Fatalf("sleep = %v, %v after %v", v, err, time.Since(t0))
		}
		_, err = client.Call(ctx, "gopeer.sleep", map[string]any{"ms": 2000}, bridge.WithTimeout(50*time.Millisecond))
		if !errors.Is(err, bridge.ErrRequestTimeout) {
			t.Fatalf("sleep with timeout = %v", err)
		}
	})

	t.Run("call", func(t *testing.T) {
		meta := bridge.Meta{"outer": 1}
		v, err := client.Call(ctx, "gopeer.call", map[string]any{
			"action": "gopeer.echo", "params": map[string]any{"p": "q"}, "meta": map[string]any{"inner": 2},
		}, bridge.WithMeta(meta))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := v.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if asJSON(t, got["params"]) != `{"p":"q"}` || got["level"] != 2.0 || got["caller"] != "gopeer" || got["parentID"] == nil {
			t.Errorf("nested echo = %v", got)
		}
		if asJSON(t, got["meta"]) != `{"inner":2,"outer":1}` {
			t.Errorf("nested meta = %v", got["meta"])
		}
		if meta["echoed"] != true {
			t.Errorf("meta not merged back through gopeer.call: %v", meta)
		}

		// Errors come back unchanged.
		_, err = client.Call(ctx, "gopeer.call", map[string]any{
			"action": "gopeer.fail", "params": map[string]any{"name": "MoleculerClientError", "message": "inner", "code": 409},
		})
		var merr *bridge.Error
		if !errors.As(err, &merr) || merr.Name != "MoleculerClientError" || merr.Code != 409 || merr.Message != "inner" {
			t.Errorf("nested fail = %v", err)
		}
		_, err = client.Call(ctx, "gopeer.call", map[string]any{
			"action": "gopeer.sleep", "params": map[string]any{"ms": 2000}, "opts": map[string]any{"timeout": 50},
		})
		if !errors.Is(err, bridge.ErrRequestTimeout) {
			t.Errorf("nested timeout = %v", err)
		}
		_, err = client.Call(ctx, "gopeer.call", map[string]any{
			"action": "gopeer.echo", "opts": map[string]any{"nodeID": "elsewhere"},
		})
		if !errors.Is(err, bridge.ErrServiceNotFound) {
			t.Errorf("call with opts.nodeID elsewhere = %v", err)
		}
	})

	t.Run("events", func(t *testing.T) {
		if _, err := client.Call(ctx, "gopeer.reset", nil); err != nil {
			t.Fatal(err)
		}
		if err := client.Emit(ctx, "conformance.a", map[string]any{"n": 1}); err != nil {
			t.Fatal(err)
		}
		want := []peer.Received{
			{Event: "conformance.a", Data: packets.ValueOf(map[string]any{"n": 1}), Group: "gopeer", Sender: "client"},
			{Event: "conformance.a", Data: packets.ValueOf(map[string]any{"n": 1}), Group: "gopeer-audit", Sender: "client"},
		}
		waitReceived(t, p, want)

		// Emitted from the catalog itself, limited to one group.
		p.Reset()
		if _, err := client.Call(ctx, "gopeer.emit", map[string]any{"event": "conformance.b.c", "data": "d", "groups": []string{"gopeer-audit"}}); err != nil {
			t.Fatal(err)
		}
		waitReceived(t, p, []peer.Received{{Event: "conformance.b.c", Data: packets.ValueOf("d"), Group: "gopeer-audit", Sender: "gonode"}})

		p.Reset()
		if _, err := client.Call(ctx, "gopeer.emit", map[string]any{"event": "conformance.x", "broadcast": true}); err != nil {
			t.Fatal(err)
		}
		waitReceived(t, p, []peer.Received{
			{Event: "conformance.x", Group: "gopeer", Sender: "gonode"},
			{Event: "conformance.x", Group: "gopeer-audit", Sender: "gonode"},
		})

		// The received action answers the same list in JSON.
		v, err := client.Call(ctx, "gopeer.received", nil)
		if err != nil || asJSON(t, v) != asJSON(t, p.Received()) || !strings.Contains(v.String(), `"group":"gopeer-audit"`) {
			t.Errorf("received = %v, %v; want %s", v, err, mustJSON(p.Received()))
		}
		if v, err := client.Call(ctx, "gopeer.reset", nil); err != nil || asJSON(t, v) != "true" {
			t.Errorf("reset = %v, %v", v, err)
		}
		if v, err := client.Call(ctx, "gopeer.received", nil); err != nil || asJSON(t, v) != "[]" {
			t.Errorf("received after reset = %v, %v", v, err)
		}
	})
}

// waitReceived waits until the peer's list matches want, in any order of
// groups (handlers of one event may run in either order).
func waitReceived(t *testing.T, p *peer.Peer, want []peer.Received) {
	t.Helper()
	key := func(list []peer.Received) map[string]int {
		m := map[string]int{}
		for _, r := range list {
			b, _ := json.Marshal(r)
			m[canonBytes(b)]++
		}
		return m
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := p.Received()
		if reflect.DeepEqual(key(got), key(want)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("received = %s, want %s", mustJSON(got), mustJSON(want))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func canonBytes(b []byte) string {
	var x any
	_ = json.Unmarshal(b, &x)
	out, _ := json.Marshal(x)
	return string(out)
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
