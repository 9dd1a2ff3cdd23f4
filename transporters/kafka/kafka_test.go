package kafka

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

// These tests run against the Kafka test broker that scripts/brokers.sh
// kafka starts on 127.0.0.1:9092 (cmd/kafkabroker).

const url = "kafka://127.0.0.1:9092"

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

func count(list []string, s string) (n int) {
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func waitCount(t *testing.T, in *inbox, s string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := count(in.snapshot(), s)
		if n == want {
			return
		}
		if n > want || time.Now().After(deadline) {
			t.Fatalf("%q delivered %d times, want %d: %v", s, n, want, in.snapshot())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func connect(t *testing.T, prefix, node string, in *inbox) transporters.Transporter {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:9092", 3*time.Second)
	if err != nil {
		t.Fatalf("no Kafka broker on 127.0.0.1:9092 (scripts/brokers.sh kafka starts the test broker): %v", err)
	}
	c.Close()
	tr, err := transporters.New(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env := transporters.Env{Prefix: prefix, NodeID: node, InstanceID: "inst-" + node, Handler: in.handler}
	if err := tr.Connect(ctx, env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

func subscribe(t *testing.T, tr transporters.Transporter, topics ...protocol.Topic) {
	t.Helper()
	for _, topic := range topics {
		t0 := time.Now()
		if err := tr.Subscribe(context.Background(), topic); err != nil {
			t.Fatal(err)
		}
		t.Logf("subscribed %v in %v", topic, time.Since(t0).Round(time.Millisecond))
	}
}

func publish(t *testing.T, tr transporters.Transporter, topic protocol.Topic, data string) {
	t.Helper()
	if err := tr.Publish(context.Background(), topic, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

// Targeted topics reach their node; broadcast topics reach every node (one
// consumer group per node); a subscription sees only what is published
// after it; the packet type comes from the topic name.
func TestTargetedBroadcastAndStart(t *testing.T) {
	prefix := fmt.Sprintf("MOL-kt%d", time.Now().UnixNano())
	var a, b1, b2 inbox
	ta := connect(t, prefix, "a", &a)
	tb1 := connect(t, prefix, "b1", &b1)
	tb2 := connect(t, prefix, "b2", &b2)
	info := protocol.BroadcastTopic(protocol.Info)
	subscribe(t, ta, info)
	publish(t, ta, info, "old")
	waitCount(t, &a, "INFO:old", 1)

	subscribe(t, tb1, protocol.TargetedTopic(protocol.Request, "b1"), info)
	subscribe(t, tb2, info)
	publish(t, ta, protocol.TargetedTopic(protocol.Request, "b1"), "to-b1")
	publish(t, ta, info, "all")
	waitCount(t, &b1, "REQ:to-b1", 1)
	waitCount(t, &b1, "INFO:all", 1)
	waitCount(t, &b2, "INFO:all", 1)
	waitCount(t, &a, "INFO:all", 1)
	time.Sleep(300 * time.Millisecond)
	for _, in := range []*inbox{&b1, &b2} {
		if got := in.snapshot(); count(got, "INFO:old") != 0 || len(got) > 2 {
			t.Errorf("late subscriber got %v", got)
		}
	}
	if got := b2.snapshot(); count(got, "REQ:to-b1") != 0 {
		t.Errorf("b2 got b1's packet: %v", got)
	}
}

func TestCloseAndOptions(t *testing.T) {
	var a inbox
	ta := connect(t, fmt.Sprintf("MOL-kc%d", time.Now().UnixNano()), "a", &a)
	if err := ta.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ta.Publish(context.Background(), protocol.BroadcastTopic(protocol.Info), []byte("x")); err != transporters.ErrNotConnected {
		t.Errorf("Publish after Close: %v", err)
	}
	if ta.BuiltInBalancer() {
		t.Error("BuiltInBalancer: Kafka has none in JS")
	}

	o, err := OptionsFromJS("kafka://h:1", nil)
	if err != nil || !slices.Equal(o.Brokers, []string{"h:1"}) || o.Partition != 0 || o.GroupID != "" {
		t.Errorf("%+v %v", o, err)
	}
	o, err = OptionsFromJS("", map[string]any{"host": "x:1", "client": map[string]any{"kafkaHost": "a:1, b:2"},
		"consumer": map[string]any{"groupId": "g"}, "publish": map[string]any{"partition": 2.0, "attributes": 0.0}})
	if err != nil || !slices.Equal(o.Brokers, []string{"a:1", "b:2"}) || o.Partition != 2 || o.GroupID != "g" {
		t.Errorf("%+v %v", o, err)
	}
	if o, _ := OptionsFromJS("", nil); !slices.Equal(o.Brokers, []string{DefaultBrokers}) {
		t.Errorf("defaults: %+v", o)
	}
	if _, err := OptionsFromJS("", map[string]any{"publish": map[string]any{"attributes": 1.0}}); err == nil {
		t.Error("compressed publishing accepted")
	}
	for _, name := range []string{"Kafka", "kafka://127.0.0.1:9092"} {
		if _, err := transporters.New(name, nil); err != nil {
			t.Errorf("New(%q): %v", name, err)
		}
	}
}
