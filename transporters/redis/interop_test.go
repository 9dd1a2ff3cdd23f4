package redis

import (
	"fmt"
	"testing"
	"time"

	_ "github.com/molbridge/molbridge/serializers/all" // MsgPack
	"github.com/molbridge/molbridge/transporters/internal/livetest"
)

// Live interop: a Go broker and a Node.js moleculer 0.14 node
// (compat/jsnode.js) in one namespace over Redis.

func TestInteropJSON(t *testing.T) {
	requireShared(t)
	livetest.RunInterop(t, livetest.Cluster{GoURL: sharedURL, JSTransporter: sharedURL})
}

func TestInteropMsgPack(t *testing.T) {
	requireShared(t)
	livetest.RunInterop(t, livetest.Cluster{GoURL: sharedURL, JSTransporter: sharedURL, Serializer: "MsgPack"})
}

// TestInteropPasswordDB: both sides read the same URL with a password and
// a database, and the JS side also the same options object.
func TestInteropPasswordDB(t *testing.T) {
	srv := livetest.StartRedis(t, livetest.RedisConfig{Password: "s3cret"})
	url := fmt.Sprintf("redis://:s3cret@%s/3", srv.Addr())
	t.Run("url", func(t *testing.T) {
		livetest.RunInterop(t, livetest.Cluster{GoURL: url, JSTransporter: url})
	})
	t.Run("options", func(t *testing.T) {
		opts := map[string]any{"host": "127.0.0.1", "port": srv.Port, "password": "s3cret", "db": 2}
		livetest.RunInterop(t, livetest.Cluster{GoURL: "Redis", GoOptions: opts, JSTransporter: "Redis", JSOptions: opts})
	})
}

// TestBrokerRestart restarts the redis-server under a Go and a JS node
// while calls flow both ways. The server is a private one on a port of its
// own, so that other tests using the shared server are not disturbed.
func TestBrokerRestart(t *testing.T) {
	srv := livetest.StartRedis(t, livetest.RedisConfig{})
	url := "redis://" + srv.Addr()
	p := livetest.NewPair(t, livetest.Cluster{GoURL: url, JSTransporter: url})
	livetest.RunRestart(t, p, srv, 1500*time.Millisecond)
}

// TestBrokerRestartLongOutage keeps the server down for longer than the
// nodes' heartbeat timeout: each node drops the other (calls fail fast with
// ServiceNotAvailableError instead of waiting), and after the restart they
// find each other again through INFO, DISCOVER and HEARTBEAT.
func TestBrokerRestartLongOutage(t *testing.T) {
	srv := livetest.StartRedis(t, livetest.RedisConfig{})
	url := "redis://" + srv.Addr()
	p := livetest.NewPair(t, livetest.Cluster{GoURL: url, JSTransporter: url, HeartbeatTimeout: 3 * time.Second})
	livetest.RunRestart(t, p, srv, 6*time.Second)
}
