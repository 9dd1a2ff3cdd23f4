package live

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
	"github.com/molbridge/molbridge/internal/packetjson"
	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/transporters"
)

type bridgeServiceInfo = packets.ServiceInfo

var (
	envOnce sync.Once
	envErr  error
)

// requireEnv fails the test, with a clear message, when Node.js, moleculer
// or the message broker is missing.
func requireEnv(t *testing.T) {
	t.Helper()
	envOnce.Do(func() {
		if _, err := jsnode.Script(); err != nil {
			envErr = err
			return
		}
		envErr = cfg.checkBroker()
	})
	if envErr != nil {
		t.Fatalf("live interop tests need Node.js, compat/node_modules and the message broker: %v", envErr)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// cluster is one test's namespace, with helpers to add nodes to it.
type cluster struct {
	t  *testing.T
	ns string
	// hbTimeout is every node's heartbeat timeout; the interval is 1 s.
	hbTimeout time.Duration
}

// Heartbeat timeouts: short where a test waits for a node to be found
// dead, long elsewhere, so that a busy machine (heartbeats late by
// seconds) does not make nodes drop out of unrelated tests.
const (
	shortHeartbeatTimeout = 3 * time.Second
	longHeartbeatTimeout  = 20 * time.Second
)

// newCluster checks the environment and makes a fresh random namespace.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	requireEnv(t)
	return &cluster{t: t, ns: "lv-" + randHex(5), hbTimeout: longHeartbeatTimeout}
}

// fastLiveness makes the nodes started afterwards use a 3 s heartbeat
// timeout, for tests about dead nodes.
func (c *cluster) fastLiveness() *cluster {
	c.hbTimeout = shortHeartbeatTimeout
	return c
}

// id returns a node ID unique to this cluster.
func (c *cluster) id(role string) string { return role + "-" + c.ns[3:] }

// logBuffer collects a Go broker's log records.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type goNode struct {
	*bridge.Broker
	logs *logBuffer
}

// goNode starts an in-process Go broker in the cluster's namespace
// (heartbeat every second, the cluster's heartbeat timeout); opt may change
// its options. It is stopped by cleanup;
// its logs are printed when the test fails.
func (c *cluster) goNode(role string, opt func(*bridge.Options), services ...bridge.Service) *goNode {
	t := c.t
	t.Helper()
	logs := &logBuffer{}
	o := bridge.Options{
		NodeID:             c.id(role),
		Namespace:          c.ns,
		TransporterURL:     cfg.URL,
		TransporterOptions: cfg.transporterOptions(),
		SerializerName:     cfg.Serializer,
		HeartbeatInterval:  time.Second,
		HeartbeatTimeout:   c.hbTimeout,
		Logger:             slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if opt != nil {
		opt(&o)
	}
	b, err := bridge.New(o)
	if err != nil {
		t.Fatalf("bridge.New(%s): %v", o.NodeID, err)
	}
	for _, s := range services {
		if err := b.AddService(s); err != nil {
			t.Fatalf("%s: AddService(%s): %v", o.NodeID, s.Name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("%s: Start: %v", o.NodeID, err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = b.Stop(sctx)
		if t.Failed() {
			t.Logf("--- Go node %s log ---\n%s", o.NodeID, logs.String())
		}
	})
	return &goNode{Broker: b, logs: logs}
}

// jsNode starts compat/jsnode.js in the cluster's namespace (heartbeat
// every second, the cluster's heartbeat timeout).
func (c *cluster) jsNode(role string, services ...string) *jsnode.Process {
	c.t.Helper()
	return c.jsNodeWith(jsnode.Options{NodeID: c.id(role), Services: services})
}

func (c *cluster) jsNodeWith(o jsnode.Options) *jsnode.Process {
	c.t.Helper()
	if o.Namespace == "" {
		o.Namespace = c.ns
	}
	if o.Transporter == "" {
		o.Transporter = cfg.URL
		o.TransporterOptions = cfg.transporterOptions()
	}
	if o.Serializer == "" {
		o.Serializer = cfg.Serializer
	}
	for k, v := range cfg.jsEnv() {
		if _, set := o.Env[k]; !set {
			if o.Env == nil {
				o.Env = map[string]string{}
			}
			o.Env[k] = v
		}
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = 1
	}
	if o.HeartbeatTimeout == 0 {
		o.HeartbeatTimeout = c.hbTimeout.Seconds()
	}
	return jsnode.Start(c.t, o)
}

// goPeerProcess starts a Go node in a child process (the test binary
// re-executed, see TestMain) with the gopeer service.
func (c *cluster) goPeerProcess(role string) *jsnode.Process {
	t := c.t
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	id := c.id(role)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), goPeerEnv+"=1", "GOPEER_NODEID="+id, "GOPEER_NAMESPACE="+c.ns,
		"GOPEER_HB_INTERVAL_MS=1000", fmt.Sprintf("GOPEER_HB_TIMEOUT_MS=%d", c.hbTimeout.Milliseconds()))
	return jsnode.StartCommand(t, "gopeer "+id, id, cmd, 0)
}

// ---------------------------------------------------------------- calls

// plain decodes a Value into plain JSON data (float64 numbers).
func plain(t *testing.T, v bridge.Value) any {
	t.Helper()
	if v.IsUndefined() {
		return nil
	}
	x, err := v.Interface()
	if err != nil {
		t.Fatalf("decode %v: %v", v, err)
	}
	return normalize(t, x)
}

// normalize passes Go data through JSON so that it compares with decoded
// JSON (numbers become float64, structs become maps).
func normalize(t *testing.T, x any) any {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatalf("marshal %#v: %v", x, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return out
}

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 15*time.Second)
}

// call calls an action through a Go broker and fails the test on error.
func call(t *testing.T, b *goNode, action string, params any, opts ...bridge.CallOption) any {
	t.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	v, err := b.Call(ctx, action, params, opts...)
	if err != nil {
		t.Fatalf("%s: call %s: %v", b.NodeID(), action, err)
	}
	return plain(t, v)
}

// callOn calls an action on one node.
func callOn(t *testing.T, b *goNode, nodeID, action string, params any) any {
	t.Helper()
	return call(t, b, action, params, bridge.WithNodeID(nodeID))
}

// capture makes the JS node js call action through jspeer.capture (a child
// call of the capture context) and returns capture's report.
func capture(t *testing.T, b *goNode, js, action string, params any, opts map[string]any) map[string]any {
	t.Helper()
	p := map[string]any{"action": action}
	if params != nil { // nil: undefined (JS sends {}); bridge.Null for null
		p["params"] = params
	}
	if opts != nil {
		p["opts"] = opts
	}
	return asMap(t, callOn(t, b, js, "jspeer.capture", p))
}

// brokerCapture is capture with a root call (broker.call) on the JS node.
func brokerCapture(t *testing.T, b *goNode, js, action string, params any, opts map[string]any) map[string]any {
	t.Helper()
	p := map[string]any{"action": action}
	if params != nil { // nil: undefined (JS sends {}); bridge.Null for null
		p["params"] = params
	}
	if opts != nil {
		p["opts"] = opts
	}
	return asMap(t, callOn(t, b, js, "jspeer.brokerCapture", p))
}

// captured returns the result of a successful capture.
func captured(t *testing.T, r map[string]any) any {
	t.Helper()
	if r["ok"] != true {
		t.Fatalf("JS call failed: %s", jsonString(r["error"]))
	}
	return r["result"]
}

// capturedErr returns the error of a failed capture.
func capturedErr(t *testing.T, r map[string]any) map[string]any {
	t.Helper()
	if r["ok"] != false {
		t.Fatalf("JS call succeeded, want an error: %s", jsonString(r))
	}
	return asMap(t, r["error"])
}

func asMap(t *testing.T, x any) map[string]any {
	t.Helper()
	m, ok := x.(map[string]any)
	if !ok {
		t.Fatalf("want an object, got %s", jsonString(x))
	}
	return m
}

func asList(t *testing.T, x any) []any {
	t.Helper()
	l, ok := x.([]any)
	if !ok {
		t.Fatalf("want an array, got %s", jsonString(x))
	}
	return l
}

func jsonString(x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprintf("%#v", x)
	}
	return string(b)
}

// errorFields is the comparable part of an error: the fields jsnode's
// plainError reports, without undefined ones.
func errorFields(t *testing.T, err error) map[string]any {
	t.Helper()
	var e *bridge.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a *bridge.Error, got %T %v", err, err)
	}
	m := map[string]any{"name": e.Name, "message": e.Message, "retryable": e.Retryable}
	if e.Code != 0 {
		m["code"] = e.Code
	}
	if e.Type != "" {
		m["type"] = e.Type
	}
	if e.Data != nil {
		m["data"] = e.Data
	}
	if e.NodeID != "" {
		m["nodeID"] = e.NodeID
	}
	return asMap(t, normalize(t, m))
}

// withoutKeys returns a copy of m without some keys.
func withoutKeys(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !slices.Contains(keys, k) {
			out[k] = v
		}
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, jsonString(got), jsonString(want))
	}
}

// ---------------------------------------------------------------- waiting

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// goNodeInfo returns what a Go broker knows of a node.
func goNodeInfo(b *goNode, id string) (bridge.Node, bool) {
	for _, n := range b.Nodes() {
		if n.ID == id {
			return n, true
		}
	}
	return bridge.Node{}, false
}

// waitGoSees waits until the Go broker has the node available with the
// given services (full names).
func waitGoSees(t *testing.T, b *goNode, nodeID string, services ...string) {
	t.Helper()
	eventually(t, 15*time.Second, fmt.Sprintf("%s to see %s with %v", b.NodeID(), nodeID, services), func() bool {
		n, ok := goNodeInfo(b, nodeID)
		if !ok || !n.Available {
			return false
		}
		for _, s := range services {
			if !slices.ContainsFunc(n.Services, func(si bridgeServiceInfo) bool { return si.FullName == s }) {
				return false
			}
		}
		return true
	})
}

// jsEndpoints asks a JS node (through a Go broker) which available nodes
// serve an action.
func jsEndpoints(t *testing.T, b *goNode, js, action string) []string {
	t.Helper()
	var out []string
	for _, x := range asList(t, callOn(t, b, js, "jspeer.endpoints", map[string]any{"action": action})) {
		out = append(out, x.(string))
	}
	sort.Strings(out)
	return out
}

// waitJSSees waits until the JS node js has an available endpoint of action
// on each of nodes.
func waitJSSees(t *testing.T, b *goNode, js, action string, nodes ...string) {
	t.Helper()
	waitGoSees(t, b, js, "jspeer")
	eventually(t, 15*time.Second, fmt.Sprintf("%s to see %s on %v", js, action, nodes), func() bool {
		eps := jsEndpoints(t, b, js, action)
		for _, n := range nodes {
			if !slices.Contains(eps, n) {
				return false
			}
		}
		return true
	})
}

// jsNodeAvailable asks a JS node (with $node.list) whether it sees nodeID
// available; known is false when the node is not listed.
func jsNodeAvailable(t *testing.T, b *goNode, js, nodeID string) (available, known bool) {
	t.Helper()
	for _, x := range asList(t, callOn(t, b, js, "$node.list", nil)) {
		n := asMap(t, x)
		if n["id"] == nodeID {
			return n["available"] == true, true
		}
	}
	return false, false
}

// ---------------------------------------------------------------- raw packets

// rawLink is a bare connection of molbridge's own transporter (the one the
// suite runs over) in the cluster's namespace: no broker behind it, so a
// test can see and send packets as bytes. Not possible on TCP (see
// canInject).
type rawLink struct {
	t      *testing.T
	tr     transporters.Transporter
	ser    serializers.Serializer
	nodeID string
}

// rawLink connects a bare transporter as node id (its client ID on STAN,
// its queues on AMQP) and passes every packet of the topics it subscribes
// to h.
func (c *cluster) rawLink(id string, h transporters.Handler) *rawLink {
	t := c.t
	t.Helper()
	if !cfg.canInject() {
		t.Fatalf("rawLink on %s: %s", cfg, whyNoInject)
	}
	tr, err := transporters.New(cfg.URL, cfg.transporterOptions())
	if err != nil {
		t.Fatal(err)
	}
	ser, err := serializers.New(cfg.Serializer)
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = func(protocol.PacketType, []byte) {}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = tr.Connect(ctx, transporters.Env{
		Prefix: "MOL-" + c.ns, NodeID: id, InstanceID: "raw-" + randHex(8), Handler: h, Namespace: c.ns,
		Serializer: ser, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("raw %s connection as %s: %v", cfg.Kind, id, err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return &rawLink{t: t, tr: tr, ser: ser, nodeID: id}
}

func (l *rawLink) subscribe(topic protocol.Topic) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := l.tr.Subscribe(ctx, topic); err != nil {
		l.t.Fatalf("raw subscribe %v: %v", topic, err)
	}
}

// publishBytes sends data as it is.
func (l *rawLink) publishBytes(topic protocol.Topic, data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return l.tr.Publish(ctx, topic, data)
}

// publish encodes a payload given as JSON-like data with the suite's
// serializer and sends it. With JSON the map is sent as it is (so it may
// break the packet's field types); other serializers encode it through the
// typed payload of the topic's packet type.
func (l *rawLink) publish(topic protocol.Topic, p map[string]any) error {
	data, err := encodePacket(topic.Type, p)
	if err != nil {
		return err
	}
	return l.publishBytes(topic, data)
}

// encodePacket encodes a payload given as JSON-like data with the suite's
// serializer.
func encodePacket(t protocol.PacketType, p map[string]any) ([]byte, error) {
	text, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(cfg.Serializer, "JSON") {
		return text, nil
	}
	return packetjson.Encode(cfg.Serializer, t, text)
}

// decodePacket decodes packet bytes with the suite's serializer into
// JSON-like data.
func decodePacket(t protocol.PacketType, data []byte) (map[string]any, error) {
	text, err := packetjson.Decode(cfg.Serializer, t, data)
	if err != nil {
		return nil, err
	}
	var p map[string]any
	if err := json.Unmarshal(text, &p); err != nil {
		return nil, err
	}
	return p, nil
}

// sniffer records the packets published on a topic.
type sniffer struct {
	mu   sync.Mutex
	msgs []map[string]any
}

// sniff records the packets of one topic on a raw link of its own,
// connected as node linkID: the packets' owner for a node the test plays
// (a stale caller, a raw node), a fresh ID to watch another node's packets
// (see canSniffOthers).
func (c *cluster) sniff(topic protocol.Topic, linkID string) *sniffer {
	c.t.Helper()
	s := &sniffer{}
	l := c.rawLink(linkID, func(pt protocol.PacketType, data []byte) {
		p, err := decodePacket(pt, data)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.msgs = append(s.msgs, p)
		s.mu.Unlock()
	})
	l.subscribe(topic)
	return s
}

// sniffOther records the packets addressed to another node, on a fresh
// link.
func (c *cluster) sniffOther(topic protocol.Topic) *sniffer {
	c.t.Helper()
	return c.sniff(topic, "sniff-"+c.ns[3:]+"-"+randHex(3))
}

func (s *sniffer) packets() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// find returns the packets whose field key equals value.
func (s *sniffer) find(key string, value any) []map[string]any {
	var out []map[string]any
	for _, p := range s.packets() {
		if reflect.DeepEqual(p[key], value) {
			out = append(out, p)
		}
	}
	return out
}

func contextWithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

func jsnodeOptions(c *cluster, role string, disableBalancer bool, services ...string) jsnode.Options {
	return jsnode.Options{NodeID: c.id(role), Services: services, DisableBalancer: disableBalancer}
}
