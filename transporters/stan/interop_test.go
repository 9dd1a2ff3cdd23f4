package stan_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/molbridge/molbridge/transporters/internal/jsinterop"
	_ "github.com/molbridge/molbridge/transporters/stan"
)

// Live interop with a real moleculer 0.14.36 node (compat/jsnode.js, STAN
// transporter on node-nats-streaming) over the nats-streaming-server that
// scripts/brokers.sh stan starts on 127.0.0.1:4223.

const stanURL = "stan://127.0.0.1:4223"

func TestInteropJSON(t *testing.T) {
	t.Parallel()
	jsinterop.Run(t, jsinterop.Config{GoURL: stanURL})
}

func TestInteropMsgPack(t *testing.T) {
	t.Parallel()
	jsinterop.Run(t, jsinterop.Config{GoURL: stanURL, Serializer: "MsgPack"})
}

// With disableBalancer on every node, requests and events go through STAN
// durable queue subscriptions (queue <action>/"REQB", <group>/"EVENTB").
func TestInteropBalanced(t *testing.T) {
	t.Parallel()
	jsinterop.Run(t, jsinterop.Config{GoURL: stanURL, DisableBalancer: true})
}

// The JS node connects to our nats-streaming-server under the cluster ID
// the server was started with ("test-cluster", JS's default), with its node
// ID as the STAN client ID; an explicit clusterID option reaches the server
// the same way.
func TestJSClusterID(t *testing.T) {
	t.Parallel()
	var serverz struct {
		ClusterID string `json:"cluster_id"`
	}
	getJSON(t, "http://127.0.0.1:8223/streaming/serverz", &serverz)
	if serverz.ClusterID != "test-cluster" {
		t.Fatalf("nats-streaming-server runs cluster %q, want test-cluster (start it with scripts/brokers.sh stan)", serverz.ClusterID)
	}
	// The interop run above uses the default; here the cluster ID is given
	// explicitly on both sides.
	jsinterop.Run(t, jsinterop.Config{
		GoURL:     stanURL,
		GoOptions: map[string]any{"clusterID": "test-cluster"},
		JSOptions: map[string]any{"clusterID": "test-cluster"},
	})
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("nats-streaming-server monitoring on %s: %v (scripts/brokers.sh stan starts it)", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}
