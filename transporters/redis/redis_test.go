package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
	"github.com/molbridge/molbridge/transporters/internal/livetest"
)

// These tests run against the real redis-server that scripts/brokers.sh
// starts on 127.0.0.1:6379, and against private redis-servers they start
// themselves (password, TLS, cluster, restarts).

const sharedURL = "redis://127.0.0.1:6379"

func requireShared(t *testing.T) {
	t.Helper()
	livetest.RequireTCP(t, "127.0.0.1:6379", "redis-server (scripts/brokers.sh redis starts one)")
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

// waitFor waits until the inbox holds every one of want.
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

func TestTargetedAndBroadcast(t *testing.T) {
	requireShared(t)
	prefix := uniquePrefix()
	var a, b1, b2 inbox
	ta := connect(t, sharedURL, nil, transporters.Env{Prefix: prefix, NodeID: "a", Handler: a.handler})
	tb1 := connect(t, sharedURL, nil, transporters.Env{Prefix: prefix, NodeID: "b.1", Handler: b1.handler})
	tb2 := connect(t, sharedURL, nil, transporters.Env{Prefix: prefix, NodeID: "b2", Handler: b2.handler})
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
		t.Errorf("b.1 got %v, want exactly its targeted and the broadcast packets", got)
	}
	if got := b2.list(); len(got) != 3 {
		t.Errorf("b2 got %v, want exactly its targeted and the broadcast packets", got)
	}
	if got := a.list(); len(got) != 0 {
		t.Errorf("the publisher, subscribed to nothing, received %v", got)
	}
}

// TestWireNames checks the channel names on the wire with a plain Redis
// client: JS publishes to, and subscribes, exactly these.
func TestWireNames(t *testing.T) {
	requireShared(t)
	prefix := uniquePrefix()
	raw := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer raw.Close()
	ctx := context.Background()
	ps := raw.Subscribe(ctx, prefix+".REQ.node.1", prefix+".EVENT.node.1", prefix+".DISCOVER")
	defer ps.Close()
	for range 3 {
		if _, err := ps.ReceiveTimeout(ctx, 5*time.Second); err != nil { // confirmations
			t.Fatal(err)
		}
	}
	var in inbox
	tr := connect(t, sharedURL, nil, transporters.Env{Prefix: prefix, NodeID: "x", Handler: in.handler})
	publish(t, tr, protocol.TargetedTopic(protocol.Request, "node.1"), "r")
	publish(t, tr, protocol.TargetedTopic(protocol.Event, "node.1"), "e")
	publish(t, tr, protocol.BroadcastTopic(protocol.Discover), "d")
	var got []string
	for range 3 {
		m, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Channel+"="+m.Payload)
	}
	want := []string{prefix + ".REQ.node.1=r", prefix + ".EVENT.node.1=e", prefix + ".DISCOVER=d"}
	if !slices.Equal(got, want) {
		t.Errorf("on the wire: %v, want %v", got, want)
	}

	// And the other way: a plain PUBLISH is typed from its channel name.
	subscribe(t, tr, protocol.TargetedTopic(protocol.Info, "x.y.z"), protocol.BroadcastTopic(protocol.Pong))
	if err := raw.Publish(ctx, prefix+".INFO.x.y.z", "i").Err(); err != nil {
		t.Fatal(err)
	}
	in.waitFor(t, "INFO:i")
}

func TestPacketType(t *testing.T) {
	for _, c := range []struct {
		channel, prefix string
		want            protocol.PacketType
		ok              bool
	}{
		{"MOL.REQ.node-1", "MOL", protocol.Request, true},
		{"MOL-ns.INFO", "MOL-ns", protocol.Info, true},
		{"MOL-ns.EVENT.a.b.c", "MOL-ns", protocol.Event, true},
		{"MOL-a.b.DISCOVER", "MOL-a.b", protocol.Discover, true}, // a namespace with a dot
		{"MOL-ns.GOSSIP_HELLO", "MOL-ns", protocol.GossipHello, true},
		{"MOL-ns.REQB.svc.act", "MOL-ns", "", false},
		{"MOL-ns.", "MOL-ns", "", false},
		{"MOL", "MOL", "", false},
	} {
		got, ok := packetType(c.channel, c.prefix)
		if got != c.want || ok != c.ok {
			t.Errorf("packetType(%q, %q) = %q, %v; want %q, %v", c.channel, c.prefix, got, ok, c.want, c.ok)
		}
	}
}

func TestOptionsFromJS(t *testing.T) {
	o, err := OptionsFromJS("redis://127.0.0.1:6379", nil)
	if err != nil || o.Addr != "127.0.0.1:6379" || o.Network != "tcp" || o.DB != 0 || o.Password != "" ||
		o.TLS != nil || o.ConnectTimeout != DefaultConnectTimeout {
		t.Errorf("plain URL: %+v %v", o, err)
	}
	o, err = OptionsFromJS("", nil)
	if err != nil || o.Addr != "localhost:6379" {
		t.Errorf("by name: %+v %v", o, err)
	}
	o, err = OptionsFromJS("redis://:s%40cret@redis.example:6380/3", nil)
	if err != nil || o.Addr != "redis.example:6380" || o.Password != "s@cret" || o.Username != "" || o.DB != 3 {
		t.Errorf("URL with password and db: %+v %v", o, err)
	}
	o, err = OptionsFromJS("redis://alice:pw@h/1", nil)
	if err != nil || o.Addr != "h:6379" || o.Username != "alice" || o.Password != "pw" || o.DB != 1 {
		t.Errorf("URL with user: %+v %v", o, err)
	}
	o, err = OptionsFromJS("rediss://cache.example:6390", nil)
	if err != nil || o.TLS == nil || o.TLS.ServerName != "cache.example" || o.TLS.InsecureSkipVerify {
		t.Errorf("rediss: %+v %v", o, err)
	}
	// The options object as JSON gives it; it wins over the URL.
	o, err = OptionsFromJS("redis://h:1/2", map[string]any{
		"host": "10.0.0.5", "port": 6381.0, "password": "p", "username": "u", "db": 4.0,
		"connectTimeout": 2500.0, "connectionName": "molbridge", "keyPrefix": "ignored",
		"tls": map[string]any{"rejectUnauthorized": false, "servername": "redis.internal"},
	})
	if err != nil || o.Addr != "10.0.0.5:6381" || o.Password != "p" || o.Username != "u" || o.DB != 4 ||
		o.ConnectTimeout != 2500*time.Millisecond || o.ClientName != "molbridge" ||
		o.TLS == nil || !o.TLS.InsecureSkipVerify || o.TLS.ServerName != "redis.internal" {
		t.Errorf("options object: %+v %v", o, err)
	}
	o, err = OptionsFromJS("", map[string]any{"port": 7000, "password": nil, "path": "/run/redis.sock"})
	if err != nil || o.Network != "unix" || o.Addr != "/run/redis.sock" {
		t.Errorf("unix socket: %+v %v", o, err)
	}
	o, err = OptionsFromJS("", map[string]any{"cluster": map[string]any{
		"nodes":          []any{map[string]any{"host": "n1", "port": 7000.0}, "n2:7001", "redis://n3:7002", 7003.0},
		"clusterOptions": map[string]any{"redisOptions": map[string]any{"password": "cp"}},
	}})
	if err != nil || !slices.Equal(o.ClusterAddrs, []string{"n1:7000", "n2:7001", "n3:7002", "localhost:7003"}) ||
		o.Password != "cp" || o.Addr != "" {
		t.Errorf("cluster: %+v %v", o, err)
	}
	for _, bad := range []map[string]any{
		{"cluster": map[string]any{"nodes": []any{}}},
		{"port": "six"},
		{"db": 1.5},
		{"sentinels": []any{map[string]any{"host": "s"}}},
		{"tls": map[string]any{"ca": "not a PEM"}},
	} {
		if _, err := OptionsFromJS("", bad); err == nil {
			t.Errorf("OptionsFromJS(%v) accepted it", bad)
		}
	}
	if _, err := OptionsFromJS("redis://h/notanumber", nil); err == nil {
		t.Error("a non-numeric db in the URL was accepted")
	}
	for _, name := range []string{"redis://h", "rediss://h", "Redis", "REDIS"} {
		tr, err := transporters.New(name, nil)
		if err != nil {
			t.Errorf("transporters.New(%q): %v", name, err)
		} else if tr.BuiltInBalancer() {
			t.Errorf("%q: BuiltInBalancer true", name)
		}
	}
}

func TestPasswordAndDB(t *testing.T) {
	srv := livetest.StartRedis(t, livetest.RedisConfig{Password: "p@ss:word"})
	prefix := uniquePrefix()
	var in inbox
	url := fmt.Sprintf("redis://:p%%40ss%%3Aword@%s/5", srv.Addr())
	tr := connect(t, url, nil, transporters.Env{Prefix: prefix, NodeID: "n", Handler: in.handler})
	subscribe(t, tr, protocol.BroadcastTopic(protocol.Info))
	publish(t, tr, protocol.BroadcastTopic(protocol.Info), "x")
	in.waitFor(t, "INFO:x")

	// The same through the options object, as JS gives it.
	tr2 := connect(t, "Redis", map[string]any{"host": "127.0.0.1", "port": float64(srv.Port), "password": "p@ss:word", "db": 2.0},
		transporters.Env{Prefix: prefix, NodeID: "m", Handler: in.handler})
	publish(t, tr2, protocol.BroadcastTopic(protocol.Info), "y")
	in.waitFor(t, "INFO:y")

	bad, err := transporters.New(fmt.Sprintf("redis://:wrong@%s", srv.Addr()), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := bad.Connect(ctx, transporters.Env{Prefix: prefix, NodeID: "z", Handler: in.handler}); err == nil {
		_ = bad.Close()
		t.Error("Connect with a wrong password succeeded")
	} else {
		t.Logf("wrong password: %v", err)
	}
}

func TestTLS(t *testing.T) {
	cert := livetest.NewCert(t)
	srv := livetest.StartRedis(t, livetest.RedisConfig{TLS: &cert})
	prefix := uniquePrefix()
	var in inbox
	url := fmt.Sprintf("rediss://localhost:%d", srv.Port)
	tr := connect(t, url, map[string]any{"tls": map[string]any{"ca": cert.CAPEM}},
		transporters.Env{Prefix: prefix, NodeID: "n", Handler: in.handler})
	subscribe(t, tr, protocol.TargetedTopic(protocol.Request, "n"))
	publish(t, tr, protocol.TargetedTopic(protocol.Request, "n"), "tls")
	in.waitFor(t, "REQ:tls")

	// rejectUnauthorized: false trusts any certificate, as in Node.js.
	connect(t, fmt.Sprintf("rediss://127.0.0.1:%d", srv.Port), map[string]any{"tls": map[string]any{"rejectUnauthorized": false}},
		transporters.Env{Prefix: prefix, NodeID: "m", Handler: in.handler})

	// Without the CA, the server's certificate is refused.
	tr3, _ := transporters.New(url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr3.Connect(ctx, transporters.Env{Prefix: prefix, NodeID: "z", Handler: in.handler}); err == nil {
		_ = tr3.Close()
		t.Error("an unknown CA was accepted")
	}
}

func TestCluster(t *testing.T) {
	srv := livetest.StartRedis(t, livetest.RedisConfig{Cluster: true})
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	ctx := context.Background()
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("assigning the slots: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		info, _ := admin.ClusterInfo(ctx).Result()
		if strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the one-node cluster never became ok: %s", info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	prefix := uniquePrefix()
	opts := map[string]any{"cluster": map[string]any{"nodes": []any{map[string]any{"host": "127.0.0.1", "port": float64(srv.Port)}}}}
	var a, b inbox
	ta := connect(t, "Redis", opts, transporters.Env{Prefix: prefix, NodeID: "a", Handler: a.handler})
	tb := connect(t, "Redis", opts, transporters.Env{Prefix: prefix, NodeID: "b", Handler: b.handler})
	subscribe(t, tb, protocol.NodeSubscriptions("b")...)
	publish(t, ta, protocol.TargetedTopic(protocol.Event, "b"), "ev")
	publish(t, ta, protocol.BroadcastTopic(protocol.Disconnect), "bye")
	b.waitFor(t, "EVENT:ev", "DISCONNECT:bye")
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
	if d := time.Since(start); d > time.Second {
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
	// Nothing arrives any more: another client publishes on the channel.
	var other inbox
	o := connect(t, sharedURL, nil, transporters.Env{Prefix: prefix, NodeID: "o", Handler: other.handler})
	publish(t, o, protocol.BroadcastTopic(protocol.Info), "late")
	time.Sleep(100 * time.Millisecond)
	if got := in.list(); len(got) != 1 {
		t.Errorf("after Close the handler got %v", got)
	}

	// Unsubscribe stops the delivery of one topic only.
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

// TestReconnect restarts a private redis-server under a connected
// transporter: Publish fails with ErrNotConnected while it is down, then
// the subscriptions come back and Reconnected is called.
func TestReconnect(t *testing.T) {
	srv := livetest.StartRedis(t, livetest.RedisConfig{})
	prefix := uniquePrefix()
	var in inbox
	var reconnected atomic.Int32
	url := "redis://" + srv.Addr()
	tr := connect(t, url, nil, transporters.Env{Prefix: prefix, NodeID: "n", Handler: in.handler,
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
			t.Fatalf("Publish while the server is down: %v, want ErrNotConnected", err)
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
	// Every subscription is back: another client's packets arrive.
	var other inbox
	o := connect(t, url, nil, transporters.Env{Prefix: prefix, NodeID: "o", Handler: other.handler})
	publish(t, o, protocol.TargetedTopic(protocol.Request, "n"), "2")
	publish(t, o, protocol.BroadcastTopic(protocol.Discover), "3")
	publish(t, tr, protocol.TargetedTopic(protocol.Pong, "n"), "4")
	in.waitFor(t, "REQ:2", "DISCOVER:3", "PONG:4")
	if n := reconnected.Load(); n != 1 {
		t.Errorf("Reconnected called %d times, want 1", n)
	}
}

func TestConnectFails(t *testing.T) {
	port := livetest.FreePort(t) // nothing listens there
	tr, err := transporters.New(fmt.Sprintf("redis://127.0.0.1:%d", port), nil)
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
