// Package tcp is the TCP transporter of moleculer: nodes talk to each other
// directly, with no message broker, and find each other through UDP
// discovery, a static list of URLs and gossip. Importing it registers it
// for "tcp://" connection strings (the urls option) and the name "TCP".
//
// The wire format is JS's: every packet travels in a frame with a 6-byte
// header (CRC, length, type); only EVENT, REQ, RES, PING, PONG and the
// three GOSSIP packets are ever framed. A node writes only on the
// connections it opened, each of which starts with a GOSSIP_HELLO, and only
// reads from the connections others opened.
//
// The transporter keeps the addresses it learns in the broker's registry
// (transporters.Env.Nodes) and delivers GOSSIP_REQ and GOSSIP_RES to the
// broker, which keeps the registry in step (node info, seq, CPU) as JS's
// transporter does. Liveness is socket-based: a node whose connection ends
// or fails, or to which a packet cannot be sent, is marked offline.
// DISCOVER, INFO, HEARTBEAT, DISCONNECT and every packet without a target
// node are dropped by Publish, as JS drops them.
package tcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

func init() {
	transporters.Register("tcp", func(url string, opts map[string]any) (transporters.Transporter, error) {
		o, err := OptionsFromJS(url, opts)
		if err != nil {
			return nil, err
		}
		return New(o), nil
	})
}

// writeTimeout bounds one frame write, so that a peer that stopped reading
// cannot block senders forever.
const writeTimeout = 30 * time.Second

// Transporter is the TCP transporter.
type Transporter struct {
	opts Options

	env  transporters.Env
	log  *slog.Logger
	port atomic.Int64

	mu      sync.Mutex
	ln      net.Listener
	closed  bool
	peers   map[string]*peer // outgoing connections by node ID
	inbound map[net.Conn]struct{}
	srcAddr map[string]string // node ID → source address seen (JS's udpAddress)
	udp     *udpServer
	wg      sync.WaitGroup
}

// peer is the outgoing connection to one node.
type peer struct {
	id string
	mu sync.Mutex // serializes connecting and writing
	// conn and lastUsed are guarded by Transporter.mu.
	conn     *outConn
	lastUsed time.Time
}

type outConn struct {
	net.Conn
	closing atomic.Bool // closed by this side: not a lost node
}

var (
	_ transporters.Transporter = (*Transporter)(nil)
	_ transporters.Gossiper    = (*Transporter)(nil)
)

// New returns a TCP transporter.
func New(o Options) *Transporter {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	return &Transporter{opts: o}
}

// BuiltInBalancer reports false: there is no broker to balance.
func (*Transporter) BuiltInBalancer() bool { return false }

// GossipPeriod is the time between gossip requests (at least 1 s).
func (t *Transporter) GossipPeriod() time.Duration {
	return max(t.opts.GossipPeriod, time.Second)
}

// Port returns the TCP port the transporter listens on, 0 before Connect.
func (t *Transporter) Port() int { return int(t.port.Load()) }

// Connect registers the nodes of the urls option, starts the TCP server
// and UDP discovery, and records the port in the local node's info.
func (t *Transporter) Connect(_ context.Context, env transporters.Env) error {
	if env.Nodes == nil || env.Serializer == nil {
		return errors.New("tcp: the broker must provide Env.Nodes and Env.Serializer")
	}
	t.log = env.Logger
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	eps, bad, err := ParseURLs(t.opts.URLs)
	if err != nil {
		return err
	}
	for _, s := range bad {
		t.log.Warn("Invalid endpoint URL: it needs host:port/nodeID.", "url", s)
	}
	port := t.opts.Port
	for _, ep := range eps {
		if ep.NodeID == env.NodeID {
			if port == 0 {
				port = ep.Port
			}
		} else {
			env.Nodes.AddOfflineNode(ep.NodeID, ep.Host, ep.Port)
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(t.opts.ListenHost, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("tcp: listen: %w", err)
	}
	port = ln.Addr().(*net.TCPAddr).Port
	t.port.Store(int64(port))
	t.mu.Lock()
	t.env, t.ln, t.closed = env, ln, false
	t.peers = map[string]*peer{}
	t.inbound = map[net.Conn]struct{}{}
	t.srcAddr = map[string]string{}
	t.mu.Unlock()
	t.log.Info("TCP server is listening.", "port", port)
	t.wg.Go(func() { t.accept(ln) })
	if t.opts.UDPDiscovery {
		u := &udpServer{
			opts: &t.opts, namespace: env.Namespace, nodeID: env.NodeID, port: port,
			onMessage: t.onUDP,
			logf:      func(msg string, args ...any) { t.log.Warn(msg, args...) },
		}
		u.start()
		t.mu.Lock()
		t.udp = u
		t.mu.Unlock()
	} else {
		t.log.Info("UDP Discovery is disabled.")
	}
	env.Nodes.SetLocalPort(port)
	return nil
}

// onUDP handles a discovery datagram of another node.
func (t *Transporter) onUDP(nodeID, address string, port int) {
	if nodeID == t.env.NodeID {
		return
	}
	if !t.env.Nodes.AddOfflineNode(nodeID, address, port) {
		t.env.Nodes.UpdateOfflineNode(nodeID, address, port)
	}
	t.mu.Lock()
	t.srcAddr[nodeID] = address
	t.mu.Unlock()
}

func (t *Transporter) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			c.Close()
			return
		}
		t.inbound[c] = struct{}{}
		t.mu.Unlock()
		t.wg.Go(func() { t.serve(c) })
	}
}

// serve reads the frames of an inbound connection.
func (t *Transporter) serve(c net.Conn) {
	defer func() {
		c.Close()
		t.mu.Lock()
		delete(t.inbound, c)
		t.mu.Unlock()
	}()
	remote := ""
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		remote = a.IP.String()
	}
	p := Parser{MaxPacketSize: t.opts.MaxPacketSize}
	emit := func(typ protocol.PacketType, payload []byte) {
		if typ == protocol.GossipHello {
			t.onHello(payload, remote)
			return
		}
		t.env.Handler(typ, payload)
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if perr := p.Feed(buf[:n], emit); perr != nil {
				t.log.Warn("Packet parser error; connection closed.", "remote", c.RemoteAddr().String(), "err", perr)
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// onHello registers the sender of a GOSSIP_HELLO as an offline node when
// it is unknown, and remembers the connection's source address for it.
func (t *Transporter) onHello(payload []byte, remote string) {
	p, err := t.env.Serializer.Unmarshal(protocol.GossipHello, payload)
	if err != nil {
		t.log.Warn("Invalid incoming GOSSIP_HELLO packet.", "err", err)
		return
	}
	h := p.(*packets.GossipHello)
	if h.Sender == "" || h.Sender == t.env.NodeID {
		return
	}
	t.env.Nodes.AddOfflineNode(h.Sender, h.Host, h.Port)
	t.mu.Lock()
	if t.srcAddr[h.Sender] == "" && remote != "" {
		t.srcAddr[h.Sender] = remote
	}
	t.mu.Unlock()
}

// Subscribe does nothing: every packet for this node arrives on its server.
func (*Transporter) Subscribe(context.Context, protocol.Topic) error { return nil }

// Unsubscribe does nothing.
func (*Transporter) Unsubscribe(context.Context, protocol.Topic) error { return nil }

// Publish sends a packet to its target node over this node's connection to
// it, opening the connection (and sending GOSSIP_HELLO) first if needed.
// Packets without a target node, and DISCOVER, INFO, HEARTBEAT and
// DISCONNECT, are dropped. A node that cannot be reached is marked offline.
func (t *Transporter) Publish(ctx context.Context, topic protocol.Topic, data []byte) error {
	if topic.Kind != protocol.Targeted || topic.NodeID == "" || topic.Type.FrameID() == 0 {
		return nil
	}
	t.mu.Lock()
	closed := t.closed || t.ln == nil
	t.mu.Unlock()
	if closed {
		return transporters.ErrNotConnected
	}
	if err := t.send(ctx, topic.NodeID, topic.Type, data); err != nil {
		t.env.Nodes.Disconnected(topic.NodeID, true)
		return err
	}
	return nil
}

func (t *Transporter) send(ctx context.Context, nodeID string, typ protocol.PacketType, data []byte) error {
	frame, err := AppendFrame(nil, typ, data)
	if err != nil {
		return err
	}
	t.mu.Lock()
	p := t.peers[nodeID]
	if p == nil {
		p = &peer{id: nodeID}
		t.peers[nodeID] = p
	}
	t.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	for attempt := 0; ; attempt++ {
		c, err := t.connection(ctx, p)
		if err != nil {
			return err
		}
		if typ != protocol.GossipReq && typ != protocol.GossipRes && typ != protocol.GossipHello {
			t.mu.Lock()
			p.lastUsed = time.Now()
			t.mu.Unlock()
		}
		_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err = c.Write(frame); err == nil {
			return nil
		}
		evicted := c.closing.Load()
		t.drop(p, c)
		if !evicted || attempt > 0 {
			return fmt.Errorf("tcp: send to %s: %w", nodeID, err)
		}
	}
}

// connection returns the open outgoing connection of p or makes one.
// Callers hold p.mu.
func (t *Transporter) connection(ctx context.Context, p *peer) (*outConn, error) {
	t.mu.Lock()
	c := p.conn
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return nil, transporters.ErrNotConnected
	}
	if c != nil {
		return c, nil
	}
	addr, err := t.address(p.id)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: t.opts.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tcp: connect to %s: %w", p.id, err)
	}
	c = &outConn{Conn: nc}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		nc.Close()
		return nil, transporters.ErrNotConnected
	}
	p.conn, p.lastUsed = c, time.Now()
	t.mu.Unlock()
	t.wg.Go(func() { t.watch(p, c) })
	if err := t.writeHello(c); err != nil {
		t.log.Debug("Unable to send GOSSIP_HELLO.", "node", p.id, "err", err)
	}
	t.manageConnections()
	return c, nil
}

// address picks where to connect to a node, as JS does: the source
// address it was seen from, else its hostname (with UseHostname), else its
// first IP; and the port of its info.
func (t *Transporter) address(nodeID string) (string, error) {
	n, ok := t.env.Nodes.Node(nodeID)
	if !ok {
		return "", fmt.Errorf("tcp: missing node info for %q", nodeID)
	}
	t.mu.Lock()
	host := t.srcAddr[nodeID]
	t.mu.Unlock()
	if host == "" {
		host = t.nodeHost(n)
	}
	if host == "" {
		return "", fmt.Errorf("tcp: node %q has no valid address", nodeID)
	}
	if n.Port <= 0 {
		return "", fmt.Errorf("tcp: node %q has no TCP port", nodeID)
	}
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1] // "[::1]" from a urls entry
	}
	return net.JoinHostPort(host, strconv.Itoa(n.Port)), nil
}

func (t *Transporter) nodeHost(n transporters.NodeAddress) string {
	if t.opts.UseHostname && n.Hostname != "" {
		return n.Hostname
	}
	if len(n.IPList) > 0 {
		return n.IPList[0]
	}
	return ""
}

func (t *Transporter) writeHello(c *outConn) error {
	host := ""
	if n, ok := t.env.Nodes.Node(t.env.NodeID); ok {
		host = t.nodeHost(n)
	}
	hello := &packets.GossipHello{Host: host, Port: t.Port(),
		Envelope: packets.Envelope{Ver: protocol.Version4, Sender: t.env.NodeID}}
	data, err := t.env.Serializer.Marshal(hello)
	if err != nil {
		return err
	}
	frame, err := AppendFrame(nil, protocol.GossipHello, data)
	if err != nil {
		return err
	}
	_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err = c.Write(frame)
	return err
}

// watch reads an outgoing connection until it ends: the peer never writes
// on it, so an end or an error means the node is gone, unless this side
// closed it.
func (t *Transporter) watch(p *peer, c *outConn) {
	_, err := io.Copy(io.Discard, c)
	if c.closing.Load() {
		return
	}
	t.drop(p, c)
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if !closed {
		t.log.Debug("TCP connection ended.", "node", p.id, "err", err)
		t.env.Nodes.Disconnected(p.id, false)
	}
}

// drop closes c and forgets it as p's connection.
func (t *Transporter) drop(p *peer, c *outConn) {
	c.closing.Store(true)
	c.Close()
	t.mu.Lock()
	if p.conn == c {
		p.conn = nil
	}
	t.mu.Unlock()
}

// manageConnections closes the least recently used outgoing connections
// beyond MaxConnections, never the newest one.
func (t *Transporter) manageConnections() {
	if t.opts.MaxConnections <= 0 {
		return
	}
	t.mu.Lock()
	var open []*peer
	for _, p := range t.peers {
		if p.conn != nil {
			open = append(open, p)
		}
	}
	count := len(open) - t.opts.MaxConnections
	if count <= 0 {
		t.mu.Unlock()
		return
	}
	slices.SortFunc(open, func(a, b *peer) int { return a.lastUsed.Compare(b.lastUsed) })
	count = min(count, len(open)-1)
	var victims []*outConn
	for _, p := range open[:count] {
		victims = append(victims, p.conn)
		p.conn.closing.Store(true)
		p.conn = nil
	}
	t.mu.Unlock()
	for _, c := range victims {
		c.Close()
	}
}

// Close stops discovery, closes the server and every connection.
func (t *Transporter) Close() error {
	t.mu.Lock()
	if t.closed || t.ln == nil {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	ln, u := t.ln, t.udp
	var conns []net.Conn
	for c := range t.inbound {
		conns = append(conns, c)
	}
	for _, p := range t.peers {
		if p.conn != nil {
			p.conn.closing.Store(true)
			conns = append(conns, p.conn)
			p.conn = nil
		}
	}
	t.mu.Unlock()
	if u != nil {
		u.close()
	}
	err := ln.Close()
	for _, c := range conns {
		c.Close()
	}
	t.wg.Wait()
	return err
}
