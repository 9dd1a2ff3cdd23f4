// Package redis is the Redis transporter, on go-redis. Importing it
// registers it for "redis://" and "rediss://" connection strings and the
// name "Redis".
//
// It works as moleculer's Redis transporter (src/transporters/redis.js):
// two connections, one that subscribes and one that publishes; every topic
// is a plain Pub/Sub channel named as JS names it ("MOL-ns.REQ.node-1"),
// subscribed with SUBSCRIBE one by one (no patterns) and published with
// PUBLISH; the packet type of a message is read from its channel name, the
// first "."-separated token after "<prefix>.". Redis cannot balance, so
// BuiltInBalancer is false and disableBalancer has no effect, as in JS.
//
// When the subscriber connection is lost, go-redis dials again and
// re-subscribes every channel; once the server confirms, Env.Reconnected is
// called, so the node announces itself again (JS re-runs its connect flow
// on the subscriber's "ready" event). While the subscriber is down, Publish
// fails with transporters.ErrNotConnected, as JS rejects packets once a
// client emitted "close".
package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/molbridge/molbridge/internal/jsopt"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

// Defaults of ioredis, which JS's transporter uses.
const (
	DefaultHost           = "localhost"
	DefaultPort           = 6379
	DefaultConnectTimeout = 10 * time.Second
)

func init() {
	f := func(url string, opts map[string]any) (transporters.Transporter, error) {
		o, err := OptionsFromJS(url, opts)
		if err != nil {
			return nil, err
		}
		return New(o), nil
	}
	transporters.Register("redis", f)
	transporters.Register("rediss", f)
}

// Options configure the Redis transporter. OptionsFromJS fills them from a
// JS connection string and options object.
type Options struct {
	// Network is "tcp" (default) or "unix"; Addr is "host:port" or the
	// socket path.
	Network, Addr string
	// Username and Password authenticate (AUTH) when set.
	Username, Password string
	// DB is selected on every connection (it does not matter to Pub/Sub,
	// whose channels are global, but JS selects it too).
	DB int
	// TLS, when set, connects with TLS (rediss://, JS option tls).
	TLS *tls.Config
	// ConnectTimeout bounds each dial; default 10 s as ioredis.
	ConnectTimeout time.Duration
	// ClientName is set with CLIENT SETNAME (JS option connectionName).
	ClientName string
	// ClusterAddrs, when not empty, connects to a Redis Cluster through
	// these nodes ("host:port"), as the JS option cluster.nodes does;
	// Addr and DB are then unused.
	ClusterAddrs []string
	// Tune and TuneCluster (for a cluster), when set, adjust the go-redis
	// options of both connections just before the clients are made.
	Tune        func(*redis.Options)
	TuneCluster func(*redis.ClusterOptions)
}

// OptionsFromJS reads a connection string ("redis://[user:pass@]host:port/db",
// "rediss://..." for TLS) and the options object JS hands to ioredis:
// host, port, path, username, password, db, tls, connectTimeout,
// connectionName, and cluster ({nodes, clusterOptions: {redisOptions}}).
// Options given in the object win over the URL, as ioredis merges them.
// Options of ioredis that change nothing on the wire (retryStrategy,
// keyPrefix, enableOfflineQueue, ...) are ignored.
func OptionsFromJS(rawURL string, js map[string]any) (Options, error) {
	merged := map[string]any{}
	if rawURL != "" {
		fromURL, err := parseURL(rawURL)
		if err != nil {
			return Options{}, err
		}
		for k, v := range fromURL {
			merged[k] = v
		}
	}
	for k, v := range js {
		merged[k] = v
	}
	o := Options{Network: "tcp", ConnectTimeout: DefaultConnectTimeout}
	if c, ok := merged["cluster"]; ok && c != nil {
		if err := o.readCluster(c); err != nil {
			return Options{}, err
		}
		return o, nil
	}
	if err := o.readConn(merged); err != nil {
		return Options{}, err
	}
	return o, nil
}

// readConn reads the options of one ioredis connection.
func (o *Options) readConn(m map[string]any) error {
	host, port := DefaultHost, strconv.Itoa(DefaultPort)
	var (
		useTLS bool
		tlsJS  map[string]any
	)
	for k, v := range m {
		if v == nil {
			continue // null: ioredis's default
		}
		ok := true
		switch k {
		case "host":
			host, ok = jsopt.String(v)
		case "port":
			var p int
			p, ok = jsopt.Int(v)
			port = strconv.Itoa(p)
		case "path":
			o.Addr, ok = jsopt.String(v)
			o.Network = "unix"
		case "username":
			o.Username, ok = jsopt.String(v)
		case "password":
			o.Password, ok = jsopt.String(v)
		case "db":
			o.DB, ok = jsopt.Int(v)
		case "tls":
			switch x := v.(type) {
			case map[string]any:
				useTLS, tlsJS = true, x
			case string: // a TLS profile name in ioredis
				ok = false
			default:
				useTLS = jsopt.Truthy(v)
			}
		case "connectTimeout":
			var ms float64
			ms, ok = jsopt.Number(v)
			o.ConnectTimeout = time.Duration(ms * float64(time.Millisecond))
		case "connectionName":
			o.ClientName, ok = jsopt.String(v)
		case "sentinels":
			return errors.New("redis: Redis Sentinel (option sentinels) is not supported")
		}
		if !ok {
			return fmt.Errorf("redis: option %s: unusable value %v (%T)", k, v, v)
		}
	}
	if o.Network == "tcp" {
		o.Addr = net.JoinHostPort(host, port)
	}
	if useTLS {
		// Node.js verifies the dialled host unless told another name.
		cfg, err := jsopt.TLSConfig(tlsJS, host)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		o.TLS = cfg
	}
	return nil
}

// readCluster reads JS's cluster option: {nodes: [...], clusterOptions:
// {redisOptions: {...}}}. A node is {host, port}, "host:port", a redis://
// URL or a port number, as ioredis accepts.
func (o *Options) readCluster(c any) error {
	cm, ok := jsopt.Map(c)
	if !ok {
		return fmt.Errorf("redis: option cluster: want an object, got %T", c)
	}
	nodes, _ := cm["nodes"].([]any)
	if len(nodes) == 0 {
		return errors.New("redis: option cluster: no nodes defined") // as JS's BrokerOptionsError
	}
	for _, n := range nodes {
		addr, err := clusterNodeAddr(n)
		if err != nil {
			return err
		}
		o.ClusterAddrs = append(o.ClusterAddrs, addr)
	}
	if co, ok := jsopt.Map(cm["clusterOptions"]); ok {
		if ro, ok := jsopt.Map(co["redisOptions"]); ok {
			h, _, _ := net.SplitHostPort(o.ClusterAddrs[0])
			conn := map[string]any{"host": h}
			for _, k := range []string{"username", "password", "tls", "connectTimeout", "connectionName"} {
				if v, ok := ro[k]; ok {
					conn[k] = v
				}
			}
			if err := o.readConn(conn); err != nil {
				return err
			}
		}
	}
	o.Addr = ""
	return nil
}

func clusterNodeAddr(n any) (string, error) {
	switch x := n.(type) {
	case map[string]any:
		host, port := DefaultHost, DefaultPort
		if h, ok := jsopt.String(x["host"]); ok {
			host = h
		}
		if p, ok := jsopt.Int(x["port"]); ok {
			port = p
		}
		return net.JoinHostPort(host, strconv.Itoa(port)), nil
	case string:
		if p, err := strconv.Atoi(x); err == nil {
			return net.JoinHostPort(DefaultHost, strconv.Itoa(p)), nil
		}
		s := x
		if !strings.Contains(s, "://") {
			s = "redis://" + s
		}
		m, err := parseURL(s)
		if err != nil {
			return "", err
		}
		host, port := DefaultHost, DefaultPort
		if h, ok := m["host"].(string); ok {
			host = h
		}
		if p, ok := jsopt.Int(m["port"]); ok {
			port = p
		}
		return net.JoinHostPort(host, strconv.Itoa(port)), nil
	}
	if p, ok := jsopt.Int(n); ok {
		return net.JoinHostPort(DefaultHost, strconv.Itoa(p)), nil
	}
	return "", fmt.Errorf("redis: option cluster.nodes: unusable node %v (%T)", n, n)
}

// parseURL reads a redis:// or rediss:// URL into ioredis options, as
// ioredis's parseURL does: credentials, host, port, the path as db, query
// items as further options, and tls for rediss://.
func parseURL(raw string) (map[string]any, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("redis: bad URL: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "redis", "rediss":
	default:
		return nil, fmt.Errorf("redis: URL scheme %q: want redis:// or rediss://", u.Scheme)
	}
	m := map[string]any{}
	for k, vs := range u.Query() {
		if len(vs) > 0 {
			m[k] = vs[len(vs)-1]
		}
	}
	if u.User != nil {
		m["username"] = u.User.Username()
		p, _ := u.User.Password()
		m["password"] = p
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		n, err := strconv.Atoi(db)
		if err != nil {
			return nil, fmt.Errorf("redis: URL path %q is not a database number", u.Path)
		}
		m["db"] = n
	}
	if h := u.Hostname(); h != "" {
		m["host"] = h
	}
	if p := u.Port(); p != "" {
		m["port"] = p
	}
	if strings.EqualFold(u.Scheme, "rediss") {
		if _, set := m["tls"]; !set {
			m["tls"] = true
		}
	}
	return m, nil
}

// client makes one go-redis client (a connection pool) from the options.
// A failed dial is not retried at once (DialerRetries 1): the subscriber's
// receive loop retries on ioredis's schedule, and a publish while the
// server is away fails fast instead of waiting through go-redis's retries.
func (o *Options) client() redis.UniversalClient {
	var tlsCfg *tls.Config
	if o.TLS != nil {
		tlsCfg = o.TLS.Clone()
	}
	if len(o.ClusterAddrs) > 0 {
		co := &redis.ClusterOptions{
			Addrs: o.ClusterAddrs, Username: o.Username, Password: o.Password,
			ClientName: o.ClientName, DialTimeout: o.ConnectTimeout, TLSConfig: tlsCfg,
			DialerRetries: 1,
		}
		if o.TuneCluster != nil {
			o.TuneCluster(co)
		}
		return redis.NewClusterClient(co)
	}
	ro := &redis.Options{
		Network: o.Network, Addr: o.Addr, Username: o.Username, Password: o.Password, DB: o.DB,
		ClientName: o.ClientName, DialTimeout: o.ConnectTimeout, TLSConfig: tlsCfg,
		DialerRetries: 1,
	}
	if o.Tune != nil {
		o.Tune(ro)
	}
	return redis.NewClient(ro)
}

// Transporter is the Redis transporter.
type Transporter struct {
	opts Options

	mu      sync.Mutex
	env     transporters.Env
	log     *slog.Logger
	pub     redis.UniversalClient
	sub     redis.UniversalClient
	ps      *redis.PubSub
	subs    map[string]protocol.Topic
	waiters map[string][]chan struct{} // channels whose SUBSCRIBE is unconfirmed
	done    chan struct{}              // closed when the receive loop ends
	quit    chan struct{}              // closed by Close
	closed  bool

	// up is true while the subscriber connection works.
	up atomic.Bool
}

var _ transporters.Transporter = (*Transporter)(nil)

// New returns a Redis transporter.
func New(o Options) *Transporter {
	return &Transporter{opts: o}
}

// BuiltInBalancer reports false: Redis Pub/Sub delivers to every
// subscriber.
func (*Transporter) BuiltInBalancer() bool { return false }

// Connect opens the subscriber connection, then the publisher connection,
// as JS does, and fails when either cannot connect (or authenticate).
func (t *Transporter) Connect(ctx context.Context, env transporters.Env) error {
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.opts.ConnectTimeout+5*time.Second)
		defer cancel()
	}
	sub := t.opts.client()
	ps := sub.Subscribe(ctx) // no channel yet: connects on first use
	if err := ps.Ping(ctx); err != nil {
		_ = ps.Close()
		_ = sub.Close()
		return fmt.Errorf("redis: connect subscriber to %s: %w", t.where(), err)
	}
	pub := t.opts.client()
	if err := pub.Ping(ctx).Err(); err != nil {
		_ = ps.Close()
		_ = sub.Close()
		_ = pub.Close()
		return fmt.Errorf("redis: connect publisher to %s: %w", t.where(), err)
	}
	t.mu.Lock()
	if t.done != nil && !t.closed {
		t.mu.Unlock()
		_ = ps.Close()
		_ = sub.Close()
		_ = pub.Close()
		return errors.New("redis: already connected")
	}
	t.env, t.log = env, logger
	t.pub, t.sub, t.ps = pub, sub, ps
	t.subs = map[string]protocol.Topic{}
	t.waiters = map[string][]chan struct{}{}
	done, quit := make(chan struct{}), make(chan struct{})
	t.done, t.quit = done, quit
	t.closed = false
	t.up.Store(true)
	t.mu.Unlock()
	logger.Info("Redis-sub client is connected.", "addr", t.where())
	logger.Info("Redis-pub client is connected.", "addr", t.where())
	go t.receive(ps, env, logger, done, quit)
	return nil
}

func (t *Transporter) where() string {
	if len(t.opts.ClusterAddrs) > 0 {
		return "cluster " + strings.Join(t.opts.ClusterAddrs, ",")
	}
	return t.opts.Addr
}

// healthInterval is how long the subscriber waits for a message before it
// pings the server, so that a dead connection is noticed.
const healthInterval = 15 * time.Second

// receive reads the subscriber connection until Close: messages go to the
// handler, subscription confirmations release Subscribe calls, and the
// first reply after a lost connection (go-redis has dialled again and
// re-subscribed) reports the reconnection. Any error but an idle timeout
// counts as a lost connection (an error reply too: a dial whose AUTH
// fails gives one), and reading is tried again on ioredis's schedule.
func (t *Transporter) receive(ps *redis.PubSub, env transporters.Env, logger *slog.Logger, done, quit chan struct{}) {
	defer close(done)
	ctx := context.Background()
	failures := 0
	for {
		msg, err := ps.ReceiveTimeout(ctx, healthInterval)
		if err != nil {
			select {
			case <-quit:
				return
			default:
			}
			if errors.Is(err, redis.ErrClosed) {
				return
			}
			var nerr net.Error
			if errors.As(err, &nerr) && nerr.Timeout() && failures == 0 {
				_ = ps.Ping(ctx) // an idle connection: the PONG proves it alive
				continue
			}
			if failures == 0 {
				t.up.Store(false)
				logger.Warn("Redis-sub client is disconnected.", "err", err)
			}
			failures++
			// ioredis's retryStrategy: min(times * 50, 2000) ms.
			wait := min(time.Duration(failures)*50*time.Millisecond, 2*time.Second)
			select {
			case <-time.After(wait):
			case <-quit:
				return
			}
			continue
		}
		if failures > 0 {
			failures = 0
			t.up.Store(true)
			logger.Info("Redis-sub client is reconnected.")
			if env.Reconnected != nil {
				go env.Reconnected()
			}
		}
		switch m := msg.(type) {
		case *redis.Message:
			typ, ok := packetType(m.Channel, env.Prefix)
			if !ok {
				logger.Debug("Redis message on a channel of no packet type.", "channel", m.Channel)
				continue
			}
			env.Handler(typ, []byte(m.Payload))
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				t.confirm(m.Channel)
			}
		}
	}
}

// packetType reads the packet type from a channel name as JS does: drop
// "<prefix>." and take what comes before the next ".".
func packetType(channel, prefix string) (protocol.PacketType, bool) {
	if len(channel) <= len(prefix)+1 {
		return "", false
	}
	rest := channel[len(prefix)+1:]
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest = rest[:i]
	}
	return protocol.ParsePacketType(rest)
}

// confirm releases the Subscribe calls waiting for channel.
func (t *Transporter) confirm(channel string) {
	t.mu.Lock()
	ws := t.waiters[channel]
	delete(t.waiters, channel)
	t.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// channel returns the Pub/Sub channel of a topic.
func (t *Transporter) channel(topic protocol.Topic) string {
	return topic.Name(t.env.Prefix)
}

// Subscribe subscribes to the topic's channel and waits until the server
// has confirmed it, so that packets published afterwards arrive.
func (t *Transporter) Subscribe(ctx context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	if t.ps == nil || t.closed {
		t.mu.Unlock()
		return transporters.ErrNotConnected
	}
	ch := t.channel(topic)
	if _, dup := t.subs[ch]; dup {
		t.mu.Unlock()
		return nil
	}
	t.subs[ch] = topic
	w := make(chan struct{})
	t.waiters[ch] = append(t.waiters[ch], w)
	ps, quit := t.ps, t.quit
	t.mu.Unlock()

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	if err := ps.Subscribe(ctx, ch); err != nil {
		// go-redis keeps the channel and subscribes it at its next
		// connection; forget it here so a retry subscribes again.
		t.forget(ch, w)
		_ = ps.Unsubscribe(context.Background(), ch)
		return fmt.Errorf("redis: subscribe %s: %w", ch, err)
	}
	select {
	case <-w:
		return nil
	case <-quit:
		return transporters.ErrNotConnected
	case <-ctx.Done():
		t.forget(ch, w)
		return fmt.Errorf("redis: subscribe %s: no confirmation: %w", ch, ctx.Err())
	}
}

func (t *Transporter) forget(ch string, w chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.subs, ch)
	ws := t.waiters[ch]
	for i, x := range ws {
		if x == w {
			t.waiters[ch] = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(t.waiters[ch]) == 0 {
		delete(t.waiters, ch)
	}
}

// Unsubscribe unsubscribes the topic's channel.
func (t *Transporter) Unsubscribe(ctx context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	if t.ps == nil || t.closed {
		t.mu.Unlock()
		return nil
	}
	ch := t.channel(topic)
	if _, ok := t.subs[ch]; !ok {
		t.mu.Unlock()
		return nil
	}
	delete(t.subs, ch)
	ps := t.ps
	t.mu.Unlock()
	if err := ps.Unsubscribe(ctx, ch); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redis: unsubscribe %s: %w", ch, err)
	}
	return nil
}

// Publish publishes data on the topic's channel with PUBLISH. It fails
// with transporters.ErrNotConnected while the subscriber connection is
// down or when the server cannot be reached.
func (t *Transporter) Publish(ctx context.Context, topic protocol.Topic, data []byte) error {
	t.mu.Lock()
	pub, closed := t.pub, t.closed
	t.mu.Unlock()
	if pub == nil || closed || !t.up.Load() {
		return transporters.ErrNotConnected
	}
	err := pub.Publish(ctx, t.channel(topic), data).Err()
	if err == nil {
		return nil
	}
	var rerr redis.Error
	if errors.As(err, &rerr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("redis: publish: %w", err)
	}
	return fmt.Errorf("redis: publish: %w: %w", transporters.ErrNotConnected, err)
}

// Close closes both connections. Publishes that returned have reached the
// server.
func (t *Transporter) Close() error {
	t.mu.Lock()
	if t.ps == nil || t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.up.Store(false)
	close(t.quit)
	ps, sub, pub, done := t.ps, t.sub, t.pub, t.done
	t.waiters = map[string][]chan struct{}{}
	t.subs = map[string]protocol.Topic{}
	t.mu.Unlock()
	err := errors.Join(ignoreClosed(ps.Close()), ignoreClosed(sub.Close()), ignoreClosed(pub.Close()))
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		err = errors.Join(err, errors.New("redis: the subscriber did not stop within 5 s"))
	}
	return err
}

func ignoreClosed(err error) error {
	if errors.Is(err, redis.ErrClosed) {
		return nil
	}
	return err
}
