//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
)

// TestPeerProcess runs `molbridge peer` as a process, calls its catalog from
// a Go node over NATS, then stops it with SIGTERM and expects exit code 0.
func TestPeerProcess(t *testing.T) {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second)
	if err != nil {
		t.Fatal("NATS is not listening on 127.0.0.1:4222 (scripts/brokers.sh nats starts it)")
	}
	conn.Close()
	suffix := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	namespace, nodeID := "cmdtest-"+suffix, "cmdpeer-"+suffix

	cmd := exec.Command(os.Args[0], "peer", "--node-id", nodeID, "--heartbeat-interval", "1")
	cmd.Env = append(os.Environ(), "MOLBRIDGE_TEST_MAIN=1", "NAMESPACE="+namespace, "LOGLEVEL=info")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("peer stderr:\n%s", stderr.String())
		}
	})

	select {
	case line := <-lines:
		if line != "READY "+nodeID {
			t.Fatalf("first stdout line = %q, want %q", line, "READY "+nodeID)
		}
	case err := <-exited:
		stopped = true
		t.Fatalf("peer exited before READY: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("peer not READY after 60 s")
	}

	client, err := bridge.New(bridge.Options{NodeID: "client-" + suffix, Namespace: namespace,
		TransporterURL: "nats://127.0.0.1:4222", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	if err := client.WaitForServices(ctx, "gopeer", "gopeer-audit", "v2.gopeer"); err != nil {
		t.Fatal(err)
	}
	if sum, err := bridge.Call[float64](ctx, client, "gopeer.add", map[string]any{"a": 1, "b": 2}); err != nil || sum != 3 {
		t.Fatalf("gopeer.add = %v, %v", sum, err)
	}
	if v, err := client.Call(ctx, "gopeer.echo", nil); err != nil || !strings.Contains(v.String(), `"nodeID":"`+nodeID+`"`) {
		t.Fatalf("gopeer.echo = %v, %v", v, err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("peer exit after SIGTERM: %v, want exit code 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("peer did not stop within 15 s of SIGTERM")
	}
	if rest := drain(lines); rest != "" {
		t.Errorf("stdout after READY = %q, want nothing", rest)
	}
	if !strings.Contains(stderr.String(), "ServiceBroker stopped.") {
		t.Errorf("stderr has no stop line:\n%s", stderr.String())
	}
	// The client saw the node leave.
	deadline := time.Now().Add(5 * time.Second)
	for client.WaitForServices(shortCtx(100*time.Millisecond), "gopeer") == nil {
		if time.Now().After(deadline) {
			t.Fatal("gopeer is still announced after the peer stopped")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func shortCtx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	time.AfterFunc(d, cancel)
	return ctx
}

func drain(lines <-chan string) string {
	var out []string
	for l := range lines {
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var _ io.Writer = (*lockedBuffer)(nil)
