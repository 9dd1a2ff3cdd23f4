// Package rabbitlive holds what the AMQP 0-9-1 and AMQP 1.0 transporter
// tests share: access to the RabbitMQ that scripts/brokers.sh amqp starts
// on 127.0.0.1:5672, a lock that keeps broker restarts away from the other
// tests using it, clean-up of a test's queues, and the live interop suite
// that runs Go bridge nodes and Node.js moleculer nodes (compat/jsnode.js)
// in one cluster.
//
// It is for tests only.
package rabbitlive

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// AMQPURL is the AMQP 0-9-1 URL of the test broker; AMQP10URL the AMQP 1.0
// one (same broker, rabbitmq_amqp1_0 plugin).
const (
	AMQPURL   = "amqp://guest:guest@127.0.0.1:5672"
	AMQP10URL = "amqp10://guest:guest@127.0.0.1:5672"
	addr      = "127.0.0.1:5672"
)

// Require fails the test when no broker listens on 127.0.0.1:5672, and
// takes the shared broker lock for the test (see Shared).
func Require(t testing.TB) {
	t.Helper()
	Shared(t)
	requirePort(t)
}

// RequireExclusive is Require with the exclusive lock, for a test that
// restarts the broker.
func RequireExclusive(t testing.TB) {
	t.Helper()
	Exclusive(t)
	requirePort(t)
}

func requirePort(t testing.TB) {
	t.Helper()
	if !portOpen() {
		t.Fatalf("no RabbitMQ on %s: start it with scripts/brokers.sh amqp", addr)
	}
}

func portOpen() bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// lockPath is the file locked by the tests that use the broker: shared by
// ordinary tests, exclusive by a test that restarts the broker. Tests of
// different packages run in different processes at the same time.
var lockPath = filepath.Join(os.TempDir(), "molbridge-rabbitmq-tests.lock")

func lock(t testing.TB, how int) {
	t.Helper()
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("rabbitlive: lock file: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		_ = f.Close()
		t.Fatalf("rabbitlive: lock: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	})
}

// Shared holds the broker lock in shared mode until the test ends.
func Shared(t testing.TB) { lock(t, syscall.LOCK_SH) }

// Exclusive holds the broker lock in exclusive mode until the test ends:
// no other test (of any package using this lock) talks to the broker
// meanwhile.
func Exclusive(t testing.TB) { lock(t, syscall.LOCK_EX) }

// ctl runs rabbitmqctl.
func ctl(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "rabbitmqctl", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// CleanupPrefix deletes, when the test ends, every queue whose name starts
// with prefix + "." (a test namespace's topic prefix) and the fanout
// exchanges of its broadcast topics. Queues without expiry (REQB, and every
// AMQP 1.0 queue) would otherwise stay in the broker forever. Listing the
// queues needs rabbitmqctl; without it only the exchanges are deleted.
func CleanupPrefix(t testing.TB, prefix string) {
	t.Cleanup(func() {
		conn, err := amqp091.Dial(AMQPURL)
		if err != nil {
			return
		}
		defer conn.Close()
		each := func(f func(ch *amqp091.Channel)) {
			// A failed delete closes its channel: one channel each.
			if ch, err := conn.Channel(); err == nil {
				f(ch)
				_ = ch.Close()
			}
		}
		if out, err := ctl(30*time.Second, "-q", "list_queues", "name"); err == nil {
			for _, name := range strings.Split(out, "\n") {
				if name = strings.TrimSpace(name); strings.HasPrefix(name, prefix+".") {
					each(func(ch *amqp091.Channel) { _, _ = ch.QueueDelete(name, false, false, false) })
				}
			}
		}
		for _, typ := range []string{"DISCOVER", "INFO", "DISCONNECT", "HEARTBEAT", "PING"} {
			each(func(ch *amqp091.Channel) { _ = ch.ExchangeDelete(prefix+"."+typ, false, false) })
		}
	})
}

// WaitReady waits until the broker accepts AMQP connections and its boot
// has finished.
func WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if portOpen() {
			if _, err := ctl(10*time.Second, "-q", "-t", "5", "await_startup"); err == nil {
				if c, err := amqp091.Dial(AMQPURL); err == nil {
					_ = c.Close()
					return nil
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("rabbitlive: RabbitMQ not ready within %v", timeout)
}

// StopApp stops the RabbitMQ application (the Erlang node keeps running),
// which closes every client connection. Call it only in a test that holds
// the exclusive lock (RequireExclusive). It makes sure, in t.Cleanup, that
// the broker runs again and accepts connections when the test ends.
// StartApp starts it again.
func StopApp(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		if !portOpen() {
			if out, err := ctl(60*time.Second, "start_app"); err != nil {
				t.Errorf("rabbitmqctl start_app: %v\n%s", err, out)
			}
		}
		if err := WaitReady(60 * time.Second); err != nil {
			t.Error(err)
		}
	})
	if out, err := ctl(60*time.Second, "stop_app"); err != nil {
		t.Fatalf("rabbitmqctl stop_app: %v\n%s", err, out)
	}
}

// StartApp starts the RabbitMQ application again and waits until it
// accepts connections.
func StartApp(t testing.TB) {
	t.Helper()
	if out, err := ctl(60*time.Second, "start_app"); err != nil {
		t.Fatalf("rabbitmqctl start_app: %v\n%s", err, out)
	}
	if err := WaitReady(60 * time.Second); err != nil {
		t.Fatal(err)
	}
}
