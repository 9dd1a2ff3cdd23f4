package nats

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

// These tests run against the real nats-server that scripts/brokers.sh
// starts on 127.0.0.1:4222.

type inbox struct {
	mu  sync.Mutex
	got []string
}

func (in *inbox) handler(t protocol.PacketType, data []byte) {
	in.mu.Lock()
	in.got = append(in.got, string(t)+":"+string(data))
	in.mu.Unlock()
}

func (in *inbox) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		in.mu.Lock()
		if len(in.got) >= n {
			defer in.mu.Unlock()
			return append([]string(nil), in.got...)
		}
		in.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	t.Fatalf("got %d packets, want %d: %v", len(in.got), n, in.got)
	return nil
}

func connect(t *testing.T, prefix, node string, in *inbox) transporters.Transporter {
	t.Helper()
	tr, err := transporters.New("nats://127.0.0.1:4222", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Connect(context.Background(), transporters.Env{Prefix: prefix, NodeID: node, Handler: in.handler}); err != nil {
		t.Fatalf("%v (is nats-server running? scripts/brokers.sh nats starts it)", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

func TestTargetedBroadcastAndBalanced(t *testing.T) {
	prefix := fmt.Sprintf("MOL-t%d", time.Now().UnixNano())
	var a, b1, b2 inbox
	ta := connect(t, prefix, "a", &a)
	tb1 := connect(t, prefix, "b1", &b1)
	tb2 := connect(t, prefix, "b2", &b2)
	ctx := context.Background()
	for _, s := range []struct {
		tr    transporters.Transporter
		topic protocol.Topic
	}{
		{tb1, protocol.TargetedTopic(protocol.Request, "b1")},
		{tb1, protocol.BroadcastTopic(protocol.Info)},
		{tb2, protocol.BroadcastTopic(protocol.Info)},
		{tb1, protocol.BalancedRequestTopic("svc.act")},
		{tb2, protocol.BalancedRequestTopic("svc.act")},
		{tb1, protocol.BalancedEventTopic("grp", "user.**")},
		{tb2, protocol.BalancedEventTopic("grp", "user.**")},
	} {
		if err := s.tr.Subscribe(ctx, s.topic); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ta.Publish(ctx, protocol.TargetedTopic(protocol.Request, "b1"), []byte("to-b1")))
	must(ta.Publish(ctx, protocol.BroadcastTopic(protocol.Info), []byte("all")))
	for range 4 {
		must(ta.Publish(ctx, protocol.BalancedRequestTopic("svc.act"), []byte("reqb")))
	}
	must(ta.Publish(ctx, protocol.BalancedEventTopic("grp", "user.created"), []byte("evb")))
	time.Sleep(200 * time.Millisecond)
	got1, got2 := b1.wait(t, 1), b2.wait(t, 1)
	count := func(list []string, s string) (n int) {
		for _, x := range list {
			if x == s {
				n++
			}
		}
		return n
	}
	if count(got1, "REQ:to-b1") != 1 || count(got2, "REQ:to-b1") != 0 {
		t.Errorf("targeted: %v / %v", got1, got2)
	}
	if count(got1, "INFO:all") != 1 || count(got2, "INFO:all") != 1 {
		t.Errorf("broadcast: %v / %v", got1, got2)
	}
	if n := count(got1, "REQ:reqb") + count(got2, "REQ:reqb"); n != 4 {
		t.Errorf("balanced requests delivered %d times, want 4", n)
	}
	if n := count(got1, "EVENT:evb") + count(got2, "EVENT:evb"); n != 1 {
		t.Errorf("balanced event with a ** pattern delivered %d times, want 1", n)
	}
	if len(a.got) != 0 {
		t.Errorf("publisher received %v", a.got)
	}
}

func TestOptionsFromJS(t *testing.T) {
	o, err := OptionsFromJS("", map[string]any{"url": "nats://h:1", "user": "u", "pass": "p", "maxReconnectAttempts": 3.0})
	if err != nil || o.URL != "nats://h:1" || o.User != "u" || o.Password != "p" || o.MaxReconnectAttempts != 3 {
		t.Errorf("%+v %v", o, err)
	}
	if o, _ := OptionsFromJS("", nil); o.URL != DefaultURL || o.MaxReconnectAttempts != -1 {
		t.Errorf("defaults: %+v", o)
	}
}
