package amqp_test

import (
	"testing"

	_ "github.com/molbridge/molbridge/serializers/msgpack"
	_ "github.com/molbridge/molbridge/transporters/amqp"
	"github.com/molbridge/molbridge/transporters/internal/rabbitlive"
)

// These tests run Go bridge nodes and Node.js moleculer 0.14.36 nodes
// (compat/jsnode.js) in one cluster over the RabbitMQ on 127.0.0.1:5672.

var transport = rabbitlive.Transport{URL: rabbitlive.AMQPURL}

func TestInteropJSON(t *testing.T)    { rabbitlive.RunBasic(t, transport, "JSON") }
func TestInteropMsgPack(t *testing.T) { rabbitlive.RunBasic(t, transport, "MsgPack") }

// The shared REQB and EVENTB queues are declared by JS first, then by Go,
// and the other way round: neither side may get PRECONDITION_FAILED.
func TestInteropBalancedJSFirst(t *testing.T) { rabbitlive.RunBalanced(t, transport, "JSON", true) }
func TestInteropBalancedGoFirst(t *testing.T) { rabbitlive.RunBalanced(t, transport, "JSON", false) }

// Non-default options change the queue arguments on both sides alike.
func TestInteropBalancedOptions(t *testing.T) {
	tr := rabbitlive.Transport{URL: rabbitlive.AMQPURL, Options: map[string]any{
		"eventTimeToLive": 5000, "heartbeatTimeToLive": 3000, "autoDeleteQueues": 600000, "prefetch": 4,
	}}
	rabbitlive.RunBalanced(t, tr, "MsgPack", true)
}

// TestBrokerRestart restarts RabbitMQ while a Go and a JS node call each
// other; calls recover in both directions within 10 s and none hangs.
func TestBrokerRestart(t *testing.T) { rabbitlive.RunRestart(t, transport) }
