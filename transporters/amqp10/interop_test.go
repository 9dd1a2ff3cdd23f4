package amqp10_test

import (
	"testing"

	_ "github.com/molbridge/molbridge/serializers/msgpack"
	_ "github.com/molbridge/molbridge/transporters/amqp10"
	"github.com/molbridge/molbridge/transporters/internal/rabbitlive"
)

// These tests run Go bridge nodes and Node.js moleculer 0.14.36 nodes
// (compat/jsnode.js) in one cluster over the AMQP 1.0 plugin of the RabbitMQ
// on 127.0.0.1:5672. Every node gets topicPrefix "/topic/": RabbitMQ refuses
// JS's default "topic://".
var transport = rabbitlive.Transport{URL: rabbitlive.AMQP10URL, Options: map[string]any{"topicPrefix": "/topic/"}}

func TestInteropJSON(t *testing.T)    { rabbitlive.RunBasic(t, transport, "JSON") }
func TestInteropMsgPack(t *testing.T) { rabbitlive.RunBasic(t, transport, "MsgPack") }

func TestInteropBalancedJSFirst(t *testing.T) { rabbitlive.RunBalanced(t, transport, "JSON", true) }
func TestInteropBalancedGoFirst(t *testing.T) { rabbitlive.RunBalanced(t, transport, "MsgPack", false) }

// TestBrokerRestart restarts RabbitMQ while a Go and a JS node call each
// other over AMQP 1.0; calls recover in both directions within 10 s and
// none hangs.
func TestBrokerRestart(t *testing.T) { rabbitlive.RunRestart(t, transport) }
