package tcp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
	"github.com/molbridge/molbridge/transporters/tcp"
)

// These tests run real Node.js moleculer 0.14 nodes (compat/jsnode.js) on
// the TCP transporter next to Go nodes, on 127.0.0.1, each test in a
// namespace of its own.

func requireJS(t *testing.T) {
	t.Helper()
	if _, err := jsnode.Script(); err != nil {
		t.Fatalf("the TCP live tests need Node.js and compat/node_modules: %v", err)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	switch network {
	case "udp":
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port
	default:
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// goNode is a Go broker on the TCP transporter with the service "gosvc":
// gosvc.hello answers {nodeID, params}; its events "conformance.**" are
// sent to events.
type goNode struct {
	*bridge.Broker
	events chan *bridge.Context
}

func startGo(t *testing.T, ns, id string, o tcp.Options) *goNode {
	t.Helper()
	logs := &logBuffer{}
	b, err := bridge.New(bridge.Options{
		NodeID: id, Namespace: ns, Transporter: tcp.New(o),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	g := &goNode{Broker: b, events: make(chan *bridge.Context, 16)}
	err = b.AddService(bridge.Service{
		Name: "gosvc",
		Actions: []bridge.Action{{Name: "hello", Handler: func(ctx *bridge.Context) (any, error) {
			p, _ := ctx.Params.Interface()
			return map[string]any{"nodeID": id, "params": p}, nil
		}}},
		Events: []bridge.Event{{Name: "conformance.**", Handler: func(ctx *bridge.Context) error {
			select {
			case g.events <- ctx:
			default:
			}
			return nil
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("%s: Start: %v", id, err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = b.Stop(sctx)
		if t.Failed() {
			t.Logf("--- Go node %s log ---\n%s", id, logs.String())
		}
	})
	return g
}

// goOptions are TCP options for a Go node listening on 127.0.0.1.
func goOptions(port int, urls []string) tcp.Options {
	o := tcp.DefaultOptions()
	o.UDPDiscovery = false
	o.Port = port
	o.ListenHost = "127.0.0.1"
	o.GossipPeriod = time.Second
	if urls != nil {
		o.URLs = urls
	}
	return o
}

// startJS starts a JS node on the TCP transporter, listening on 127.0.0.1.
func startJS(t *testing.T, ns, id string, txOpts map[string]any) *jsnode.Process {
	t.Helper()
	opts, err := json.Marshal(txOpts)
	if err != nil {
		t.Fatal(err)
	}
	return jsnode.Start(t, jsnode.Options{
		NodeID: id, Namespace: ns, Transporter: "TCP",
		Env: map[string]string{"TRANSPORTER_OPTIONS": string(opts), "LISTEN_HOST": "127.0.0.1"},
	})
}

func jsStatic(port int, urls []string) map[string]any {
	return map[string]any{"udpDiscovery": false, "port": port, "urls": urls, "gossipPeriod": 1}
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func callOn(g *goNode, nodeID, action string, params any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := g.Call(ctx, action, params, bridge.WithNodeID(nodeID))
	if err != nil {
		return nil, err
	}
	return v.Interface()
}

func mustCall(t *testing.T, g *goNode, nodeID, action string, params any) any {
	t.Helper()
	r, err := callOn(g, nodeID, action, params)
	if err != nil {
		t.Fatalf("call %s on %s: %v", action, nodeID, err)
	}
	return r
}

// waitEcho waits until g can call jspeer.echo on the JS node id.
func waitEcho(t *testing.T, g *goNode, id string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, g.NodeID()+" calling jspeer.echo on "+id, func() error {
		r, err := callOn(g, id, "jspeer.echo", map[string]any{"x": 1})
		if err != nil {
			return err
		}
		if m, _ := r.(map[string]any); m == nil || m["nodeID"] != id {
			return fmt.Errorf("echo answered %v", r)
		}
		return nil
	})
}

// jsCallsGo makes the JS node js call gosvc.hello on the Go node through
// jspeer.capture.
func jsCallsGo(t *testing.T, g *goNode, js, goID string) {
	t.Helper()
	eventually(t, 10*time.Second, js+" calling gosvc.hello on "+goID, func() error {
		r, err := callOn(g, js, "jspeer.capture", map[string]any{
			"action": "gosvc.hello", "params": map[string]any{"from": js},
			"opts": map[string]any{"nodeID": goID},
		})
		if err != nil {
			return err
		}
		m, _ := r.(map[string]any)
		res, _ := m["result"].(map[string]any)
		if m["ok"] != true || res["nodeID"] != goID {
			return fmt.Errorf("capture: %v", r)
		}
		return nil
	})
}

func nodeAvailable(g *goNode, id string) (known, available bool) {
	for _, n := range g.Nodes() {
		if n.ID == id {
			return true, n.Available
		}
	}
	return false, false
}

// jsSeesNode reports how the JS node js lists node id.
func jsSeesNode(g *goNode, js, id string) (available bool, err error) {
	r, err := callOn(g, js, "jspeer.nodes", nil)
	if err != nil {
		return false, err
	}
	list, _ := r.([]any)
	for _, e := range list {
		if m, _ := e.(map[string]any); m != nil && m["id"] == id {
			return m["available"] == true, nil
		}
	}
	return false, fmt.Errorf("%s does not know %s", js, id)
}

func TestLiveStaticURLs(t *testing.T) {
	requireJS(t)
	t.Parallel()
	ns := "tcp-" + randHex(4)
	goID, js1, js2 := "go-"+ns, "js1-"+ns, "js2-"+ns
	pGo, p1, p2 := freePort(t, "tcp"), freePort(t, "tcp"), freePort(t, "tcp")
	urls := []string{
		"127.0.0.1:" + strconv.Itoa(pGo) + "/" + goID,
		"127.0.0.1:" + strconv.Itoa(p1) + "/" + js1,
		"127.0.0.1:" + strconv.Itoa(p2) + "/" + js2,
	}
	g := startGo(t, ns, goID, goOptions(0, urls)) // port from its own urls entry
	startJS(t, ns, js1, jsStatic(p1, urls))
	startJS(t, ns, js2, jsStatic(p2, urls))
	start := time.Now()
	waitEcho(t, g, js1, 20*time.Second)
	waitEcho(t, g, js2, 20*time.Second)
	t.Logf("Go found both JS nodes %v after the last was READY", time.Since(start).Round(time.Millisecond))
	if port := g.Nodes()[0].Port; port != pGo {
		t.Errorf("local port %d, want %d from the urls entry", port, pGo)
	}
	jsCallsGo(t, g, js1, goID)
	jsCallsGo(t, g, js2, goID)

	// Go → JS event.
	mustCall(t, g, js1, "jspeer.reset", nil)
	if err := g.Emit(context.Background(), "conformance.tcp.fromgo", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the event on a JS node", func() error {
		total := 0
		for _, js := range []string{js1, js2} {
			r, err := callOn(g, js, "jspeer.received", nil)
			if err != nil {
				return err
			}
			for _, e := range r.([]any) {
				if m := e.(map[string]any); m["event"] == "conformance.tcp.fromgo" && m["sender"] == goID {
					total++
				}
			}
		}
		if total == 0 {
			return fmt.Errorf("not received yet")
		}
		return nil
	})

	// JS → Go event.
	mustCall(t, g, js2, "jspeer.emit", map[string]any{"event": "conformance.tcp.fromjs", "data": map[string]any{"n": 2}})
	timeout := time.After(10 * time.Second)
	for got := false; !got; {
		select {
		case ctx := <-g.events: // the Go node also hears its own event
			got = ctx.EventName == "conformance.tcp.fromjs"
			if got && ctx.NodeID != js2 {
				t.Errorf("Go got conformance.tcp.fromjs from %s, want %s", ctx.NodeID, js2)
			}
		case <-timeout:
			t.Fatal("the JS event did not reach the Go node")
		}
	}

	// The JS nodes know the Go node with its port and as online.
	for _, js := range []string{js1, js2} {
		if ok, err := jsSeesNode(g, js, goID); err != nil || !ok {
			t.Errorf("%s lists %s as available=%v (%v)", js, goID, ok, err)
		}
	}
}

func TestLiveUDPDiscovery(t *testing.T) {
	requireJS(t)
	t.Parallel()
	ns := "tcpu-" + randHex(4)
	goID, js1, js2 := "go-"+ns, "js1-"+ns, "js2-"+ns
	udpPort := freePort(t, "udp")
	jsOpts := map[string]any{
		"udpDiscovery": true, "udpPort": udpPort, "udpMulticast": false,
		"udpBroadcast": "127.255.255.255", "udpPeriod": 1, "gossipPeriod": 1,
	}
	o := tcp.DefaultOptions()
	o.ListenHost = "127.0.0.1"
	o.UDPPort = udpPort
	o.UDPMulticast = ""
	o.UDPBroadcast = true
	o.UDPBroadcastAddresses = []string{"127.255.255.255"}
	o.UDPPeriod = time.Second
	o.GossipPeriod = time.Second
	g := startGo(t, ns, goID, o)
	startJS(t, ns, js1, jsOpts)
	startJS(t, ns, js2, jsOpts)
	start := time.Now()
	waitEcho(t, g, js1, 30*time.Second)
	waitEcho(t, g, js2, 30*time.Second)
	t.Logf("Go found both JS nodes by UDP %v after the last was READY", time.Since(start).Round(time.Millisecond))
	jsCallsGo(t, g, js1, goID)
	jsCallsGo(t, g, js2, goID)
}

func TestLiveLateJoiner(t *testing.T) {
	requireJS(t)
	t.Parallel()
	ns := "tcpl-" + randHex(4)
	goID, js1, late := "go-"+ns, "js1-"+ns, "late-"+ns
	pGo, p1, pLate := freePort(t, "tcp"), freePort(t, "tcp"), freePort(t, "tcp")
	goURL := "127.0.0.1:" + strconv.Itoa(pGo) + "/" + goID
	js1URL := "127.0.0.1:" + strconv.Itoa(p1) + "/" + js1
	g := startGo(t, ns, goID, goOptions(pGo, []string{js1URL}))
	startJS(t, ns, js1, jsStatic(p1, []string{goURL}))
	waitEcho(t, g, js1, 20*time.Second)

	// The late node knows only the Go node; the Go node has never heard
	// of it.
	start := time.Now()
	startJS(t, ns, late, jsStatic(pLate, []string{goURL}))
	waitEcho(t, g, late, 20*time.Second)
	t.Logf("Go found the late node %v after it was READY", time.Since(start).Round(time.Millisecond))
	jsCallsGo(t, g, late, goID)
}

func TestLiveNodesLeave(t *testing.T) {
	requireJS(t)
	t.Parallel()
	ns := "tcpd-" + randHex(4)
	goA, goB, js1, js2 := "goa-"+ns, "gob-"+ns, "js1-"+ns, "js2-"+ns
	pA, pB, p1, p2 := freePort(t, "tcp"), freePort(t, "tcp"), freePort(t, "tcp"), freePort(t, "tcp")
	urls := []string{
		"127.0.0.1:" + strconv.Itoa(pA) + "/" + goA,
		"127.0.0.1:" + strconv.Itoa(pB) + "/" + goB,
		"127.0.0.1:" + strconv.Itoa(p1) + "/" + js1,
		"127.0.0.1:" + strconv.Itoa(p2) + "/" + js2,
	}
	a := startGo(t, ns, goA, goOptions(pA, urls))
	b := startGo(t, ns, goB, goOptions(pB, urls))
	startJS(t, ns, js1, jsStatic(p1, urls))
	victim := startJS(t, ns, js2, jsStatic(p2, urls))
	waitEcho(t, a, js1, 20*time.Second)
	waitEcho(t, a, js2, 20*time.Second)
	jsCallsGo(t, a, js1, goB)

	// A killed JS node is dropped by the Go node.
	start := time.Now()
	victim.Kill()
	eventually(t, 15*time.Second, goA+" dropping the killed "+js2, func() error {
		if _, avail := nodeAvailable(a, js2); avail {
			return fmt.Errorf("still available")
		}
		return nil
	})
	t.Logf("killed JS node dropped after %v", time.Since(start).Round(time.Millisecond))
	if _, err := callOn(a, js2, "jspeer.echo", nil); err == nil {
		t.Error("a call to the killed node succeeded")
	}

	// A stopped Go node is dropped by the JS node.
	start = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Stop(ctx); err != nil {
		t.Fatalf("stop %s: %v", goB, err)
	}
	eventually(t, 15*time.Second, js1+" dropping the stopped "+goB, func() error {
		avail, err := jsSeesNode(a, js1, goB)
		if err != nil {
			return err
		}
		if avail {
			return fmt.Errorf("still available")
		}
		return nil
	})
	t.Logf("stopped Go node dropped by JS after %v", time.Since(start).Round(time.Millisecond))
	eventually(t, 15*time.Second, goA+" dropping the stopped "+goB, func() error {
		if _, avail := nodeAvailable(a, goB); avail {
			return fmt.Errorf("still available")
		}
		return nil
	})
}
