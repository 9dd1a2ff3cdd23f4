package amqp10

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	amqp "github.com/Azure/go-amqp"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
	"github.com/molbridge/molbridge/transporters/internal/rabbitlive"
)

// The live tests run against the RabbitMQ (with the rabbitmq_amqp1_0
// plugin) that scripts/brokers.sh amqp starts on 127.0.0.1:5672.

// rabbitOptions are the options RabbitMQ needs.
var rabbitOptions = map[string]any{"topicPrefix": "/topic/"}

func TestOptionsFromJS(t *testing.T) {
	o, err := OptionsFromJS("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Host != "localhost" || o.Port != 5672 || o.Username != "guest" || o.Password != "guest" ||
		o.TopicPrefix != "topic://" || o.Prefetch != 1 {
		t.Errorf("defaults: %+v", o)
	}
	o, _ = OptionsFromJS("amqp10://u:p@h:1234", map[string]any{
		"topicPrefix": "/topic/", "prefetch": 0.0, "eventTimeToLive": 500.0,
		"connectionOptions": map[string]any{"idle_time_out": 3000.0, "container_id": "ignored"},
	})
	if o.Host != "h" || o.Port != 1234 || o.Username != "u" || o.Password != "p" || o.TopicPrefix != "/topic/" ||
		o.Prefetch != 0 || o.EventTimeToLive != 500 || o.IdleTimeout != 3*time.Second || o.addr() != "amqp://h:1234" {
		t.Errorf("options: %+v", o)
	}
	o, _ = OptionsFromJS("amqp10://x", map[string]any{"url": "amqp10://y:5673"})
	if o.Host != "y" || o.Port != 5673 || o.Username != "" {
		t.Errorf("url option: %+v", o)
	}
}

func TestMessage(t *testing.T) {
	o, _ := OptionsFromJS("", map[string]any{"eventTimeToLive": 5000.0, "heartbeatTimeToLive": 700.0})
	m := o.message(protocol.Request, []byte("x"))
	if b, ok := m.Value.([]byte); !ok || string(b) != "x" || m.Data != nil || m.Header != nil || m.Properties != nil {
		t.Errorf("REQ message: %+v", m)
	}
	if m := o.message(protocol.Event, nil); m.Header == nil || m.Header.TTL != 5*time.Second {
		t.Errorf("EVENT TTL: %+v", m.Header)
	}
	if m := o.message(protocol.Heartbeat, nil); m.Header == nil || m.Header.TTL != 700*time.Millisecond {
		t.Errorf("HEARTBEAT TTL: %+v", m.Header)
	}
	o.MessageOptions = map[string]any{"ttl": 100.0, "durable": true, "subject": "s", "application_properties": map[string]any{"k": "v"}}
	m = o.message(protocol.Event, nil)
	if m.Header.TTL != 100*time.Millisecond || !m.Header.Durable || *m.Properties.Subject != "s" || m.ApplicationProperties["k"] != "v" {
		t.Errorf("messageOptions: %+v %+v", m.Header, m.Properties)
	}

	for _, c := range []struct {
		m    *amqp.Message
		want string
		ok   bool
	}{
		{&amqp.Message{Value: []byte("v")}, "v", true},
		{&amqp.Message{Data: [][]byte{[]byte("d")}}, "d", true},
		{&amqp.Message{Data: [][]byte{[]byte("d1"), []byte("d2")}}, "d1d2", true},
		{&amqp.Message{Value: int64(3)}, "", false},
	} {
		if got, ok := body(c.m); string(got) != c.want || ok != c.ok {
			t.Errorf("body(%+v) = %q, %v", c.m, got, ok)
		}
	}
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

func (in *inbox) snapshot() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.got)
}

func (in *inbox) waitFor(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if count(in.snapshot(), s) >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("got %v, want %d × %q", in.snapshot(), n, s)
}

func count(list []string, s string) (n int) {
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func newPrefix(t *testing.T) string {
	rabbitlive.Require(t)
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	prefix := "MOL-t" + hex.EncodeToString(b)
	rabbitlive.CleanupPrefix(t, prefix)
	return prefix
}

func connect(t *testing.T, prefix, node string, in *inbox, reconnected func()) *Transporter {
	t.Helper()
	tr, err := transporters.New(rabbitlive.AMQP10URL, rabbitOptions)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env := transporters.Env{Prefix: prefix, NodeID: node, InstanceID: node + "-instance", Handler: in.handler, Reconnected: reconnected}
	if err := tr.Connect(ctx, env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr.(*Transporter)
}

func TestTargetedBroadcastAndBalanced(t *testing.T) {
	prefix := newPrefix(t)
	var a, b1, b2 inbox
	ta := connect(t, prefix, "a", &a, nil)
	tb1 := connect(t, prefix, "b1", &b1, nil)
	tb2 := connect(t, prefix, "b2", &b2, nil)
	ctx := context.Background()
	for _, s := range []struct {
		tr    transporters.Transporter
		topic protocol.Topic
	}{
		{tb1, protocol.TargetedTopic(protocol.Request, "b1")},
		{tb1, protocol.BroadcastTopic(protocol.Info)},
		{tb1, protocol.TargetedTopic(protocol.Info, "b1")},
		{tb2, protocol.BroadcastTopic(protocol.Info)},
		{tb1, protocol.BalancedRequestTopic("svc.act")},
		{tb2, protocol.BalancedRequestTopic("svc.act")},
		{tb1, protocol.BalancedEventTopic("grp", "user.created")},
		{tb2, protocol.BalancedEventTopic("grp", "user.created")},
	} {
		if err := s.tr.Subscribe(ctx, s.topic); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ta.Publish(ctx, protocol.TargetedTopic(protocol.Request, "b1"), []byte("to-b1")))
	must(ta.Publish(ctx, protocol.TargetedTopic(protocol.Info, "b1"), []byte("info-b1")))
	must(ta.Publish(ctx, protocol.BroadcastTopic(protocol.Info), []byte("all")))
	for range 6 {
		must(ta.Publish(ctx, protocol.BalancedRequestTopic("svc.act"), []byte("reqb")))
	}
	must(ta.Publish(ctx, protocol.BalancedEventTopic("grp", "user.created"), []byte("evb")))

	b1.waitFor(t, "REQ:to-b1", 1)
	b1.waitFor(t, "INFO:info-b1", 1)
	b1.waitFor(t, "INFO:all", 1)
	b2.waitFor(t, "INFO:all", 1)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if count(b1.snapshot(), "REQ:reqb")+count(b2.snapshot(), "REQ:reqb") == 6 &&
			count(b1.snapshot(), "EVENT:evb")+count(b2.snapshot(), "EVENT:evb") == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	g1, g2 := b1.snapshot(), b2.snapshot()
	if n := count(g1, "REQ:reqb") + count(g2, "REQ:reqb"); n != 6 || count(g1, "REQ:reqb") == 0 || count(g2, "REQ:reqb") == 0 {
		t.Errorf("balanced requests: %v / %v", g1, g2)
	}
	if n := count(g1, "EVENT:evb") + count(g2, "EVENT:evb"); n != 1 {
		t.Errorf("balanced event delivered %d times, want 1", n)
	}
	if count(g2, "REQ:to-b1") != 0 || count(g1, "INFO:all") != 1 || count(g2, "INFO:all") != 1 {
		t.Errorf("targeted/broadcast: %v / %v", g1, g2)
	}
	if got := a.snapshot(); len(got) != 0 {
		t.Errorf("publisher received %v", got)
	}

	must(tb1.Unsubscribe(ctx, protocol.BalancedRequestTopic("svc.act")))
	for range 4 {
		must(ta.Publish(ctx, protocol.BalancedRequestTopic("svc.act"), []byte("after")))
	}
	b2.waitFor(t, "REQ:after", 4)
	if n := count(b1.snapshot(), "REQ:after"); n != 0 {
		t.Errorf("unsubscribed node got %d balanced requests", n)
	}
}

// TestWireBody checks the body on the wire with a plain go-amqp client: an
// AMQP-value section holding binary goes out, and a Data section coming in
// is accepted too.
func TestWireBody(t *testing.T) {
	prefix := newPrefix(t)
	var in inbox
	tr := connect(t, prefix, "n", &in, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Subscribe(ctx, protocol.TargetedTopic(protocol.Event, "n")); err != nil {
		t.Fatal(err)
	}
	conn, err := amqp.Dial(ctx, "amqp://127.0.0.1:5672", &amqp.ConnOptions{SASLType: amqp.SASLTypePlain("guest", "guest")})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	queue := prefix + ".RES.raw"
	rcv, err := sess.NewReceiver(ctx, queue, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Publish(ctx, protocol.TargetedTopic(protocol.Response, "raw"), []byte("payload")); err != nil {
		t.Fatal(err)
	}
	m, err := rcv.Receive(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = rcv.AcceptMessage(ctx, m)
	if b, ok := m.Value.([]byte); !ok || string(b) != "payload" || len(m.Data) != 0 {
		t.Errorf("on the wire: value %#v, data %q; want an AMQP-value binary", m.Value, m.Data)
	}

	snd, err := sess.NewSender(ctx, prefix+".EVENT.n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := snd.Send(ctx, amqp.NewMessage([]byte("data-section")), nil); err != nil {
		t.Fatal(err)
	}
	in.waitFor(t, "EVENT:data-section", 1)
}

func TestReconnectRestoresSubscriptions(t *testing.T) {
	prefix := newPrefix(t)
	var a, b inbox
	ta := connect(t, prefix, "a", &a, nil)
	reconnected := make(chan struct{}, 4)
	tb := connect(t, prefix, "b", &b, func() { reconnected <- struct{}{} })
	ctx := context.Background()
	for _, tp := range []protocol.Topic{protocol.TargetedTopic(protocol.Request, "b"), protocol.BroadcastTopic(protocol.Info),
		protocol.BalancedRequestTopic("s.a")} {
		if err := tb.Subscribe(ctx, tp); err != nil {
			t.Fatal(err)
		}
	}
	_ = tb.cur.Load().conn.Close() // as a broker restart would
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("Reconnected was not called")
	}
	if err := tb.Subscribe(ctx, protocol.TargetedTopic(protocol.Info, "b")); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ta.Publish(ctx, protocol.TargetedTopic(protocol.Request, "b"), []byte("req")))
	must(ta.Publish(ctx, protocol.BroadcastTopic(protocol.Info), []byte("all")))
	must(ta.Publish(ctx, protocol.BalancedRequestTopic("s.a"), []byte("reqb")))
	must(ta.Publish(ctx, protocol.TargetedTopic(protocol.Info, "b"), []byte("info-b")))
	must(tb.Publish(ctx, protocol.BroadcastTopic(protocol.Info), []byte("from-b")))
	b.waitFor(t, "REQ:req", 1)
	b.waitFor(t, "INFO:all", 1)
	b.waitFor(t, "REQ:reqb", 1)
	b.waitFor(t, "INFO:info-b", 1)
	b.waitFor(t, "INFO:from-b", 1)
}

// TestDefaultTopicPrefixOnRabbitMQ: RabbitMQ refuses JS's default
// "topic://" addresses. JS's broker.start() then hangs; here Subscribe
// reports the refusal.
func TestDefaultTopicPrefixOnRabbitMQ(t *testing.T) {
	prefix := newPrefix(t)
	tr, err := transporters.New(rabbitlive.AMQP10URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	var in inbox
	if err := tr.Connect(context.Background(), transporters.Env{Prefix: prefix, NodeID: "n", InstanceID: "i", Handler: in.handler}); err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Subscribe(context.Background(), protocol.BroadcastTopic(protocol.Info)); err == nil {
		t.Error("RabbitMQ accepted topic://")
	}
}

func TestNotConnected(t *testing.T) {
	o, _ := OptionsFromJS(rabbitlive.AMQP10URL, rabbitOptions)
	tr := New(o)
	if err := tr.Publish(context.Background(), protocol.BroadcastTopic(protocol.Info), nil); err != transporters.ErrNotConnected {
		t.Errorf("Publish before Connect: %v", err)
	}
	if err := tr.Subscribe(context.Background(), protocol.BroadcastTopic(protocol.Info)); err != transporters.ErrNotConnected {
		t.Errorf("Subscribe before Connect: %v", err)
	}
	o.Port, o.DialTimeout = 1, time.Second
	if err := New(o).Connect(context.Background(), transporters.Env{Prefix: "MOL"}); err == nil {
		t.Error("Connect to a closed port succeeded")
	}
}

func TestRefused(t *testing.T) {
	remote := &amqp.Error{Condition: amqp.ErrCondInvalidField, Description: "unknown_destination"}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{remote, true},
		{fmt.Errorf("attach: %w", remote), true},
		{&amqp.ConnError{RemoteErr: remote}, false},
		{&amqp.SessionError{RemoteErr: remote}, false},
		{&amqp.ConnError{}, false},
		{errors.New("x"), false},
	} {
		if got := refused(c.err); got != c.want {
			t.Errorf("refused(%v) = %v", c.err, got)
		}
	}
}
