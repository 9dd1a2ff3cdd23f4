// Package jsnode starts and stops the JS test node compat/jsnode.js (or any
// process that speaks its READY protocol) for molbridge's live interop
// tests.
//
// A started process is tied to the test that started it: it is stopped by
// t.Cleanup, it dies with the test binary (its stdin is a pipe held only by
// this process, and on Linux it also gets SIGKILL when the parent dies), so
// a failed, panicking or timed-out test never leaves a node behind.
package jsnode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultReadyTimeout is how long Start waits for the READY line.
const DefaultReadyTimeout = 30 * time.Second

// stopTimeout is how long Stop waits after SIGTERM before it kills.
const stopTimeout = 12 * time.Second

// Options configure one jsnode.js process. Zero values leave jsnode.js's own
// defaults in place.
type Options struct {
	// NodeID is required.
	NodeID string
	// Namespace is the moleculer namespace (NAMESPACE).
	Namespace string
	// Services are catalog service names (SERVICES); nil keeps the default
	// "jspeer,jspeer-audit,shared".
	Services []string
	// Transporter is the connection string; default "nats://127.0.0.1:4222".
	Transporter string
	// TransporterOptions, when not nil, is the JS transporter options
	// object (TRANSPORTER_OPTIONS, as JSON).
	TransporterOptions map[string]any
	// Serializer is the JS serializer name (SERIALIZER); default "JSON".
	Serializer string
	// HeartbeatInterval and HeartbeatTimeout are in seconds.
	HeartbeatInterval, HeartbeatTimeout float64
	// DisableBalancer sets DISABLE_BALANCER=true.
	DisableBalancer bool
	// LogLevel is LOGLEVEL; default "warn".
	LogLevel string
	// Env holds extra variables; they override the ones above.
	Env map[string]string
	// ReadyTimeout bounds the wait for READY; default DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// Process is a running node process.
type Process struct {
	// NodeID is the node ID the process announced in its READY line.
	NodeID string

	t      testing.TB
	label  string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	output *syncBuffer
	done   chan struct{}
	err    error // exit status, valid once done is closed

	stopOnce sync.Once
}

var live = struct {
	sync.Mutex
	m map[*Process]struct{}
}{m: map[*Process]struct{}{}}

// KillAll kills every process started by this package that is still
// running. Tests do not need it (t.Cleanup stops each process); a TestMain
// may call it as a last resort.
func KillAll() {
	live.Lock()
	ps := make([]*Process, 0, len(live.m))
	for p := range live.m {
		ps = append(ps, p)
	}
	live.Unlock()
	for _, p := range ps {
		p.Kill()
	}
}

// ModuleRoot returns the directory holding the go.mod of the module the
// tests run in, found by walking up from the working directory (and, if
// that fails, from this source file).
func ModuleRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if st, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !st.IsDir() {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", errors.New("jsnode: no go.mod found above the working directory")
}

// Script returns the path of compat/jsnode.js and checks that it can run:
// node is on PATH and moleculer is installed in compat/node_modules.
func Script() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	compat := filepath.Join(root, "compat")
	script := filepath.Join(compat, "jsnode.js")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("jsnode: %s is missing: %w", script, err)
	}
	if _, err := os.Stat(filepath.Join(compat, "node_modules", "moleculer", "package.json")); err != nil {
		return "", fmt.Errorf("jsnode: moleculer is not installed in %s/node_modules (run npm ci there): %w", compat, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("jsnode: the node binary (Node.js) is not on PATH: %w", err)
	}
	return script, nil
}

// environ returns the environment of the process Options stand for.
func (o Options) environ() ([]string, error) {
	vars := map[string]string{
		"NODEID":      o.NodeID,
		"TRANSPORTER": "nats://127.0.0.1:4222",
		"LOGLEVEL":    "warn",
	}
	if o.Transporter != "" {
		vars["TRANSPORTER"] = o.Transporter
	}
	if o.TransporterOptions != nil {
		b, err := json.Marshal(o.TransporterOptions)
		if err != nil {
			return nil, fmt.Errorf("jsnode: TransporterOptions: %w", err)
		}
		vars["TRANSPORTER_OPTIONS"] = string(b)
	}
	if o.Serializer != "" {
		vars["SERIALIZER"] = o.Serializer
	}
	if o.Namespace != "" {
		vars["NAMESPACE"] = o.Namespace
	}
	if o.Services != nil {
		vars["SERVICES"] = strings.Join(o.Services, ",")
	}
	if o.HeartbeatInterval > 0 {
		vars["HEARTBEAT_INTERVAL"] = strconv.FormatFloat(o.HeartbeatInterval, 'f', -1, 64)
	}
	if o.HeartbeatTimeout > 0 {
		vars["HEARTBEAT_TIMEOUT"] = strconv.FormatFloat(o.HeartbeatTimeout, 'f', -1, 64)
	}
	if o.DisableBalancer {
		vars["DISABLE_BALANCER"] = "true"
	}
	if o.LogLevel != "" {
		vars["LOGLEVEL"] = o.LogLevel
	}
	for k, v := range o.Env {
		vars[k] = v
	}
	// Drop inherited variables jsnode.js reads, so the caller's shell
	// cannot change a test.
	known := []string{"NODEID", "TRANSPORTER", "TRANSPORTER_OPTIONS", "SERIALIZER", "NAMESPACE",
		"DISABLE_BALANCER", "DISABLEBALANCER", "HEARTBEAT_INTERVAL", "HEARTBEATINTERVAL",
		"HEARTBEAT_TIMEOUT", "HEARTBEATTIMEOUT", "REQUEST_TIMEOUT", "REQUESTTIMEOUT",
		"PREFER_LOCAL", "REGISTRY_PREFERLOCAL", "LOGLEVEL", "SERVICES", "LISTEN_HOST", "EXIT_ON_STDIN_EOF",
		"STRATEGY", "STRATEGY_OPTIONS", "NODE_HOSTNAME", "FAKE_CPU", "PONG_DELAY_MS", "BROKER_OPTIONS"}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range known {
			if k == n {
				drop = true
				break
			}
		}
		if !drop {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env, nil
}

// Start runs compat/jsnode.js with o and waits for its READY line. It fails
// the test (with the node's stderr) when the node cannot start.
func Start(t testing.TB, o Options) *Process {
	t.Helper()
	if o.NodeID == "" {
		t.Fatal("jsnode: Options.NodeID is required")
	}
	script, err := Script()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script)
	cmd.Dir = filepath.Dir(script)
	env, err := o.environ()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = env
	return StartCommand(t, "jsnode "+o.NodeID, o.NodeID, cmd, o.ReadyTimeout)
}

// StartCommand runs cmd, which must print "READY <nodeID>" on stdout once
// it has joined the cluster, and waits for that line. The process gets a
// stdin pipe (closing it asks it to stop) and its stderr is kept for failure
// messages. wantID, when not empty, must match the announced node ID.
func StartCommand(t testing.TB, label, wantID string, cmd *exec.Cmd, readyTimeout time.Duration) *Process {
	t.Helper()
	if readyTimeout <= 0 {
		readyTimeout = DefaultReadyTimeout
	}
	p := &Process{t: t, label: label, cmd: cmd, output: &syncBuffer{}, done: make(chan struct{})}
	setParentDeathSignal(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("%s: stdin pipe: %v", label, err)
	}
	p.stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("%s: stdout pipe: %v", label, err)
	}
	cmd.Stderr = p.output
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", label, err)
	}
	live.Lock()
	live.m[p] = struct{}{}
	live.Unlock()
	t.Cleanup(func() {
		_ = p.Stop()
		if t.Failed() {
			if out := p.Stderr(); strings.TrimSpace(out) != "" {
				t.Logf("--- %s stderr ---\n%s", label, out)
			}
		}
	})

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if id, ok := strings.CutPrefix(line, "READY "); ok && !sent {
				ready <- strings.TrimSpace(id)
				sent = true
				continue
			}
			p.output.Write([]byte("[stdout] " + line + "\n"))
		}
		// Drain stdout so that Wait can finish.
		_, _ = io.Copy(io.Discard, stdout)
		close(ready)
	}()
	go func() {
		p.err = cmd.Wait()
		live.Lock()
		delete(live.m, p)
		live.Unlock()
		close(p.done)
	}()

	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case id, ok := <-ready:
		if !ok {
			<-p.done
			t.Fatalf("%s exited before READY (%v); stderr:\n%s", label, p.err, p.Stderr())
		}
		if wantID != "" && id != wantID {
			t.Fatalf("%s announced node ID %q, want %q", label, id, wantID)
		}
		p.NodeID = id
	case <-timer.C:
		p.Kill()
		t.Fatalf("%s: no READY line within %v; stderr:\n%s", label, readyTimeout, p.Stderr())
	}
	return p
}

// Stop asks the process to stop (SIGTERM) and waits for it; after a grace
// period it kills it. It returns the exit status. Stopping twice is fine.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			p.output.Write([]byte(fmt.Sprintf("[jsnode harness] no exit %v after SIGTERM; killing\n", stopTimeout)))
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		_ = p.stdin.Close()
	})
	<-p.done
	return p.err
}

// Kill kills the process at once (SIGKILL), as a crash would, and waits for
// it to be gone.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	_ = p.stdin.Close()
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Pid returns the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stderr returns what the process wrote on stderr so far (and any stdout
// line other than READY).
func (p *Process) Stderr() string { return p.output.String() }

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
