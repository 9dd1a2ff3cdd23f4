package nats_test

import (
	"testing"
	"time"

	"github.com/molbridge/molbridge/transporters/internal/livetest"
)

// TestBrokerRestart restarts nats-server under a Go and a JS node while
// calls flow both ways: afterwards calls in both directions succeed again
// and no call hangs. The server is a private one on a port of its own, so
// that other tests using the shared server are not disturbed.
func TestBrokerRestart(t *testing.T) {
	srv := livetest.StartNATS(t)
	url := "nats://" + srv.Addr()
	// JS's NATS client gives up reconnecting after 10 attempts by default;
	// moleculer sets maxReconnectAttempts -1 (forever), as Go does.
	p := livetest.NewPair(t, livetest.Cluster{GoURL: url, JSTransporter: url})
	livetest.RunRestart(t, p, srv, 1500*time.Millisecond)
}
