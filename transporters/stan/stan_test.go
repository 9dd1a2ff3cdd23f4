package stan

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

// These tests run against the real nats-streaming-server that
// scripts/brokers.sh stan starts on 127.0.0.1:4223 (cluster ID
// "test-cluster").

const url = "stan://127.0.0.1:4223"

type inbox struct {
	mu  sync.Mutex
	got []string
}

func (in *inbox) handler(t protocol.PacketType, data []byte) {
	in.mu.Lock()
	in.got = append(in.got, string(t)+":"+string(data))
	in.mu.Unlock()
}

func (in *inbox) snapshot() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.got)
}

// waitCount waits until the inboxes together hold want copies of s.
func waitCount(t *testing.T, s string, want int, ins ...*inbox) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := 0
		for _, in := range ins {
			n += count(in.snapshot(), s)
		}
		if n == want {
			return
		}
		if n > want || time.Now().After(deadline) {
			var all [][]string
			for _, in := range ins {
				all = append(all, in.snapshot())
			}
			t.Fatalf("%q delivered %d times, want %d: %v", s, n, want, all)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func count(list []string, s string) (n int) {
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func requireServer(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:4223", 3*time.Second)
	if err != nil {
		t.Fatalf("no nats-streaming-server on 127.0.0.1:4223 (scripts/brokers.sh stan starts one): %v", err)
	}
	c.Close()
}

func connect(t *testing.T, prefix, node string, in *inbox) transporters.Transporter {
	t.Helper()
	requireServer(t)
	tr, err := transporters.New(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Connect(ctx, transporters.Env{Prefix: prefix, NodeID: node, Handler: in.handler}); err != nil {
		t.Fatal(err)
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

func uniq(s string) string { return fmt.Sprintf("%s%d", s, time.Now().UnixNano()) }

func TestTargetedBroadcastAndBalanced(t *testing.T) {
	prefix := "MOL-" + uniq("st")
	id := uniq("")
	var a, b1, b2 inbox
	ta := connect(t, prefix, "a-"+id, &a)
	tb1 := connect(t, prefix, "b1-"+id, &b1)
	tb2 := connect(t, prefix, "b2-"+id, &b2)
	reqb := protocol.BalancedRequestTopic("svc.act")
	evb := protocol.BalancedEventTopic("grp", "user.created")
	subscribe(t, tb1, protocol.TargetedTopic(protocol.Request, "b1-"+id), protocol.BroadcastTopic(protocol.Info), reqb, evb)
	subscribe(t, tb2, protocol.BroadcastTopic(protocol.Info), reqb, evb)

	publish(t, ta, protocol.TargetedTopic(protocol.Request, "b1-"+id), "to-b1")
	publish(t, ta, protocol.BroadcastTopic(protocol.Info), "all")
	for range 6 {
		publish(t, ta, reqb, "reqb")
	}
	publish(t, ta, evb, "evb")

	waitCount(t, "REQ:to-b1", 1, &b1)
	waitCount(t, "INFO:all", 1, &b1)
	waitCount(t, "INFO:all", 1, &b2)
	waitCount(t, "REQ:reqb", 6, &b1, &b2)
	waitCount(t, "EVENT:evb", 1, &b1, &b2)
	time.Sleep(100 * time.Millisecond)
	if got := b2.snapshot(); count(got, "REQ:to-b1") != 0 {
		t.Errorf("b2 got b1's targeted packet: %v", got)
	}
	if got := a.snapshot(); len(got) != 0 {
		t.Errorf("publisher received %v", got)
	}
}

// Plain subscriptions see only what is published after them; balanced ones
// (durable queue subscriptions with DeliverAllAvailable, as in JS) also get
// what was published to the channel before they started.
func TestStartPositions(t *testing.T) {
	prefix := "MOL-" + uniq("sp")
	id := uniq("")
	var a, b inbox
	ta := connect(t, prefix, "a-"+id, &a)
	info := protocol.BroadcastTopic(protocol.Info)
	reqb := protocol.BalancedRequestTopic("svc.early")
	// Create the channels, then publish before b subscribes.
	subscribe(t, ta, info)
	publish(t, ta, info, "old")
	publish(t, ta, reqb, "early")
	waitCount(t, "INFO:old", 1, &a)

	tb := connect(t, prefix, "b-"+id, &b)
	subscribe(t, tb, info, reqb)
	publish(t, ta, info, "new")
	waitCount(t, "INFO:new", 1, &b)
	waitCount(t, "REQ:early", 1, &b)
	if got := b.snapshot(); count(got, "INFO:old") != 0 {
		t.Errorf("a plain subscription got an old message: %v", got)
	}
}

func TestUnsubscribeAndClose(t *testing.T) {
	prefix := "MOL-" + uniq("un")
	id := uniq("")
	var a, b inbox
	ta := connect(t, prefix, "a-"+id, &a)
	tb := connect(t, prefix, "b-"+id, &b)
	hb := protocol.BroadcastTopic(protocol.Heartbeat)
	subscribe(t, tb, hb)
	publish(t, ta, hb, "1")
	waitCount(t, "HEARTBEAT:1", 1, &b)
	if err := tb.Unsubscribe(context.Background(), hb); err != nil {
		t.Fatal(err)
	}
	publish(t, ta, hb, "2")
	time.Sleep(200 * time.Millisecond)
	if got := b.snapshot(); count(got, "HEARTBEAT:2") != 0 {
		t.Errorf("delivered after Unsubscribe: %v", got)
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tb.Publish(context.Background(), hb, []byte("x")); err != transporters.ErrNotConnected {
		t.Errorf("Publish after Close: %v, want ErrNotConnected", err)
	}
}

// A wrong cluster ID fails Connect with a clear error instead of hanging.
func TestWrongClusterID(t *testing.T) {
	requireServer(t)
	tr, err := transporters.New(url, map[string]any{"clusterID": "no-such-cluster", "connectTimeout": 500.0})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = tr.Connect(ctx, transporters.Env{Prefix: "MOL", NodeID: uniq("wc"), Handler: func(protocol.PacketType, []byte) {}})
	if err == nil {
		_ = tr.Close()
		t.Fatal("Connect to a wrong cluster ID succeeded")
	}
	t.Log(err)
}

func TestOptionsFromJS(t *testing.T) {
	o, err := OptionsFromJS("stan://h:1", nil)
	if err != nil || o.URL != "nats://h:1" || o.ClusterID != DefaultClusterID || o.MaxReconnectAttempts != -1 {
		t.Errorf("defaults: %+v %v", o, err)
	}
	o, err = OptionsFromJS("", map[string]any{"url": "stan://a:1,stan://b:2", "clusterID": "c", "user": "u",
		"pass": "p", "stanPingInterval": 2000.0, "stanMaxPingOut": 4})
	if err != nil || o.URL != "nats://a:1,nats://b:2" || o.ClusterID != "c" || o.User != "u" || o.Password != "p" ||
		o.PingInterval != 2 || o.PingMaxOut != 4 {
		t.Errorf("%+v %v", o, err)
	}
	if o, _ := OptionsFromJS("", nil); o.URL != DefaultURL {
		t.Errorf("no URL: %+v", o)
	}
	if _, err := OptionsFromJS("", map[string]any{"url": 3.0}); err == nil {
		t.Error("a number as url accepted")
	}
	for _, name := range []string{"STAN", "stan://127.0.0.1:4223"} {
		if _, err := transporters.New(name, nil); err != nil {
			t.Errorf("New(%q): %v", name, err)
		}
	}
}
