package conformance

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
	"sync"
	"time"
)

// JSCodec is a running compat/codec.js: the real moleculer serializers,
// driven over its stdin and stdout. One process serves every serializer;
// requests are sent in batches.
type JSCodec struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *lockedBuffer
	mu     sync.Mutex
	nextID int64
	broken error
}

// JSRequest is one request to the codec: Op "decode" with Data, or "encode"
// with JSON.
type JSRequest struct {
	ID         int64           `json:"id"`
	Op         string          `json:"op"`
	Serializer string          `json:"serializer,omitempty"`
	Type       string          `json:"type,omitempty"`
	Data       []byte          `json:"data,omitempty"`
	JSON       json.RawMessage `json:"json,omitempty"`
}

// JSResponse is the codec's answer: JSON for decode, Data for encode, or
// Error.
type JSResponse struct {
	ID    int64           `json:"id"`
	JSON  json.RawMessage `json:"json,omitempty"`
	Data  []byte          `json:"data,omitempty"`
	Error string          `json:"error,omitempty"`
}

// StartJSCodec starts compat/codec.js of the module in root. Node.js must be
// on PATH and compat/node_modules installed (scripts/deps.sh).
func StartJSCodec(root string) (*JSCodec, error) {
	compat := filepath.Join(root, "compat")
	script := filepath.Join(compat, "codec.js")
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	if _, err := os.Stat(filepath.Join(compat, "node_modules", "moleculer", "package.json")); err != nil {
		return nil, fmt.Errorf("conformance: moleculer is not installed in %s/node_modules (run scripts/deps.sh): %w", compat, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("conformance: Node.js (node) is not on PATH (run scripts/deps.sh): %w", err)
	}
	cmd := exec.Command("node", script)
	cmd.Dir = compat
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &JSCodec{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(stdout, 1<<16), stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("conformance: start %s: %w", script, err)
	}
	// Check that it answers at all.
	if _, err := c.Do([]JSRequest{{Op: "info"}}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Do sends the requests and returns the answers in the same order. IDs are
// assigned by Do. An error means the process failed, not that a request did.
func (c *JSCodec) Do(reqs []JSRequest) ([]JSResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, c.broken
	}
	first := c.nextID + 1
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range reqs {
		c.nextID++
		reqs[i].ID = c.nextID
		if err := enc.Encode(&reqs[i]); err != nil {
			return nil, fmt.Errorf("conformance: codec request: %w", err)
		}
	}
	werr := make(chan error, 1)
	go func() {
		_, err := c.stdin.Write(buf.Bytes())
		werr <- err
	}()
	out := make([]JSResponse, len(reqs))
	for i := range out {
		line, err := c.stdout.ReadBytes('\n')
		if err != nil {
			c.broken = fmt.Errorf("conformance: compat/codec.js stopped answering: %v\n%s", err, c.stderr.String())
			return nil, c.broken
		}
		if err := json.Unmarshal(line, &out[i]); err != nil {
			c.broken = fmt.Errorf("conformance: compat/codec.js answered %q: %v", line, err)
			return nil, c.broken
		}
		if want := first + int64(i); out[i].ID != want {
			c.broken = fmt.Errorf("conformance: compat/codec.js answered id %d, want %d", out[i].ID, want)
			return nil, c.broken
		}
	}
	if err := <-werr; err != nil {
		c.broken = fmt.Errorf("conformance: write to compat/codec.js: %w", err)
		return nil, c.broken
	}
	return out, nil
}

// Close ends the process.
func (c *JSCodec) Close() error {
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		return errors.Join(errors.New("conformance: compat/codec.js did not exit; killed"), <-done)
	}
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
