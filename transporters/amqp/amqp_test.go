package amqp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
	"github.com/molbridge/molbridge/transporters/internal/rabbitlive"
)

// The live tests run against the RabbitMQ that scripts/brokers.sh amqp
// starts on 127.0.0.1:5672 (guest/guest).
const testURL = rabbitlive.AMQPURL

func TestOptionsFromJS(t *testing.T) {
	o, err := OptionsFromJS("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.URLs, []string{DefaultURL}) || o.Prefetch != 1 || o.AutoDeleteQueues != 120000 ||
		o.EventTimeToLive != 0 || o.HeartbeatTimeToLive != 0 {
		t.Errorf("defaults: %+v", o)
	}
	o, _ = OptionsFromJS("amqp://a;amqp://b;", map[string]any{"prefetch": 5.0, "eventTimeToLive": 3000.0})
	if !slices.Equal(o.URLs, []string{"amqp://a", "amqp://b"}) || o.Prefetch != 5 || o.EventTimeToLive != 3000 {
		t.Errorf("url list: %+v", o)
	}
	o, _ = OptionsFromJS("amqp://x", map[string]any{"url": []any{"amqp://c", "amqp://d"}})
	if !slices.Equal(o.URLs, []string{"amqp://c", "amqp://d"}) {
		t.Errorf("url array: %v", o.URLs)
	}
	for _, c := range []struct {
		v    any
		want float64
	}{{true, 120000}, {false, -1}, {30000.0, 30000}, {"x", 120000}, {nil, 120000}} {
		o, _ := OptionsFromJS("", map[string]any{"autoDeleteQueues": c.v})
		if o.AutoDeleteQueues != c.want {
			t.Errorf("autoDeleteQueues %v: got %v, want %v", c.v, o.AutoDeleteQueues, c.want)
		}
	}
	if _, err := OptionsFromJS("", map[string]any{"url": 3.0}); err == nil {
		t.Error("a numeric url was accepted")
	}
}

// TestQueueDeclarations checks the queue.declare fields against those
// amqp.js makes amqplib send (_getQueueOptions and Args.assertQueue).
func TestQueueDeclarations(t *testing.T) {
	o, _ := OptionsFromJS("", nil)
	expires := amqp091.Table{"x-expires": int32(120000)}
	autoDel := queueDecl{durable: true, autoDelete: true, args: amqp091.Table{}}
	cases := []struct {
		topic protocol.Topic
		want  queueDecl
	}{
		{protocol.TargetedTopic(protocol.Request, "n"), queueDecl{durable: true, args: expires}},
		{protocol.BalancedRequestTopic("a.b"), queueDecl{durable: true, args: amqp091.Table{}}},
		{protocol.TargetedTopic(protocol.Response, "n"), queueDecl{durable: true, args: expires}},
		{protocol.TargetedTopic(protocol.Event, "n"), queueDecl{durable: true, args: expires}},
		{protocol.BalancedEventTopic("g", "e"), queueDecl{durable: true, args: expires}},
		{protocol.BroadcastTopic(protocol.Heartbeat), autoDel},
		{protocol.BroadcastTopic(protocol.Discover), autoDel},
		{protocol.TargetedTopic(protocol.Discover, "n"), autoDel},
		{protocol.BroadcastTopic(protocol.Info), autoDel},
		{protocol.TargetedTopic(protocol.Info, "n"), autoDel},
		{protocol.BroadcastTopic(protocol.Disconnect), autoDel},
		{protocol.BroadcastTopic(protocol.Ping), autoDel},
		{protocol.TargetedTopic(protocol.Ping, "n"), autoDel},
		{protocol.TargetedTopic(protocol.Pong, "n"), autoDel},
	}
	for _, c := range cases {
		if got := o.queueDecl(c.topic); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.topic.Name("MOL"), got, c.want)
		}
	}

	// Options: TTLs, a numeric autoDeleteQueues, queueOptions merged last.
	o, _ = OptionsFromJS("", map[string]any{
		"eventTimeToLive": 5000.0, "heartbeatTimeToLive": 100.0, "autoDeleteQueues": 3e9,
		"queueOptions": map[string]any{"durable": false, "maxLength": 10.0, "arguments": map[string]any{"x-queue-type": "classic"}},
	})
	ev := o.queueDecl(protocol.BalancedEventTopic("g", "e"))
	want := amqp091.Table{"x-expires": int64(3e9), "x-message-ttl": int16(5000), "x-max-length": int8(10), "x-queue-type": "classic"}
	if ev.durable || !reflect.DeepEqual(ev.args, want) {
		t.Errorf("EVENTB with options: %+v", ev)
	}
	hb := o.queueDecl(protocol.BroadcastTopic(protocol.Heartbeat))
	if !hb.autoDelete || !reflect.DeepEqual(hb.args["x-message-ttl"], int8(100)) {
		t.Errorf("HEARTBEAT with options: %+v", hb)
	}
	o, _ = OptionsFromJS("", map[string]any{"autoDeleteQueues": false})
	if d := o.queueDecl(protocol.TargetedTopic(protocol.Request, "n")); len(d.args) != 0 {
		t.Errorf("autoDeleteQueues false: %+v", d)
	}
}

func TestConsumeAndMessageOptions(t *testing.T) {
	o, _ := OptionsFromJS("", nil)
	for _, c := range []struct {
		topic   protocol.Topic
		autoAck bool
	}{
		{protocol.TargetedTopic(protocol.Request, "n"), false},
		{protocol.BalancedRequestTopic("a"), false},
		{protocol.BalancedEventTopic("g", "e"), false},
		{protocol.TargetedTopic(protocol.Event, "n"), true},
		{protocol.TargetedTopic(protocol.Response, "n"), true},
		{protocol.BroadcastTopic(protocol.Info), true},
	} {
		if got := o.consumeDecl(c.topic); got.autoAck != c.autoAck {
			t.Errorf("%s: autoAck %v, want %v", c.topic.Name("MOL"), got.autoAck, c.autoAck)
		}
	}
	o, _ = OptionsFromJS("", map[string]any{
		"consumeOptions": map[string]any{"priority": 5.0},
		"messageOptions": map[string]any{"persistent": true, "expiration": 1000.0, "contentType": "application/json", "mandatory": true},
	})
	if c := o.consumeDecl(protocol.BalancedRequestTopic("a")); !reflect.DeepEqual(c.args, amqp091.Table{"x-priority": int8(5)}) {
		t.Errorf("consume priority: %+v", c)
	}
	p, mandatory := o.publishing()
	if p.DeliveryMode != amqp091.Persistent || p.Expiration != "1000" || p.ContentType != "application/json" || !mandatory {
		t.Errorf("publishing: %+v %v", p, mandatory)
	}
}

func TestFieldValue(t *testing.T) {
	for _, c := range []struct {
		in   any
		want any
	}{
		{127.0, int8(127)}, {128.0, int16(128)}, {-129.0, int16(-129)}, {32768.0, int32(32768)},
		{120000.0, int32(120000)}, {1 << 31, int64(1 << 31)}, {1.5, 1.5}, {"s", "s"}, {true, true}, {nil, nil},
		{[]any{1.0, "a"}, []any{int8(1), "a"}}, {map[string]any{"k": 300.0}, amqp091.Table{"k": int16(300)}},
	} {
		if got := fieldValue(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("fieldValue(%v) = %#v, want %#v", c.in, got, c.want)
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

// randomPrefix returns a fresh topic prefix and holds the broker lock (see
// rabbitlive) for the test.
func randomPrefix(t *testing.T) string {
	rabbitlive.Require(t)
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "MOL-t" + hex.EncodeToString(b)
}

func connect(t *testing.T, prefix, node string, in *inbox, opts map[string]any) *Transporter {
	t.Helper()
	tr, err := transporters.New(testURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Connect(ctx, transporters.Env{Prefix: prefix, NodeID: node, Handler: in.handler}); err != nil {
		t.Fatalf("%v (is RabbitMQ running? scripts/brokers.sh amqp starts it)", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr.(*Transporter)
}

// cleanupQueues deletes the queues and exchanges a test made with prefix.
func cleanupQueues(t *testing.T, prefix string, queues, exchanges []string) {
	t.Cleanup(func() {
		conn, err := amqp091.Dial(testURL)
		if err != nil {
			return
		}
		defer conn.Close()
		for _, q := range queues {
			if ch, err := conn.Channel(); err == nil {
				_, _ = ch.QueueDelete(prefix+"."+q, false, false, false)
				_ = ch.Close()
			}
		}
		for _, x := range exchanges {
			if ch, err := conn.Channel(); err == nil {
				_ = ch.ExchangeDelete(prefix+"."+x, false, false)
				_ = ch.Close()
			}
		}
	})
}

func TestTargetedBroadcastAndBalanced(t *testing.T) {
	prefix := randomPrefix(t)
	cleanupQueues(t, prefix, []string{"REQB.svc.act", "EVENTB.grp.user.created", "REQ.b1", "INFO.b1", "INFO.b2"}, []string{"INFO"})
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
	time.Sleep(100 * time.Millisecond) // let duplicates, if any, arrive
	g1, g2 := b1.snapshot(), b2.snapshot()
	if n := count(g1, "REQ:reqb") + count(g2, "REQ:reqb"); n != 6 {
		t.Errorf("balanced requests delivered %d times, want 6: %v / %v", n, g1, g2)
	}
	if count(g1, "REQ:reqb") == 0 || count(g2, "REQ:reqb") == 0 {
		t.Errorf("balanced requests not spread over both consumers: %v / %v", g1, g2)
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

	// Unsubscribing a balanced topic stops its deliveries to that node.
	must(tb1.Unsubscribe(ctx, protocol.BalancedRequestTopic("svc.act")))
	for range 4 {
		must(ta.Publish(ctx, protocol.BalancedRequestTopic("svc.act"), []byte("after")))
	}
	b2.waitFor(t, "REQ:after", 4)
	if n := count(b1.snapshot(), "REQ:after"); n != 0 {
		t.Errorf("unsubscribed node got %d balanced requests", n)
	}
}

// TestDeclaredQueues inspects the queues on the broker: passive declares
// succeed, and a re-declaration with amqplib's exact arguments is accepted.
func TestDeclaredQueues(t *testing.T) {
	prefix := randomPrefix(t)
	var in inbox
	tr := connect(t, prefix, "n1", &in, nil)
	ctx := context.Background()
	topics := append(protocol.NodeSubscriptions("n1"), protocol.BalancedRequestTopic("s.a"), protocol.BalancedEventTopic("g", "e"))
	var queues []string
	for _, tp := range topics {
		if err := tr.Subscribe(ctx, tp); err != nil {
			t.Fatal(err)
		}
		queues = append(queues, tp.Name(prefix)[len(prefix)+1:])
	}
	cleanupQueues(t, prefix, queues, []string{"DISCOVER", "INFO", "DISCONNECT", "HEARTBEAT", "PING"})

	conn, err := amqp091.Dial(testURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Exactly what amqplib sends for the default options.
	expires := amqp091.Table{"x-expires": int32(120000)}
	for name, d := range map[string]queueDecl{
		"REQ.n1": {durable: true, args: expires}, "RES.n1": {durable: true, args: expires},
		"EVENT.n1": {durable: true, args: expires}, "EVENTB.g.e": {durable: true, args: expires},
		"REQB.s.a": {durable: true}, "INFO.n1": {durable: true, autoDelete: true},
		"HEARTBEAT.n1": {durable: true, autoDelete: true}, "PONG.n1": {durable: true, autoDelete: true},
	} {
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.QueueDeclare(prefix+"."+name, d.durable, d.autoDelete, false, false, d.args); err != nil {
			t.Errorf("re-declaring %s as amqplib does: %v", name, err)
			continue
		}
		_ = ch.Close()
	}
	for _, x := range []string{"DISCOVER", "INFO", "DISCONNECT", "HEARTBEAT", "PING"} {
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.ExchangeDeclare(prefix+"."+x, "fanout", true, false, false, false, nil); err != nil {
			t.Errorf("re-declaring exchange %s as amqplib does: %v", x, err)
			continue
		}
		_ = ch.Close()
	}
	// A mismatch is refused: the check above is meaningful.
	ch, _ := conn.Channel()
	if _, err := ch.QueueDeclare(prefix+".REQB.s.a", true, false, false, false, expires); err == nil {
		t.Error("RabbitMQ accepted an x-expires on REQB; the declaration check proves nothing")
	}
}

func TestNotConnected(t *testing.T) {
	tr := New(Options{URLs: []string{testURL}})
	if err := tr.Publish(context.Background(), protocol.BroadcastTopic(protocol.Info), nil); err != transporters.ErrNotConnected {
		t.Errorf("Publish before Connect: %v", err)
	}
	if err := tr.Subscribe(context.Background(), protocol.BroadcastTopic(protocol.Info)); err != transporters.ErrNotConnected {
		t.Errorf("Subscribe before Connect: %v", err)
	}
	bad := New(Options{URLs: []string{"amqp://guest:guest@127.0.0.1:1"}, DialTimeout: time.Second})
	if err := bad.Connect(context.Background(), transporters.Env{Prefix: "MOL"}); err == nil {
		t.Error("Connect to a closed port succeeded")
	}
}

func TestReconnectRestoresSubscriptions(t *testing.T) {
	prefix := randomPrefix(t)
	cleanupQueues(t, prefix, []string{"REQ.b", "INFO.b", "REQB.s.a"}, []string{"INFO"})
	var a, b inbox
	ta := connect(t, prefix, "a", &a, nil)
	reconnected := make(chan struct{}, 4)
	tr, err := transporters.New(testURL, map[string]any{"prefetch": 2.0})
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Connect(context.Background(), transporters.Env{Prefix: prefix, NodeID: "b", Handler: b.handler,
		Reconnected: func() { reconnected <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	tb := tr.(*Transporter)
	ctx := context.Background()
	for _, tp := range []protocol.Topic{protocol.TargetedTopic(protocol.Request, "b"), protocol.BroadcastTopic(protocol.Info),
		protocol.BalancedRequestTopic("s.a")} {
		if err := tb.Subscribe(ctx, tp); err != nil {
			t.Fatal(err)
		}
	}

	// Lose the connection (as a broker restart would) and publish while it
	// is gone.
	_ = tb.cur.Load().conn.Close()
	if err := tb.Publish(ctx, protocol.BroadcastTopic(protocol.Info), []byte("x")); err == nil {
		// The loss may not be noticed yet; then the publish fails or goes
		// nowhere. Either is fine.
		t.Log("publish right after the loss did not fail")
	}
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("Reconnected was not called")
	}
	// Subscribing during or after the reconnection works.
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

// TestRefusedDeclaration: a queue that exists with other arguments makes
// Subscribe fail with PRECONDITION_FAILED; the transporter gets a new
// channel and its other subscriptions keep working.
func TestRefusedDeclaration(t *testing.T) {
	prefix := randomPrefix(t)
	cleanupQueues(t, prefix, []string{"REQ.b", "REQB.s.a"}, nil)
	conn, err := amqp091.Dial(testURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, _ := conn.Channel()
	if _, err := ch.QueueDeclare(prefix+".REQB.s.a", true, false, false, false, amqp091.Table{"x-expires": int32(60000)}); err != nil {
		t.Fatal(err)
	}
	var a, b inbox
	ta := connect(t, prefix, "a", &a, nil)
	tb := connect(t, prefix, "b", &b, nil)
	ctx := context.Background()
	if err := tb.Subscribe(ctx, protocol.TargetedTopic(protocol.Request, "b")); err != nil {
		t.Fatal(err)
	}
	if err := tb.Subscribe(ctx, protocol.BalancedRequestTopic("s.a")); err == nil {
		t.Fatal("a conflicting declaration was accepted")
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_ = ta.Publish(ctx, protocol.TargetedTopic(protocol.Request, "b"), []byte("req"))
		if count(b.snapshot(), "REQ:req") > 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no delivery after the refused declaration: %v", b.snapshot())
}

func TestRefused(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&amqp091.Error{Code: amqp091.PreconditionFailed}, true},
		{fmt.Errorf("wrapped: %w", &amqp091.Error{Code: amqp091.AccessRefused}), true},
		{&amqp091.Error{Code: amqp091.ConnectionForced}, false},
		{&amqp091.Error{Code: amqp091.NotFound}, false},
		{amqp091.ErrClosed, false},
		{errors.New("x"), false},
	} {
		if got := refused(c.err); got != c.want {
			t.Errorf("refused(%v) = %v", c.err, got)
		}
	}
}
