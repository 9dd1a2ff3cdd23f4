package live

import (
	"testing"
)

// Acceptance 6: Go balances calls round-robin over two JS nodes.
func TestGoBalancesOverJSNodes(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil)
	j1 := c.jsNode("js1", "shared")
	j2 := c.jsNode("js2", "shared")
	waitGoSees(t, g, j1.NodeID, "shared")
	waitGoSees(t, g, j2.NodeID, "shared")

	var seq []string
	for range 10 {
		seq = append(seq, asMap(t, call(t, g, "shared.whoami", nil))["nodeID"].(string))
	}
	for i := range seq {
		if i > 0 && seq[i] == seq[i-1] {
			t.Fatalf("calls are not strictly alternating: %v", seq)
		}
	}
	if seq[0] == seq[1] || (seq[0] != j1.NodeID && seq[0] != j2.NodeID) {
		t.Fatalf("calls went to %v", seq)
	}
}

// Acceptance 6: JS balances calls over a Go node and a JS node that host the
// same service.
func TestJSBalancesOverGoAndJSNodes(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	g := c.goNode("go", nil, sharedService(c.id("go")))
	j1 := c.jsNode("js1", "shared")
	caller := c.jsNode("caller", "jspeer")
	waitJSSees(t, g, caller.NodeID, "shared.whoami", g.NodeID(), j1.NodeID)

	const n = 20
	hits := map[string]int{}
	var seq []string
	for range n {
		r := asMap(t, captured(t, brokerCapture(t, g, caller.NodeID, "shared.whoami", nil, nil)))
		id := r["nodeID"].(string)
		hits[id]++
		seq = append(seq, id)
	}
	if len(hits) != 2 || hits[g.NodeID()] < n/2-2 || hits[j1.NodeID] < n/2-2 {
		t.Fatalf("JS spread %d calls as %v, want both nodes about evenly: %v", n, hits, seq)
	}
	// JS's round-robin alternates strictly over two available endpoints.
	for i := 1; i < len(seq); i++ {
		if seq[i] == seq[i-1] {
			t.Errorf("JS calls not strictly alternating: %v", seq)
			break
		}
	}
}
