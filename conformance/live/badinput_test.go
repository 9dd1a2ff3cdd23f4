package live

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Acceptance 9: malformed packets, packets of another protocol version and
// an INFO claiming the Go node's ID from another instance are dropped and
// logged; nothing panics and the Go node keeps serving JS callers.
func TestBadInputIsDroppedAndLogged(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, newGoEcho().service())
	a := c.jsNode("jsa", "jspeer")
	waitJSSees(t, g, a.NodeID, "goecho.echo", g.NodeID())
	nc := rawConn(t)
	prefix := "MOL-" + c.ns + "."
	raw := "raw-" + c.ns[3:]
	res := sniff(t, nc, prefix+"RES."+raw)

	publish := func(subject string, data []byte) {
		t.Helper()
		if err := nc.Publish(subject, data); err != nil {
			t.Fatal(err)
		}
	}
	js := func(x any) []byte { b, _ := json.Marshal(x); return b }
	req := func(id, ver string) map[string]any {
		return map[string]any{"id": id, "action": "goecho.echo", "params": map[string]any{"x": 1.0}, "meta": map[string]any{},
			"timeout": 0.0, "level": 1.0, "tracing": nil, "parentID": nil, "requestID": id, "caller": nil, "stream": false,
			"ver": ver, "sender": raw}
	}

	// Malformed bytes on every topic the Go node listens to.
	topics := []string{"REQ." + g.NodeID(), "RES." + g.NodeID(), "EVENT." + g.NodeID(), "INFO", "INFO." + g.NodeID(),
		"DISCOVER", "DISCOVER." + g.NodeID(), "HEARTBEAT", "DISCONNECT", "PING", "PING." + g.NodeID(), "PONG." + g.NodeID()}
	garbage := [][]byte{[]byte("not json{"), {}, []byte("null"), []byte("[1,2,3]"), []byte(`"str"`), []byte("{\"ver\":"), {0xff, 0xfe, 0x00}}
	for _, topic := range topics {
		for _, g := range garbage {
			publish(prefix+topic, g)
		}
	}
	// Wrong field types.
	publish(prefix+"REQ."+g.NodeID(), []byte(`{"id":5,"action":["x"],"params":{},"meta":"m","level":"one","ver":"4","sender":"`+raw+`"}`))
	publish(prefix+"REQ."+g.NodeID(), []byte(`{"ver":"4","sender":"`+raw+`"}`))
	publish(prefix+"EVENT."+g.NodeID(), []byte(`{"id":"e","event":7,"groups":"nope","broadcast":"yes","ver":"4","sender":"`+raw+`"}`))
	publish(prefix+"HEARTBEAT", []byte(`{"cpu":"hot","ver":"4","sender":"`+raw+`"}`))
	publish(prefix+"INFO."+g.NodeID(), []byte(`{"services":"none","seq":"x","ver":"4","sender":"`+raw+`"}`))
	publish(prefix+"RES."+g.NodeID(), js(map[string]any{"id": "no-such-call", "success": true, "data": 1, "meta": map[string]any{}, "ver": "4", "sender": raw}))

	// Another protocol version: dropped, not answered.
	publish(prefix+"REQ."+g.NodeID(), js(req("wrong-ver", "3")))
	publish(prefix+"REQ."+g.NodeID(), js(req("num-ver", "")))
	numVer := req("num-ver-2", "")
	numVer["ver"] = 4
	publish(prefix+"REQ."+g.NodeID(), js(numVer))

	// An INFO claiming the Go node's ID from another instance, on the
	// targeted and the broadcast INFO topics. It lists the Go node's real
	// services, so that the JS node (which believes it, as JS does) keeps
	// routing to the Go node.
	impostor := map[string]any{"services": g.Nodes()[0].Services, "ipList": []any{}, "hostname": "elsewhere",
		"client": map[string]any{"type": "nodejs", "version": "0.14.36", "langVersion": "v20"}, "config": map[string]any{},
		"instanceID": "not-" + g.InstanceID(), "metadata": map[string]any{}, "seq": 99, "ver": "4", "sender": g.NodeID()}
	publish(prefix+"INFO."+g.NodeID(), js(impostor))
	publish(prefix+"INFO", js(impostor))

	// A well-formed REQ afterwards is served (and proves the junk before it
	// was processed: NATS keeps the order of one publisher).
	publish(prefix+"REQ."+g.NodeID(), js(req("good", "4")))
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the answer to the good REQ", func() bool { return len(res.find("id", "good")) == 1 })
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

	// Each kind of bad input was logged as a warning or an error.
	logs := g.logs.String()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Log(line)
		}
	}
	for _, want := range []struct{ what, level, text string }{
		{"malformed packet", "WARN", "malformed"},
		{"protocol version", "WARN", "protocol version"},
		{"nodeID conflict", "ERROR", "this node's ID"},
	} {
		found := false
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, "level="+want.level) && strings.Contains(strings.ToLower(line), strings.ToLower(want.text)) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no %s log line about the %s", want.level, want.what)
		}
	}
}
