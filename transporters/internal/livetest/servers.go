// Package livetest holds what the transporters' live tests share: private
// message-broker processes a test can stop and start again, and the
// interoperability scenarios run between an in-process Go broker and a
// Node.js moleculer node (compat/jsnode.js).
//
// It is imported by tests only.
package livetest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireTCP fails the test with a clear message when nothing listens on
// addr; what names the server and how to start it.
func RequireTCP(t testing.TB, addr, what string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("no %s on %s: %v", what, addr, err)
	}
	_ = c.Close()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is a broker process of the test's own, on a port of its own, so
// that stopping it disturbs no other test.
type Server struct {
	// Name is the program ("redis-server", "mosquitto").
	Name string
	// Port is where it listens on 127.0.0.1.
	Port int

	t     testing.TB
	args  []string
	ready func() error
	out   *syncBuffer

	cleanup sync.Once

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Addr returns "127.0.0.1:<port>".
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// RedisConfig configures a private redis-server.
type RedisConfig struct {
	// Password, when set, is required (requirepass).
	Password string
	// TLS, when set, makes the port a TLS port with this certificate (and
	// no plain port); clients need not present certificates.
	TLS *Cert
	// Cluster enables cluster mode; the test assigns the slots.
	Cluster bool
}

// StartRedis starts a redis-server bound to 127.0.0.1 on a free port,
// without persistence. It is killed when the test ends.
func StartRedis(t testing.TB, c RedisConfig) *Server {
	t.Helper()
	port := FreePort(t)
	dir := t.TempDir()
	args := []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
		"--dir", dir, "--logfile", ""}
	if c.TLS != nil {
		args = append(args, "--port", "0", "--tls-port", strconv.Itoa(port),
			"--tls-cert-file", c.TLS.CertFile, "--tls-key-file", c.TLS.KeyFile,
			"--tls-ca-cert-file", c.TLS.CAFile, "--tls-auth-clients", "no")
	} else {
		args = append(args, "--port", strconv.Itoa(port))
	}
	if c.Password != "" {
		args = append(args, "--requirepass", c.Password)
	}
	if c.Cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"))
	}
	s := &Server{Name: "redis-server", Port: port, t: t, args: args, out: &syncBuffer{}}
	s.ready = func() error { return redisPing(s.Addr(), c) }
	s.Start()
	return s
}

// redisPing sends PING (after AUTH when there is a password) and wants
// +PONG.
func redisPing(addr string, c RedisConfig) error {
	var (
		conn net.Conn
		err  error
	)
	d := &net.Dialer{Timeout: time.Second}
	if c.TLS != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(c.TLS.CAPEM))
		conn, err = tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	} else {
		conn, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	rd := bufio.NewReader(conn)
	if c.Password != "" {
		fmt.Fprintf(conn, "AUTH %s\r\n", c.Password)
		line, err := rd.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "+OK") {
			return fmt.Errorf("AUTH answered %q (%v)", strings.TrimSpace(line), err)
		}
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// StartMosquitto starts mosquitto with a listener on 127.0.0.1 on a free
// port, anonymous access and no persistence; extraConf is appended to the
// configuration. It is killed when the test ends.
func StartMosquitto(t testing.TB, extraConf string) *Server {
	t.Helper()
	port := FreePort(t)
	dir := t.TempDir()
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n", port)
	if os.Geteuid() == 0 {
		// Else mosquitto switches to the "mosquitto" user, which may not
		// be able to read the test's files.
		conf += "user root\n"
	}
	conf += extraConf
	file := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{Name: "mosquitto", Port: port, t: t, args: []string{"-c", file}, out: &syncBuffer{}}
	s.ready = func() error {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	s.Start()
	return s
}

// StartNATS starts nats-server on 127.0.0.1 on a free port. It is killed
// when the test ends.
func StartNATS(t testing.TB) *Server {
	t.Helper()
	port := FreePort(t)
	s := &Server{Name: "nats-server", Port: port, t: t,
		args: []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port)}, out: &syncBuffer{}}
	s.ready = func() error {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "INFO ") {
			return fmt.Errorf("nats-server greeted with %q", strings.TrimSpace(line))
		}
		return nil
	}
	s.Start()
	return s
}

// Start starts the server (again) and waits until it serves. It fails the
// test when the program is missing or does not become ready in 15 s.
func (s *Server) Start() {
	t := s.t
	t.Helper()
	path, err := exec.LookPath(s.Name)
	if err != nil {
		t.Fatalf("%s is not installed (scripts/brokers.sh installs it): %v", s.Name, err)
	}
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		t.Fatalf("%s: Start while running", s.Name)
	}
	cmd := exec.Command(path, s.args...)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		t.Fatalf("%s: %v", s.Name, err)
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cleanup.Do(func() { t.Cleanup(s.kill) })
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := s.ready()
		if err == nil {
			return
		}
		select {
		case <-done:
			t.Fatalf("%s exited at start-up; output:\n%s", s.Name, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready on %s after 15 s (%v); output:\n%s", s.Name, s.Addr(), err, s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server with SIGTERM (redis-server and mosquitto shut down
// and close every client connection) and waits until it has exited.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// kill kills the server if it runs; the test's cleanup calls it.
func (s *Server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
	if s.t.Failed() {
		s.t.Logf("--- %s output ---\n%s", s.Name, s.out.String())
	}
}

// Output returns what the server wrote so far.
func (s *Server) Output() string { return s.out.String() }

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
