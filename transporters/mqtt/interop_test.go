package mqtt

import (
	"fmt"
	"testing"
	"time"

	_ "github.com/molbridge/molbridge/serializers/all" // MsgPack
	"github.com/molbridge/molbridge/transporters/internal/livetest"
)

// Live interop: a Go broker and a Node.js moleculer 0.14 node
// (compat/jsnode.js) in one namespace over MQTT.

func TestInteropJSON(t *testing.T) {
	requireShared(t)
	livetest.RunInterop(t, livetest.Cluster{GoURL: sharedURL, JSTransporter: sharedURL})
}

func TestInteropMsgPack(t *testing.T) {
	requireShared(t)
	livetest.RunInterop(t, livetest.Cluster{GoURL: sharedURL, JSTransporter: sharedURL, Serializer: "MsgPack"})
}

// TestInteropTopicSeparator runs with topicSeparator "/" on both sides
// (TRANSPORTER_OPTIONS on the JS node), with QoS 0 and with QoS 1.
func TestInteropTopicSeparator(t *testing.T) {
	requireShared(t)
	for _, qos := range []int{0, 1} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			opts := map[string]any{"topicSeparator": "/", "qos": qos}
			livetest.RunInterop(t, livetest.Cluster{GoURL: sharedURL, GoOptions: opts, JSTransporter: sharedURL, JSOptions: opts})
		})
	}
}

// TestBrokerRestart restarts a private mosquitto under a Go and a JS node
// while calls flow both ways.
func TestBrokerRestart(t *testing.T) {
	srv := livetest.StartMosquitto(t, "")
	url := "mqtt://" + srv.Addr()
	opts := map[string]any{"topicSeparator": "/"}
	p := livetest.NewPair(t, livetest.Cluster{GoURL: url, GoOptions: opts, JSTransporter: url, JSOptions: opts})
	livetest.RunRestart(t, p, srv, 1500*time.Millisecond)
}
