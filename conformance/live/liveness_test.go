package live

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
)

// Acceptance 7: JS sees a graceful Go stop at once.
func TestJSSeesGracefulGoStop(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil)
	leaving := c.goNode("leaving", nil, sharedService(c.id("leaving")))
	j := c.jsNode("jsa", "jspeer")
	waitJSSees(t, g, j.NodeID, "shared.whoami", leaving.NodeID())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := leaving.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t0 := time.Now()
	eventually(t, 3*time.Second, "JS to see the Go node leave", func() bool {
		avail, known := jsNodeAvailable(t, g, j.NodeID, leaving.NodeID())
		return known && !avail
	})
	// At once: well within a second on an idle machine; the heartbeat
	// timeout here is 20 s.
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("JS saw the graceful stop after %v, want at once", d)
	}
	for _, x := range asList(t, callOn(t, g, j.NodeID, "$node.list", nil)) {
		if n := asMap(t, x); n["id"] == leaving.NodeID() && n["offlineSince"] == nil {
			t.Errorf("offline Go node has no offlineSince: %s", jsonString(n))
		}
	}
	mustEqual(t, "JS call to the stopped node's action",
		capturedErr(t, brokerCapture(t, g, j.NodeID, "shared.whoami", nil, nil))["name"], "ServiceNotAvailableError")
}

// Acceptance 7: JS marks a killed Go node (in a process of its own) offline
// after heartbeatTimeout, not before; Go does too.
func TestJSSeesKilledGoNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t).fastLiveness()
	g := c.goNode("go", nil)
	j := c.jsNode("jsa", "jspeer")
	peer := c.goPeerProcess("gopeer")
	waitJSSees(t, g, j.NodeID, "gopeer.whoami", peer.NodeID)
	waitGoSees(t, g, peer.NodeID, "gopeer")
	mustEqual(t, "JS → Go child process", captured(t, capture(t, g, j.NodeID, "gopeer.whoami", nil, nil)), peer.NodeID)

	peer.Kill()
	t0 := time.Now()
	eventually(t, 15*time.Second, "JS to mark the killed Go node offline", func() bool {
		avail, known := jsNodeAvailable(t, g, j.NodeID, peer.NodeID)
		return known && !avail
	})
	jsTook := time.Since(t0)
	// It was the heartbeat timeout (not a DISCONNECT, which a killed node
	// cannot send): JS's own record says no heartbeat came for longer than
	// heartbeatTimeout (3 s, in JS's whole seconds) before it gave up.
	if cfg.offlineOnSocketEnd() {
		notApplicable(t, "JS waiting for the heartbeat timeout", whyOfflineOnSocketEnd)
	}
	for _, x := range asList(t, callOn(t, g, j.NodeID, "$node.list", nil)) {
		if n := asMap(t, x); n["id"] == peer.NodeID && !cfg.offlineOnSocketEnd() {
			off, _ := n["offlineSince"].(float64)
			last, _ := n["lastHeartbeatTime"].(float64)
			if off-last <= 3 {
				t.Errorf("JS marked the killed node offline %v s after its last heartbeat, want > 3 (the heartbeat timeout): %s",
					off-last, jsonString(n))
			}
		}
	}
	eventually(t, 10*time.Second, "Go to mark the killed Go node offline", func() bool {
		n, ok := goNodeInfo(g, peer.NodeID)
		return ok && !n.Available
	})
	t.Logf("JS marked the killed node offline after %v", jsTook)
	mustEqual(t, "JS call to the killed node's action",
		capturedErr(t, brokerCapture(t, g, j.NodeID, "gopeer.whoami", nil, nil))["name"], "ServiceNotAvailableError")
}

// Acceptance 7: Go marks a killed JS node offline after heartbeatTimeout.
func TestGoSeesKilledJSNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t).fastLiveness()
	g := c.goNode("go", nil)
	j := c.jsNode("victim", "shared", "jspeer")
	waitGoSees(t, g, j.NodeID, "shared", "jspeer")
	call(t, g, "shared.whoami", nil)

	// A call in flight when the node dies is rejected once it is offline.
	pending := make(chan error, 1)
	go func() {
		_, err := g.Call(context.Background(), "jspeer.sleep", map[string]any{"ms": 30000}, bridge.WithNodeID(j.NodeID))
		pending <- err
	}()
	time.Sleep(200 * time.Millisecond)
	j.Kill()
	var dead bridge.Node
	eventually(t, 15*time.Second, "Go to mark the killed JS node offline", func() bool {
		n, ok := goNodeInfo(g, j.NodeID)
		dead = n
		return ok && !n.Available
	})
	// Offline because no heartbeat came for the heartbeat timeout: not
	// sooner, and not much later (Go checks every second).
	if cfg.offlineOnSocketEnd() {
		notApplicable(t, "Go waiting for the heartbeat timeout", whyOfflineOnSocketEnd)
	} else if d := dead.OfflineSince.Sub(dead.LastHeartbeat); d < shortHeartbeatTimeout || d > shortHeartbeatTimeout+2*time.Second {
		t.Errorf("Go marked the killed node offline %v after its last heartbeat, want just over the %v heartbeat timeout",
			d, shortHeartbeatTimeout)
	}
	select {
	case err := <-pending:
		mustEqual(t, "call in flight to the dead node", errorFields(t, err), map[string]any{
			"name": "RequestRejectedError", "code": 503.0, "type": "REQUEST_REJECTED", "retryable": true,
			"message": "Request is rejected when call 'jspeer.sleep' action on '" + j.NodeID + "' node.",
			"data":    map[string]any{"action": "jspeer.sleep", "nodeID": j.NodeID}})
	case <-time.After(2 * time.Second):
		t.Error("the call in flight to the dead node was not rejected")
	}
	ctx, cancel := callCtx()
	defer cancel()
	_, err := g.Call(ctx, "shared.whoami", nil)
	if !errors.Is(err, bridge.ErrServiceNotAvail) {
		t.Errorf("call after the node died: %v, want ServiceNotAvailableError", err)
	}
	for _, x := range asList(t, call(t, g, "$node.list", nil)) {
		if n := asMap(t, x); n["id"] == j.NodeID && (n["available"] != false || n["offlineSince"] == nil) {
			t.Errorf("Go $node.list item of the dead node: %s", jsonString(n))
		}
	}
}

// Acceptance 7: a JS node restarted with the same nodeID (new instanceID)
// is registered afresh, whether Go noticed its death or not.
func TestJSNodeRestartedWithSameID(t *testing.T) {
	t.Parallel()
	// Each case has a cluster of its own: they run in parallel.
	t.Run("before Go noticed", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t).fastLiveness()
		g := c.goNode("go", nil)
		id := c.id("quick")
		first := c.jsNodeWith(jsnode.Options{NodeID: id, Services: []string{"shared"}})
		waitGoSees(t, g, id, "shared")
		old, _ := goNodeInfo(g, id)
		first.Kill()
		second := c.jsNodeWith(jsnode.Options{NodeID: id, Services: []string{"jspeer"}})
		waitGoSees(t, g, id, "jspeer")
		n, _ := goNodeInfo(g, id)
		if n.InstanceID == old.InstanceID || !n.Available {
			t.Errorf("restarted node: instanceID %s (old %s), available %v", n.InstanceID, old.InstanceID, n.Available)
		}
		if got := callOn(t, g, id, "jspeer.whoami", nil); got != second.NodeID {
			t.Errorf("jspeer.whoami = %v", got)
		}
		// (The call's budget starts now: starting JS nodes on a busy
		// machine may take most of callCtx's 15 s.)
		ctx, cancel := callCtx()
		defer cancel()
		if _, err := g.Call(ctx, "shared.whoami", nil); !errors.Is(err, bridge.ErrServiceNotAvail) {
			t.Errorf("the old instance's service: %v, want ServiceNotAvailableError", err)
		}
		// The new instance stays online past the heartbeat timeout.
		time.Sleep(4 * time.Second)
		if n, _ := goNodeInfo(g, id); !n.Available {
			t.Error("the restarted node went offline")
		}
		if got := call(t, g, "jspeer.whoami", nil); got != id {
			t.Errorf("jspeer.whoami after 4 s = %v", got)
		}
	})

	t.Run("after Go noticed", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t).fastLiveness()
		g := c.goNode("go", nil)
		id := c.id("slow")
		first := c.jsNodeWith(jsnode.Options{NodeID: id, Services: []string{"shared"}})
		waitGoSees(t, g, id, "shared")
		old, _ := goNodeInfo(g, id)
		first.Kill()
		eventually(t, 10*time.Second, "Go to mark the node offline", func() bool {
			n, _ := goNodeInfo(g, id)
			return !n.Available
		})
		c.jsNodeWith(jsnode.Options{NodeID: id, Services: []string{"shared", "jspeer"}})
		waitGoSees(t, g, id, "shared", "jspeer")
		if n, _ := goNodeInfo(g, id); n.InstanceID == old.InstanceID {
			t.Errorf("restarted node kept the old instanceID %s", old.InstanceID)
		}
		mustEqual(t, "shared.whoami after the restart", call(t, g, "shared.whoami", nil), map[string]any{"nodeID": id})
		mustEqual(t, "jspeer.whoami after the restart", callOn(t, g, id, "jspeer.whoami", nil), id)
	})
}
