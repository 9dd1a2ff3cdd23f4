package kafka_test

import (
	"testing"

	"github.com/molbridge/molbridge/transporters/internal/jsinterop"
	_ "github.com/molbridge/molbridge/transporters/kafka"
)

// Live interop with a real moleculer 0.14.36 node (compat/jsnode.js, Kafka
// transporter on kafka-node 5.0.0) over the test broker that
// scripts/brokers.sh kafka starts on 127.0.0.1:9092.

const kafkaURL = "kafka://127.0.0.1:9092"

func TestInteropJSON(t *testing.T) {
	t.Parallel()
	jsinterop.Run(t, jsinterop.Config{GoURL: kafkaURL})
}

func TestInteropMsgPack(t *testing.T) {
	t.Parallel()
	jsinterop.Run(t, jsinterop.Config{GoURL: kafkaURL, Serializer: "MsgPack"})
}
