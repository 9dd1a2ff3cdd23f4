package live

import (
	"strings"
	"testing"
	"time"

	"github.com/molbridge/molbridge/protocol"
)

// Acceptance 9: malformed packets, packets of another protocol version and
// an INFO claiming the Go node's ID from another instance are dropped and
// logged; nothing panics and the Go node keeps serving JS callers.
func TestBadInputIsDroppedAndLogged(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	if !cfg.canInject() {
		notApplicable(t, "the whole test (bad packets come from a bare transporter connection)", whyNoInject)
		return
	}
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.echo", g.NodeID())
	raw := "raw-" + c.ns[3:]
	res := c.sniff(protocol.TargetedTopic(protocol.Response, raw), raw)
	link := c.rawLink(raw+"-tx", nil)

	publish := func(topic protocol.Topic, data []byte) {
		t.Helper()
		if err := link.publishBytes(topic, data); err != nil {
			t.Fatal(err)
		}
	}
	enc := func(pt protocol.PacketType, p map[string]any) []byte {
		t.Helper()
		b, err := encodePacket(pt, p)
		if err != nil {
			t.Fatalf("encode %v %s: %v", pt, jsonString(p), err)
		}
		return b
	}
	req := func(id, ver string) map[string]any {
		return map[string]any{"id": id, "action": "goecho.echo", "params": map[string]any{"x": 1.0}, "meta": map[string]any{},
			"timeout": 0.0, "level": 1.0, "tracing": nil, "parentID": nil, "requestID": id, "caller": nil, "stream": false,
			"ver": ver, "sender": raw}
	}
	reqTo := protocol.TargetedTopic(protocol.Request, g.NodeID())

	// Malformed bytes, for the suite's serializer, on every topic the Go
	// node listens to.
	topics := []protocol.Topic{reqTo, protocol.TargetedTopic(protocol.Response, g.NodeID()),
		protocol.TargetedTopic(protocol.Event, g.NodeID()), protocol.BroadcastTopic(protocol.Info),
		protocol.TargetedTopic(protocol.Info, g.NodeID()), protocol.BroadcastTopic(protocol.Discover),
		protocol.TargetedTopic(protocol.Discover, g.NodeID()), protocol.BroadcastTopic(protocol.Heartbeat),
		protocol.BroadcastTopic(protocol.Disconnect), protocol.BroadcastTopic(protocol.Ping),
		protocol.TargetedTopic(protocol.Ping, g.NodeID()), protocol.TargetedTopic(protocol.Pong, g.NodeID())}
	garbage := malformed(enc(protocol.Request, req("truncated", "4")))
	for _, topic := range topics {
		for _, g := range garbage {
			publish(topic, g)
		}
	}
	// Wrong field types, in serializers that can carry them.
	wrong := []struct {
		topic protocol.Topic
		p     map[string]any
	}{
		{reqTo, map[string]any{"id": 5, "action": []any{"x"}, "params": map[string]any{}, "meta": "m", "level": "one", "ver": "4", "sender": raw}},
		{reqTo, map[string]any{"ver": "4", "sender": raw}},
		{protocol.TargetedTopic(protocol.Event, g.NodeID()), map[string]any{"id": "e", "event": 7, "groups": "nope", "broadcast": "yes", "ver": "4", "sender": raw}},
		{protocol.BroadcastTopic(protocol.Heartbeat), map[string]any{"cpu": "hot", "ver": "4", "sender": raw}},
		{protocol.TargetedTopic(protocol.Info, g.NodeID()), map[string]any{"services": "none", "seq": "x", "ver": "4", "sender": raw}},
	}
	numVer := req("num-ver-2", "")
	numVer["ver"] = 4
	if schemaless() {
		for _, w := range wrong {
			publish(w.topic, encodeAny(t, w.p))
		}
	} else {
		notApplicable(t, "packets with fields of the wrong type (and a numeric ver)",
			"the "+cfg.Serializer+" schema fixes every field's type, so no such bytes can be written")
	}
	publish(protocol.TargetedTopic(protocol.Response, g.NodeID()),
		enc(protocol.Response, map[string]any{"id": "no-such-call", "success": true, "data": 1, "meta": map[string]any{}, "ver": "4", "sender": raw}))

	// Another protocol version: dropped, not answered.
	publish(reqTo, enc(protocol.Request, req("wrong-ver", "3")))
	publish(reqTo, enc(protocol.Request, req("num-ver", "")))
	if schemaless() {
		publish(reqTo, encodeAny(t, numVer))
	}

	// An INFO claiming the Go node's ID from another instance, on the
	// targeted and the broadcast INFO topics. It lists the Go node's real
	// services, so that the JS node (which believes it, as JS does) keeps
	// routing to the Go node.
	impostor := map[string]any{"services": g.Nodes()[0].Services, "ipList": []any{}, "hostname": "elsewhere",
		"client": map[string]any{"type": "nodejs", "version": "0.14.36", "langVersion": "v20"}, "config": map[string]any{},
		"instanceID": "not-" + g.InstanceID(), "metadata": map[string]any{}, "seq": 99, "ver": "4", "sender": g.NodeID()}
	publish(protocol.TargetedTopic(protocol.Info, g.NodeID()), enc(protocol.Info, impostor))
	publish(protocol.BroadcastTopic(protocol.Info), enc(protocol.Info, impostor))

	// A well-formed REQ afterwards is served (and proves the junk before it
	// on the same topic was processed: every transporter keeps the order of
	// one publisher on one topic).
	publish(reqTo, enc(protocol.Request, req("good", "4")))
	eventually(t, 10*time.Second, "the answer to the good REQ", func() bool { return len(res.find("id", "good")) == 1 })
	time.Sleep(300 * time.Millisecond)
	// (A REQ without id or action is answered with ServiceNotFoundError, as
	// JS answers it; only the other protocol versions must stay unanswered.)
	for _, p := range res.packets() {
		if id, _ := p["id"].(string); strings.Contains(id, "ver") {
			t.Errorf("the Go node answered a REQ of another protocol version: %s", jsonString(p))
		}
	}
	good := res.find("id", "good")[0]
	mustEqual(t, "answer to the good REQ", asMap(t, good["data"])["params"], map[string]any{"x": 1.0})

	// The Go node keeps its identity and serves JS callers.
	self := g.Nodes()[0]
	if self.ID != g.NodeID() || self.InstanceID != g.InstanceID() || !self.Local {
		t.Errorf("local node after the impostor INFO: %+v", self)
	}
	for _, n := range g.Nodes() {
		if n.ID == raw {
			t.Errorf("the bad INFO registered node %s", raw)
		}
	}
	for i := range 3 {
		r := asMap(t, captured(t, capture(t, g, a.NodeID, "goecho.echo", map[string]any{"i": float64(i)}, nil)))
		mustEqual(t, "JS → Go after bad input", r["params"], map[string]any{"i": float64(i)})
	}
	mustEqual(t, "Go → JS after bad input", callOn(t, g, a.NodeID, "jspeer.whoami", nil), a.NodeID)
	// The JS node still has the Go node available.
	for _, x := range asList(t, callOn(t, g, a.NodeID, "$node.list", nil)) {
		if n := asMap(t, x); n["id"] == g.NodeID() {
			mustEqual(t, "Go node available at JS", n["available"], true)
		}
	}

	// Each kind of bad input was logged as a warning or an error (packets
	// on other topics may arrive after the good REQ: wait a little).
	wants := []struct{ what, level, text string }{
		{"malformed packet", "WARN", "malformed"},
		{"protocol version", "WARN", "protocol version"},
		{"nodeID conflict", "ERROR", "this node's ID"},
	}
	logged := func(level, text string) bool {
		for _, line := range strings.Split(g.logs.String(), "\n") {
			if strings.Contains(line, "level="+level) && strings.Contains(strings.ToLower(line), strings.ToLower(text)) {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, want := range wants {
		for !logged(want.level, want.text) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, line := range strings.Split(g.logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Log(line)
		}
	}
	for _, want := range wants {
		if !logged(want.level, want.text) {
			t.Errorf("no %s log line about the %s", want.level, want.what)
		}
	}
}
