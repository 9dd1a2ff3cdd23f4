package peer_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
	"github.com/molbridge/molbridge/conformance/peer"
	_ "github.com/molbridge/molbridge/transporters/nats"
)

const natsURL = "nats://127.0.0.1:4222"

// need fails the test when a prerequisite is missing: scripts/test.sh
// installs and starts everything, so a missing one is a set-up bug.
func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if !ok {
		t.Fatalf("%s (run scripts/brokers.sh nats and scripts/deps.sh)", what)
	}
}

type capture struct {
	OK     bool         `json:"ok"`
	Result bridge.Value `json:"result"`
	Error  *struct {
		Name    string `json:"name"`
		Message string `json:"message"`
		Code    int    `json:"code"`
		Type    string `json:"type"`
		Data    any    `json:"data"`
		NodeID  string `json:"nodeID"`
	} `json:"error"`
}

// TestCatalogWithJSNode hosts the catalog in-process and has a JS node call
// it over NATS.
func TestCatalogWithJSNode(t *testing.T) {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second)
	need(t, err == nil, "NATS is not listening on 127.0.0.1:4222")
	if conn != nil {
		conn.Close()
	}
	suffix := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	namespace := "peertest-" + suffix
	goID, jsID := "gopeer-"+suffix, "jspeer-"+suffix

	b, err := bridge.New(bridge.Options{NodeID: goID, Namespace: namespace, TransporterURL: natsURL, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.New().Register(b); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })

	_, err = jsnode.Script()
	need(t, err == nil, fmt.Sprint(err))
	jsnode.Start(t, jsnode.Options{NodeID: jsID, Namespace: namespace, Transporter: natsURL,
		Services: []string{"jspeer", "jspeer-audit"}})
	if err := b.WaitForServices(ctx, "jspeer"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Call(ctx, "jspeer.waitFor", map[string]any{"services": []string{"gopeer", "v2.gopeer"}, "timeout": 10000}); err != nil {
		t.Fatalf("the JS node does not see the Go services: %v", err)
	}

	capt := func(action string, params any) capture {
		t.Helper()
		c, err := bridge.Call[capture](ctx, b, "jspeer.capture", map[string]any{"action": action, "params": params})
		if err != nil {
			t.Fatalf("jspeer.capture %s: %v", action, err)
		}
		return c
	}

	if c := capt("gopeer.add", map[string]any{"a": 1, "b": 2}); !c.OK || c.Result.String() != "3" {
		t.Errorf("JS → gopeer.add {a:1,b:2} = %+v, want 3", c)
	}

	c := capt("gopeer.add", map[string]any{"a": "x"})
	if c.OK || c.Error == nil || c.Error.Name != "ValidationError" || c.Error.Code != 422 || c.Error.NodeID != goID {
		t.Fatalf("JS → gopeer.add {a:\"x\"} = %+v, want a ValidationError from %s", c, goID)
	}
	items, _ := c.Error.Data.([]any)
	if len(items) == 0 {
		t.Fatalf("ValidationError data = %#v", c.Error.Data)
	}
	if first, _ := items[0].(map[string]any); first["field"] != "a" || first["type"] != "number" {
		t.Errorf("ValidationError first item = %v, want field a, type number", items[0])
	}

	// Context fields and meta cross both ways.
	e, err := bridge.Call[struct {
		OK     bool           `json:"ok"`
		Result map[string]any `json:"result"`
		Meta   map[string]any `json:"meta"`
	}](ctx, b, "jspeer.capture", map[string]any{"action": "gopeer.echo", "params": map[string]any{"s": "é", "n": 1.5}, "meta": map[string]any{"m": 1}})
	if err != nil || !e.OK {
		t.Fatalf("JS → gopeer.echo = %+v, %v", e, err)
	}
	r := e.Result
	if asJSON(t, r["params"]) != canon(t, `{"s":"é","n":1.5}`) || asJSON(t, r["meta"]) != `{"m":1}` ||
		r["nodeID"] != goID || r["caller"] != "jspeer" || r["level"] != 2.0 || r["parentID"] == nil {
		t.Errorf("JS → gopeer.echo result = %v", r)
	}
	if e.Meta["echoed"] != true {
		t.Errorf("JS caller's meta after gopeer.echo = %v, want echoed: true", e.Meta)
	}

	if c := capt("v2.gopeer.echo", map[string]any{}); !c.OK || asJSON(t, c.Result) != `{"version":2}` {
		t.Errorf("JS → v2.gopeer.echo = %+v, want {version:2}", c)
	}
}
