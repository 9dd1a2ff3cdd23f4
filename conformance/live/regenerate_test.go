package live

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/molbridge/molbridge/protocol"
)

// rawErrorCases are error objects a responder may put in a RES. Known
// names are rebuilt from their data by JS (message, code, type); the
// fields that must survive are those JS keeps.
var rawErrorCases = []map[string]any{
	{"name": "RequestTimeoutError", "message": "stale text", "code": 1, "type": "X", "retryable": false, "nodeID": "n0", "data": map[string]any{"action": "a.b", "nodeID": "n1"}},
	{"name": "ServiceNotAvailableError", "message": "m", "retryable": true, "data": map[string]any{"action": "a.b", "nodeID": "n1"}},
	{"name": "ServiceNotAvailableError", "message": "m", "retryable": true, "data": map[string]any{"action": "a.b"}},
	{"name": "ServiceNotFoundError", "message": "m", "retryable": true, "data": map[string]any{"action": "a.b"}},
	{"name": "ServiceNotFoundError", "message": "m", "retryable": true, "data": map[string]any{"action": "a.b", "nodeID": "n1"}},
	{"name": "ServiceNotFoundError", "message": "m", "retryable": true, "data": map[string]any{"service": "svc", "version": "v2"}},
	{"name": "ServiceNotFoundError", "message": "m", "retryable": true, "data": map[string]any{"service": "svc"}},
	{"name": "ServiceNotFoundError", "message": "m", "retryable": true, "data": map[string]any{}},
	{"name": "RequestSkippedError", "message": "m", "retryable": false, "data": map[string]any{"action": "a.b", "nodeID": "n1"}},
	{"name": "RequestRejectedError", "message": "m", "retryable": true, "data": map[string]any{"action": "a.b", "nodeID": "n1"}},
	{"name": "QueueIsFullError", "message": "m", "retryable": true, "data": map[string]any{"action": "a.b", "nodeID": "n1", "size": 5, "limit": 3}},
	{"name": "MaxCallLevelError", "message": "m", "retryable": false, "data": map[string]any{"nodeID": "n1", "level": 5}},
	{"name": "ValidationError", "message": "Bad params", "code": 400, "retryable": false, "data": []any{map[string]any{"type": "required", "field": "a"}}},
	{"name": "ValidationError", "message": "Typed", "type": "MY_TYPE", "retryable": false},
	{"name": "MoleculerClientError", "message": "no code", "retryable": false},
	{"name": "MoleculerServerError", "message": "no code", "retryable": true, "data": map[string]any{"x": 1}},
	{"name": "MoleculerRetryableError", "message": "wire says not retryable", "code": 503, "retryable": false},
	{"name": "MoleculerError", "message": "typed", "code": 418, "type": "TEAPOT", "retryable": true},
	{"name": "GracefulStopTimeoutError", "message": "m", "retryable": false, "data": map[string]any{"service": map[string]any{"name": "svc", "version": 2}}},
	{"name": "GracefulStopTimeoutError", "message": "m", "retryable": false},
	{"name": "ProtocolVersionMismatchError", "message": "m", "code": 1, "retryable": false, "data": map[string]any{"nodeID": "n1", "actual": "4", "received": "3"}},
	{"name": "InvalidPacketDataError", "message": "m", "retryable": false, "data": map[string]any{"type": "REQ"}},
	{"name": "ServiceSchemaError", "message": "bad schema", "code": 1, "retryable": false, "data": map[string]any{"x": 1}},
	{"name": "BrokerOptionsError", "message": "bad options", "retryable": false},
	{"name": "CustomThing", "message": "custom", "code": 418, "type": "T", "retryable": true, "data": map[string]any{"x": 1}},
	{"name": "Error", "message": "plain error, no code"},
	{"name": "TypeError", "message": "Cannot read properties of undefined", "nodeID": "elsewhere"},
}

// rawNode is a node made of a bare transporter connection: it announces
// one action, fake.err, and answers each call with
// rawErrorCases[params.case].
func rawNode(t *testing.T, c *cluster) string {
	t.Helper()
	id := c.id("raw")
	var link *rawLink
	ready := make(chan struct{})
	pub := func(topic protocol.Topic, p map[string]any) {
		p["ver"], p["sender"] = "4", id
		if err := link.publish(topic, p); err != nil {
			t.Logf("raw node: publish %v: %v", topic, err)
		}
	}
	info := func() map[string]any {
		return map[string]any{
			"services": []any{map[string]any{"name": "fake", "fullName": "fake", "settings": map[string]any{}, "metadata": map[string]any{},
				"actions": map[string]any{"fake.err": map[string]any{"rawName": "err", "name": "fake.err"}}, "events": map[string]any{}}},
			"ipList": []any{}, "hostname": "raw", "client": map[string]any{"type": "raw", "version": "0", "langVersion": "0"},
			"config": map[string]any{}, "instanceID": "raw-" + c.ns, "metadata": map[string]any{}, "seq": 1,
		}
	}
	link = c.rawLink(id, func(pt protocol.PacketType, data []byte) {
		p, err := decodePacket(pt, data)
		if err != nil {
			return
		}
		// Answer off the transporter's delivery goroutine.
		go func() {
			<-ready
			sender, _ := p["sender"].(string)
			if pt != protocol.Request {
				pub(protocol.TargetedTopic(protocol.Info, sender), info())
				return
			}
			params, _ := p["params"].(map[string]any)
			i, _ := params["case"].(float64)
			pub(protocol.TargetedTopic(protocol.Response, sender), map[string]any{"id": p["id"], "meta": p["meta"], "success": false, "data": nil,
				"error": rawErrorCases[int(i)]})
		}()
	})
	close(ready)
	for _, topic := range []protocol.Topic{protocol.TargetedTopic(protocol.Request, id), protocol.BroadcastTopic(protocol.Discover),
		protocol.TargetedTopic(protocol.Discover, id)} {
		link.subscribe(topic)
	}
	pub(protocol.BroadcastTopic(protocol.Info), info())
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				pub(protocol.BroadcastTopic(protocol.Heartbeat), map[string]any{"cpu": 1})
			}
		}
	}()
	return id
}

// Acceptance 3: errors are rebuilt from the wire as JS rebuilds them: a
// Go caller and a JS caller see the same fields for the same RES.
func TestErrorsRebuiltAsJSRebuildsThem(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	if !cfg.canInject() {
		notApplicable(t, "the whole test (its erring node is a bare transporter connection)", whyNoInject)
		return
	}
	g := c.goNode("go", nil)
	a := c.jsNode("jsa", "jspeer")
	raw := rawNode(t, c)
	waitGoSees(t, g, raw, "fake")
	waitJSSees(t, g, a.NodeID, "fake.err", raw)
	ctx, cancel := callCtx()
	defer cancel()
	for i, wire := range rawErrorCases {
		name := fmt.Sprintf("#%d %v", i, wire["name"])
		_, err := g.Call(ctx, "fake.err", map[string]any{"case": i})
		if err == nil {
			t.Fatalf("%s: the call succeeded", name)
		}
		got := errorFields(t, err)
		ref := capturedErr(t, brokerCapture(t, g, a.NodeID, "fake.err", map[string]any{"case": i}, nil))
		// JS keeps an absent retryable flag as undefined; Go has false.
		if _, ok := ref["retryable"]; !ok && got["retryable"] == false {
			delete(got, "retryable")
		}
		mustEqual(t, name+": Go caller vs JS caller", got, ref)
	}
}

// Acceptance 7: INFO packets are processed as JS processes them: a same-seq
// INFO is ignored, a higher seq or a new instanceID (even with a lower seq)
// re-registers the node's services, a DISCONNECT drops them and the next
// INFO brings the node back. A bare transporter connection sends the INFOs; the Go node
// and a JS node must agree after each step.
func TestInfoUpdatesProcessedAsJS(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	if !cfg.canInject() {
		notApplicable(t, "the whole test (its INFO packets come from a bare transporter connection)", whyNoInject)
		return
	}
	g := c.goNode("go", nil)
	a := c.jsNode("jsa", "jspeer")
	waitGoSees(t, g, a.NodeID, "jspeer")
	id := c.id("raw")
	link := c.rawLink(id, nil)
	pub := func(topic protocol.Topic, p map[string]any) {
		p["ver"], p["sender"] = "4", id
		if err := link.publish(topic, p); err != nil {
			t.Error(err)
		}
	}
	info := func(seq int, instance string, actions ...string) {
		acts := map[string]any{}
		for _, n := range actions {
			acts["x."+n] = map[string]any{"rawName": n, "name": "x." + n}
		}
		pub(protocol.BroadcastTopic(protocol.Info), map[string]any{
			"services": []any{map[string]any{"name": "x", "fullName": "x", "settings": map[string]any{}, "metadata": map[string]any{},
				"actions": acts, "events": map[string]any{}}},
			"ipList": []any{}, "hostname": "raw", "client": map[string]any{"type": "raw", "version": "0", "langVersion": "0"},
			"config": map[string]any{}, "instanceID": instance, "metadata": map[string]any{}, "seq": seq,
		})
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		tick := time.NewTicker(700 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				_ = link.publish(protocol.BroadcastTopic(protocol.Heartbeat), map[string]any{"cpu": 1, "ver": "4", "sender": id})
			}
		}
	}()

	// The x.* actions each side has on the raw node.
	actionsOf := func(list any) []string {
		out := []string{}
		for _, x := range asList(t, list) {
			it := asMap(t, x)
			name := it["name"].(string)
			if len(name) < 2 || name[:2] != "x." {
				continue
			}
			if eps, ok := it["endpoints"]; ok && slices.Contains(endpointNodes(t, eps), id) {
				out = append(out, name)
			}
		}
		slices.Sort(out)
		return out
	}
	params := map[string]any{"withEndpoints": true, "onlyAvailable": true}
	step := func(what string, want ...string) {
		t.Helper()
		if want == nil {
			want = []string{}
		}
		var gotGo, gotJS []string
		eventually(t, 5*time.Second, what, func() bool {
			gotGo = actionsOf(call(t, g, "$node.actions", params))
			gotJS = actionsOf(callOn(t, g, a.NodeID, "$node.actions", params))
			return slices.Equal(gotGo, want) && slices.Equal(gotJS, want)
		})
		time.Sleep(300 * time.Millisecond) // a late change would show now
		mustEqual(t, what+": JS (reference)", actionsOf(callOn(t, g, a.NodeID, "$node.actions", params)), want)
		mustEqual(t, what+": Go", actionsOf(call(t, g, "$node.actions", params)), want)
	}

	info(2, "i1", "a1", "a2")
	step("first INFO", "x.a1", "x.a2")
	info(2, "i1", "a1")
	time.Sleep(300 * time.Millisecond)
	step("same seq, fewer actions: ignored", "x.a1", "x.a2")
	info(3, "i1", "a1")
	step("higher seq", "x.a1")
	info(1, "i2", "a3")
	step("new instance, lower seq", "x.a3")
	pub(protocol.BroadcastTopic(protocol.Disconnect), map[string]any{})
	step("DISCONNECT")
	info(1, "i2", "a1")
	step("INFO after DISCONNECT", "x.a1")
	if n, _ := goNodeInfo(g, id); !n.Available || n.InstanceID != "i2" {
		t.Errorf("Go's view of the node: available %v, instanceID %q", n.Available, n.InstanceID)
	}
}
