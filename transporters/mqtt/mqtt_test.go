package mqtt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/gorilla/websocket"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
	"github.com/molbridge/molbridge/transporters/internal/livetest"
)

// These tests run against the real mosquitto that scripts/brokers.sh
// starts on 127.0.0.1:1883, and against private mosquittos they start
// themselves (TLS, restarts).

const sharedURL = "mqtt://127.0.0.1:1883"

func requireShared(t *testing.T) {
	t.Helper()
	livetest.RequireTCP(t, "127.0.0.1:1883", "MQTT broker (scripts/brokers.sh mqtt starts mosquitto)")
}

type inbox struct {
	mu  sync.Mutex
	got []string
}

func (in *inbox) handler(t protocol.PacketType, data []byte) {
	in.mu.Lock()
	in.got = append(in.got, string(t)+":"+string(data))
	in.mu.Unlock()
}

func (in *inbox) list() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.got)
}

func (in *inbox) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := in.list()
		missing := false
		for _, w := range want {
			if !slices.Contains(got, w) {
				missing = true
			}
		}
		if !missing {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %v, want %v among them", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func uniquePrefix() string { return fmt.Sprintf("MOL-t%d", time.Now().UnixNano()) }

func connect(t *testing.T, url string, opts map[string]any, env transporters.Env) transporters.Transporter {
	t.Helper()
	tr, err := transporters.New(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Connect(ctx, env); err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

func subscribe(t *testing.T, tr transporters.Transporter, topics ...protocol.Topic) {
	t.Helper()
	for _, topic := range topics {
		if err := tr.Subscribe(context.Background(), topic); err != nil {
			t.Fatal(err)
		}
	}
}

func publish(t *testing.T, tr transporters.Transporter, topic protocol.Topic, data string) {
	t.Helper()
	if err := tr.Publish(context.Background(), topic, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

// rawClient is a plain MQTT client, to look at the wire.
func rawClient(t *testing.T, addr string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(randomClientID()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("raw MQTT client: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func TestTargetedAndBroadcast(t *testing.T) {
	requireShared(t)
	for _, sep := range []string{".", "/"} {
		t.Run("sep="+sep, func(t *testing.T) {
			prefix := uniquePrefix()
			opts := map[string]any{"topicSeparator": sep}
			var a, b1, b2 inbox
			ta := connect(t, sharedURL, opts, transporters.Env{Prefix: prefix, NodeID: "a", Handler: a.handler})
			tb1 := connect(t, sharedURL, opts, transporters.Env{Prefix: prefix, NodeID: "b.1", Handler: b1.handler})
			tb2 := connect(t, sharedURL, opts, transporters.Env{Prefix: prefix, NodeID: "b2", Handler: b2.handler})
			subscribe(t, tb1, protocol.NodeSubscriptions("b.1")...)
			subscribe(t, tb2, protocol.NodeSubscriptions("b2")...)

			publish(t, ta, protocol.TargetedTopic(protocol.Request, "b.1"), "to-b1")
			publish(t, ta, protocol.TargetedTopic(protocol.Response, "b2"), "res-b2")
			publish(t, ta, protocol.BroadcastTopic(protocol.Info), "all")
			publish(t, ta, protocol.BroadcastTopic(protocol.Heartbeat), "hb")
			b1.waitFor(t, "REQ:to-b1", "INFO:all", "HEARTBEAT:hb")
			b2.waitFor(t, "RES:res-b2", "INFO:all", "HEARTBEAT:hb")
			time.Sleep(100 * time.Millisecond)
			if got := b1.list(); len(got) != 3 {
				t.Errorf("b.1 got %v", got)
			}
			if got := b2.list(); len(got) != 3 {
				t.Errorf("b2 got %v", got)
			}
			if got := a.list(); len(got) != 0 {
				t.Errorf("the publisher, subscribed to nothing, received %v", got)
			}
		})
	}
}

// TestWireNames looks at the topics on the wire with a plain MQTT client,
// with the default separator and with "/", and checks that messages are
// not retained.
func TestWireNames(t *testing.T) {
	requireShared(t)
	for _, c := range []struct {
		sep  string
		want []string
	}{
		{".", []string{"%s.REQ.node.1=r", "%s.EVENT.node.1=e", "%s.DISCOVER=d"}},
		{"/", []string{"%s/REQ/node.1=r", "%s/EVENT/node.1=e", "%s/DISCOVER=d"}},
	} {
		prefix := uniquePrefix()
		raw := rawClient(t, "127.0.0.1:1883")
		got := make(chan string, 10)
		retained := make(chan string, 10)
		filter := prefix + c.sep + "#"
		if c.sep == "." {
			filter = "#"
		}
		tok := raw.Subscribe(filter, 0, func(_ paho.Client, m paho.Message) {
			if len(m.Topic()) >= len(prefix) && m.Topic()[:len(prefix)] == prefix {
				if m.Retained() {
					retained <- m.Topic()
				}
				got <- m.Topic() + "=" + string(m.Payload())
			}
		})
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		var in inbox
		tr := connect(t, sharedURL, map[string]any{"topicSeparator": c.sep}, transporters.Env{Prefix: prefix, NodeID: "x", Handler: in.handler})
		publish(t, tr, protocol.TargetedTopic(protocol.Request, "node.1"), "r")
		publish(t, tr, protocol.TargetedTopic(protocol.Event, "node.1"), "e")
		publish(t, tr, protocol.BroadcastTopic(protocol.Discover), "d")
		var seen []string
		for range 3 {
			select {
			case s := <-got:
				seen = append(seen, s)
			case <-time.After(5 * time.Second):
				t.Fatalf("sep %q: only %v on the wire", c.sep, seen)
			}
		}
		var want []string
		for _, w := range c.want {
			want = append(want, fmt.Sprintf(w, prefix))
		}
		if !slices.Equal(seen, want) {
			t.Errorf("sep %q: on the wire %v, want %v", c.sep, seen, want)
		}
		if len(retained) > 0 {
			t.Errorf("sep %q: retained messages: %v", c.sep, <-retained)
		}

		// And the other way: a plain publish is typed from its topic.
		subscribe(t, tr, protocol.TargetedTopic(protocol.Info, "x.y"))
		if tok := raw.Publish(prefix+c.sep+"INFO"+c.sep+"x.y", 0, false, "i"); !tok.WaitTimeout(5 * time.Second) {
			t.Fatal("raw publish")
		}
		in.waitFor(t, "INFO:i")
	}
}

func TestPacketType(t *testing.T) {
	for _, c := range []struct {
		topic, prefix, sep string
		want               protocol.PacketType
		ok                 bool
	}{
		{"MOL.REQ.node-1", "MOL", ".", protocol.Request, true},
		{"MOL-ns/INFO", "MOL-ns", "/", protocol.Info, true},
		{"MOL-ns/EVENT/a.b.c", "MOL-ns", "/", protocol.Event, true},
		{"MOL-ns.EVENT.a.b.c", "MOL-ns", ".", protocol.Event, true},
		{"MOL-ns::PONG::n", "MOL-ns", "::", protocol.Pong, true},
		{"MOL-ns/REQB/svc.act", "MOL-ns", "/", "", false},
		{"MOL-ns/", "MOL-ns", "/", "", false},
		{"MOL-ns/INFO.x", "MOL-ns", "/", "", false}, // "INFO.x" is no type with "/"
	} {
		got, ok := packetType(c.topic, c.prefix, c.sep)
		if got != c.want || ok != c.ok {
			t.Errorf("packetType(%q, %q, %q) = %q, %v; want %q, %v", c.topic, c.prefix, c.sep, got, ok, c.want, c.ok)
		}
	}
}

func TestOptionsFromJS(t *testing.T) {
	o, err := OptionsFromJS("mqtt://127.0.0.1:1883", nil)
	if err != nil || !slices.Equal(o.Servers, []string{"mqtt://127.0.0.1:1883"}) || o.QoS != 0 || o.TopicSeparator != "." ||
		o.PersistentSession || o.KeepAlive != DefaultKeepAlive || o.ReconnectPeriod != time.Second ||
		o.ConnectTimeout != 30*time.Second || o.ProtocolVersion != 4 || o.TLS != nil || o.ClientID != "" {
		t.Errorf("plain URL: %+v %v", o, err)
	}
	if o, _ := OptionsFromJS("", nil); !slices.Equal(o.Servers, []string{"mqtt://localhost:1883"}) {
		t.Errorf("by name: %+v", o.Servers)
	}
	o, err = OptionsFromJS("mqtt://us%3Aer:p%40ss@broker.example?clientId=abc", nil)
	if err != nil || o.Username != "us:er" || o.Password != "p@ss" || o.ClientID != "abc" ||
		o.Servers[0] != "mqtt://broker.example:1883" {
		t.Errorf("URL with credentials: %+v %v", o, err)
	}
	o, err = OptionsFromJS("mqtts://broker.example", map[string]any{"rejectUnauthorized": false})
	if err != nil || o.Servers[0] != "mqtts://broker.example:8883" || o.TLS == nil || !o.TLS.InsecureSkipVerify ||
		o.TLS.ServerName != "broker.example" {
		t.Errorf("mqtts: %+v %v", o, err)
	}
	// The options object as jsnode.js and the moleculer docs give it.
	o, err = OptionsFromJS("", map[string]any{
		"protocol": "mqtt", "host": "10.1.2.3", "port": 1884.0, "username": "u", "password": "p",
		"qos": 1.0, "topicSeparator": "/", "keepalive": 10.0, "reconnectPeriod": 250.0, "connectTimeout": 5000.0,
		"clientId": "node-1", "clean": false, "protocolVersion": 5.0,
		"will": map[string]any{"topic": "gone", "payload": "bye", "qos": 1.0},
	})
	if err != nil || o.Servers[0] != "mqtt://10.1.2.3:1884" || o.Username != "u" || o.Password != "p" || o.QoS != 1 ||
		o.TopicSeparator != "/" || o.KeepAlive != 10*time.Second || o.ReconnectPeriod != 250*time.Millisecond ||
		o.ConnectTimeout != 5*time.Second || o.ClientID != "node-1" || !o.PersistentSession || o.ProtocolVersion != 4 ||
		o.Will == nil || o.Will.Topic != "gone" || string(o.Will.Payload) != "bye" || o.Will.QoS != 1 {
		t.Errorf("options object: %+v %v", o, err)
	}
	// Options win over the URL; hostname wins over host.
	o, err = OptionsFromJS("mqtt://a:1", map[string]any{"host": "b", "hostname": "c", "port": 2})
	if err != nil || o.Servers[0] != "mqtt://c:2" {
		t.Errorf("precedence: %+v %v", o.Servers, err)
	}
	o, err = OptionsFromJS("", map[string]any{"protocol": "ws", "host": "h", "path": "/mqtt"})
	if err != nil || o.Servers[0] != "ws://h:80/mqtt" {
		t.Errorf("ws: %+v %v", o.Servers, err)
	}
	o, err = OptionsFromJS("", map[string]any{"servers": []any{
		map[string]any{"host": "s1", "port": 1883.0}, map[string]any{"host": "s2", "port": 8883.0, "protocol": "mqtts"}}})
	if err != nil || !slices.Equal(o.Servers, []string{"mqtt://s1:1883", "mqtts://s2:8883"}) || o.TLS == nil {
		t.Errorf("servers: %+v %v", o, err)
	}
	if o, _ := OptionsFromJS("", map[string]any{"auth": "a:b:c"}); o.Username != "a:b" || o.Password != "c" {
		t.Errorf("auth is split at the last colon as mqtt.js does: %q %q", o.Username, o.Password)
	}
	for _, bad := range []map[string]any{
		{"qos": 3.0},
		{"qos": "high"},
		{"clean": false}, // without clientId
		{"protocol": "amqp"},
		{"protocolVersion": 6.0},
		{"port": "x"},
		{"protocol": "mqtts", "ca": "no PEM"},
	} {
		if _, err := OptionsFromJS("", bad); err == nil {
			t.Errorf("OptionsFromJS(%v) accepted it", bad)
		}
	}
	for _, name := range []string{"mqtt://h", "mqtts://h", "MQTT", "mqtt"} {
		tr, err := transporters.New(name, nil)
		if err != nil {
			t.Errorf("transporters.New(%q): %v", name, err)
		} else if tr.BuiltInBalancer() {
			t.Errorf("%q: BuiltInBalancer true", name)
		}
	}
}

// TestQoS1 subscribes and publishes with QoS 1 (a handler that publishes
// must not stall Paho).
func TestQoS1(t *testing.T) {
	requireShared(t)
	prefix := uniquePrefix()
	opts := map[string]any{"qos": 1}
	var a inbox
	ta := connect(t, sharedURL, opts, transporters.Env{Prefix: prefix, NodeID: "a", Handler: a.handler})
	tb, err := transporters.New(sharedURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	err = tb.Connect(context.Background(), transporters.Env{Prefix: prefix, NodeID: "b", Handler: func(typ protocol.PacketType, data []byte) {
		// Answer from inside the handler, as the broker answers DISCOVER.
		if err := tb.Publish(context.Background(), protocol.TargetedTopic(protocol.Response, "a"), data); err != nil {
			t.Errorf("publish from the handler: %v", err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tb.Close() })
	subscribe(t, ta, protocol.TargetedTopic(protocol.Response, "a"))
	subscribe(t, tb, protocol.TargetedTopic(protocol.Request, "b"))
	var want []string
	for i := range 50 {
		publish(t, ta, protocol.TargetedTopic(protocol.Request, "b"), fmt.Sprint(i))
		want = append(want, fmt.Sprintf("RES:%d", i))
	}
	a.waitFor(t, want...)
	if got := a.list(); !slices.Equal(got, want) {
		t.Errorf("out of order or duplicated: %v", got)
	}
}

func TestTLS(t *testing.T) {
	cert := livetest.NewCert(t)
	srv := livetest.StartMosquitto(t, fmt.Sprintf("cafile %s\ncertfile %s\nkeyfile %s\n", cert.CAFile, cert.CertFile, cert.KeyFile))
	prefix := uniquePrefix()
	var in inbox
	url := fmt.Sprintf("mqtts://localhost:%d", srv.Port)
	tr := connect(t, url, map[string]any{"ca": cert.CAPEM}, transporters.Env{Prefix: prefix, NodeID: "n", Handler: in.handler})
	subscribe(t, tr, protocol.TargetedTopic(protocol.Request, "n"))
	publish(t, tr, protocol.TargetedTopic(protocol.Request, "n"), "tls")
	in.waitFor(t, "REQ:tls")

	connect(t, fmt.Sprintf("mqtts://127.0.0.1:%d", srv.Port), map[string]any{"rejectUnauthorized": false},
		transporters.Env{Prefix: prefix, NodeID: "m", Handler: in.handler})

	tr3, _ := transporters.New(url, map[string]any{"connectTimeout": 3000})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr3.Connect(ctx, transporters.Env{Prefix: prefix, NodeID: "z", Handler: in.handler}); err == nil {
		_ = tr3.Close()
		t.Error("an unknown CA was accepted")
	}
}

func TestClose(t *testing.T) {
	requireShared(t)
	prefix := uniquePrefix()
	var in inbox
	tr, err := transporters.New(sharedURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := tr.Publish(ctx, protocol.BroadcastTopic(protocol.Info), nil); !errors.Is(err, transporters.ErrNotConnected) {
		t.Errorf("Publish before Connect: %v, want ErrNotConnected", err)
	}
	if err := tr.Connect(ctx, transporters.Env{Prefix: prefix, NodeID: "n", Handler: in.handler}); err != nil {
		t.Fatal(err)
	}
	subscribe(t, tr, protocol.BroadcastTopic(protocol.Info))
	publish(t, tr, protocol.BroadcastTopic(protocol.Info), "before")
	in.waitFor(t, "INFO:before")
	start := time.Now()
	if err := tr.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Close took %v", d)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := tr.Publish(ctx, protocol.BroadcastTopic(protocol.Info), []byte("after")); !errors.Is(err, transporters.ErrNotConnected) {
		t.Errorf("Publish after Close: %v, want ErrNotConnected", err)
	}
	if err := tr.Subscribe(ctx, protocol.BroadcastTopic(protocol.Pong)); !errors.Is(err, transporters.ErrNotConnected) {
		t.Errorf("Subscribe after Close: %v, want ErrNotConnected", err)
	}
	var other inbox
	o := connect(t, sharedURL, nil, transporters.Env{Prefix: prefix, NodeID: "o", Handler: other.handler})
	publish(t, o, protocol.BroadcastTopic(protocol.Info), "late")
	time.Sleep(100 * time.Millisecond)
	if got := in.list(); len(got) != 1 {
		t.Errorf("after Close the handler got %v", got)
	}

	var u inbox
	tu := connect(t, sharedURL, nil, transporters.Env{Prefix: prefix, NodeID: "u", Handler: u.handler})
	subscribe(t, tu, protocol.BroadcastTopic(protocol.Ping), protocol.BroadcastTopic(protocol.Heartbeat))
	if err := tu.Unsubscribe(ctx, protocol.BroadcastTopic(protocol.Ping)); err != nil {
		t.Fatal(err)
	}
	publish(t, o, protocol.BroadcastTopic(protocol.Ping), "p")
	publish(t, o, protocol.BroadcastTopic(protocol.Heartbeat), "h")
	u.waitFor(t, "HEARTBEAT:h")
	if got := u.list(); slices.Contains(got, "PING:p") {
		t.Errorf("unsubscribed topic delivered: %v", got)
	}
}

// TestReconnect restarts a private mosquitto under a connected transporter:
// Publish fails with ErrNotConnected while it is down, then the
// subscriptions come back (the session was clean) and Reconnected is
// called.
func TestReconnect(t *testing.T) {
	srv := livetest.StartMosquitto(t, "")
	prefix := uniquePrefix()
	var in inbox
	var reconnected atomic.Int32
	url := "mqtt://" + srv.Addr()
	tr := connect(t, url, map[string]any{"topicSeparator": "/"}, transporters.Env{Prefix: prefix, NodeID: "n", Handler: in.handler,
		Reconnected: func() { reconnected.Add(1) }})
	subscribe(t, tr, protocol.NodeSubscriptions("n")...)
	publish(t, tr, protocol.TargetedTopic(protocol.Request, "n"), "1")
	in.waitFor(t, "REQ:1")

	srv.Stop()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := tr.Publish(ctx, protocol.TargetedTopic(protocol.Request, "n"), []byte("down"))
		if errors.Is(err, transporters.ErrNotConnected) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Publish while the broker is down: %v, want ErrNotConnected", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	srv.Start()
	up := time.Now()
	for reconnected.Load() == 0 {
		if time.Since(up) > 10*time.Second {
			t.Fatal("Reconnected was not called within 10 s of the restart")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("reconnected %v after the restart", time.Since(up).Round(time.Millisecond))
	var other inbox
	o := connect(t, url, map[string]any{"topicSeparator": "/"}, transporters.Env{Prefix: prefix, NodeID: "o", Handler: other.handler})
	publish(t, o, protocol.TargetedTopic(protocol.Request, "n"), "2")
	publish(t, o, protocol.BroadcastTopic(protocol.Discover), "3")
	publish(t, tr, protocol.TargetedTopic(protocol.Pong, "n"), "4")
	in.waitFor(t, "REQ:2", "DISCOVER:3", "PONG:4")
	if n := reconnected.Load(); n != 1 {
		t.Errorf("Reconnected called %d times, want 1", n)
	}
}

func TestConnectFails(t *testing.T) {
	port := livetest.FreePort(t)
	tr, err := transporters.New(fmt.Sprintf("mqtt://127.0.0.1:%d", port), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := tr.Connect(ctx, transporters.Env{Prefix: "MOL", NodeID: "n", Handler: func(protocol.PacketType, []byte) {}}); err == nil {
		_ = tr.Close()
		t.Fatal("Connect to a closed port succeeded")
	} else {
		t.Logf("%v (after %v)", err, time.Since(start).Round(time.Millisecond))
	}
}

// TestWebSocket connects over MQTT-over-WebSocket, which the options object
// can ask for ("protocol": "ws"). The mosquitto of Debian 12 cannot open a
// WebSocket listener here, so a small WebSocket-to-TCP relay in front of
// the shared mosquitto stands in for one.
func TestWebSocket(t *testing.T) {
	requireShared(t)
	up := websocket.Upgrader{Subprotocols: []string{"mqtt"}}
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mqtt" {
			http.NotFound(w, r)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		tcp, err := net.Dial("tcp", "127.0.0.1:1883")
		if err != nil {
			return
		}
		defer tcp.Close()
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := tcp.Read(buf)
				if err != nil || ws.WriteMessage(websocket.BinaryMessage, buf[:n]) != nil {
					_ = ws.Close()
					return
				}
			}
		}()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if _, err := tcp.Write(data); err != nil {
				return
			}
		}
	}))
	defer relay.Close()
	port := relay.Listener.Addr().(*net.TCPAddr).Port

	prefix := uniquePrefix()
	opts := map[string]any{"protocol": "ws", "host": "127.0.0.1", "port": port, "path": "/mqtt", "topicSeparator": "/"}
	var a, b inbox
	ta := connect(t, "MQTT", opts, transporters.Env{Prefix: prefix, NodeID: "a", Handler: a.handler})
	tb := connect(t, "MQTT", opts, transporters.Env{Prefix: prefix, NodeID: "b", Handler: b.handler})
	subscribe(t, tb, protocol.NodeSubscriptions("b")...)
	publish(t, ta, protocol.TargetedTopic(protocol.Event, "b"), "ws")
	publish(t, ta, protocol.BroadcastTopic(protocol.Heartbeat), "hb")
	b.waitFor(t, "EVENT:ws", "HEARTBEAT:hb")
}
