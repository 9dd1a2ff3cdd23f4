// Package stan is the NATS Streaming (STAN) transporter, on stan.go.
// Importing it registers it for "stan://" connection strings and the name
// "STAN", as moleculer 0.14's STAN transporter.
//
// As in JS, a "stan://" URL is a NATS URL ("stan://" becomes "nats://"), the
// cluster ID defaults to "test-cluster" and the STAN client ID is the node
// ID, so the node ID must be a valid STAN client ID (letters, digits, "-"
// and "_"). Channels are the topic names JS uses. Plain topics are
// subscribed with the default options (only messages published from now
// on). Balanced topics are durable queue subscriptions that start with all
// available messages: queue group <action> and durable name "REQB" for
// requests, queue group <group> and durable name "EVENTB" for events, so
// Go and JS nodes share one queue.
//
// Reconnects of the NATS connection and re-established STAN sessions (after
// the server lost the client) are reported through Env.Reconnected. Unlike
// JS, which ends its process when the STAN connection closes, the Go
// transporter keeps trying to connect again.
package stan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/stan.go"

	"github.com/molbridge/molbridge/internal/jsopt"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

// DefaultURL is the URL used when the transporter is asked for by name.
const DefaultURL = "nats://localhost:4222"

// DefaultClusterID is the cluster ID JS uses when none is given; it is also
// nats-streaming-server's default.
const DefaultClusterID = "test-cluster"

func init() {
	f := func(url string, opts map[string]any) (transporters.Transporter, error) {
		o, err := OptionsFromJS(url, opts)
		if err != nil {
			return nil, err
		}
		return New(o), nil
	}
	transporters.Register("stan", f)
}

// Options configure the STAN transporter.
type Options struct {
	// URL is a NATS URL or a comma-separated list of them; "stan://" is
	// accepted for "nats://".
	URL string
	// ClusterID is the NATS Streaming cluster ID (default "test-cluster").
	ClusterID string
	// ClientID is the STAN client ID; default the node ID, as in JS.
	ClientID string
	// User, Password and Token authenticate the NATS connection when set.
	User, Password, Token string
	// MaxReconnectAttempts bounds the NATS reconnects; -1 (the default
	// here) retries forever.
	MaxReconnectAttempts int
	// ReconnectWait is the pause between NATS reconnect attempts.
	ReconnectWait time.Duration
	// PingInterval (seconds) and PingMaxOut configure STAN's
	// client-to-server pings, which detect a server that lost the client.
	// JS's node-nats-streaming defaults are 5 and 3, used here too.
	PingInterval, PingMaxOut int
	// ConnectWait bounds the STAN connect handshake (default 2 s).
	ConnectWait time.Duration
	// PubAckWait bounds the wait for a publish acknowledgement (default
	// 30 s).
	PubAckWait time.Duration
}

// OptionsFromJS reads a connection string and the JS transporter options
// object ({url, servers, clusterID, clientID, user, pass, token,
// maxReconnectAttempts, reconnectTimeWait, stanMaxPingOut,
// stanPingInterval, connectTimeout, ackTimeout}).
func OptionsFromJS(url string, js map[string]any) (Options, error) {
	o := Options{URL: url, MaxReconnectAttempts: -1, ReconnectWait: 2 * time.Second,
		PingInterval: 5, PingMaxOut: 3}
	for k, v := range js {
		switch k {
		case "url", "servers":
			switch x := v.(type) {
			case string:
				o.URL = x
			case []any:
				var parts []string
				for _, s := range x {
					if str, ok := jsopt.String(s); ok {
						parts = append(parts, str)
					}
				}
				o.URL = strings.Join(parts, ",")
			default:
				return o, fmt.Errorf("stan: option %s: want a string or a list, got %T", k, v)
			}
		case "clusterID":
			if s, ok := jsopt.String(v); ok {
				o.ClusterID = s
			}
		case "clientID":
			if s, ok := jsopt.String(v); ok {
				o.ClientID = s
			}
		case "user":
			o.User, _ = jsopt.String(v)
		case "pass":
			o.Password, _ = jsopt.String(v)
		case "token":
			o.Token, _ = jsopt.String(v)
		case "maxReconnectAttempts":
			if n, ok := jsopt.Int(v); ok {
				o.MaxReconnectAttempts = n
			}
		case "reconnectTimeWait":
			if n, ok := jsopt.Number(v); ok {
				o.ReconnectWait = time.Duration(n * float64(time.Millisecond))
			}
		case "stanMaxPingOut":
			if n, ok := jsopt.Int(v); ok && n > 0 {
				o.PingMaxOut = n
			}
		case "stanPingInterval": // milliseconds in JS; STAN pings in whole seconds
			if n, ok := jsopt.Number(v); ok && n > 0 {
				o.PingInterval = max(1, int(n/1000))
			}
		case "connectTimeout":
			if n, ok := jsopt.Number(v); ok && n > 0 {
				o.ConnectWait = time.Duration(n * float64(time.Millisecond))
			}
		case "ackTimeout":
			if n, ok := jsopt.Number(v); ok && n > 0 {
				o.PubAckWait = time.Duration(n * float64(time.Millisecond))
			}
		}
	}
	if o.URL == "" {
		o.URL = DefaultURL
	}
	o.URL = natsURL(o.URL)
	if o.ClusterID == "" {
		o.ClusterID = DefaultClusterID
	}
	return o, nil
}

// natsURL rewrites every "stan://" of a URL list to "nats://".
func natsURL(u string) string { return strings.ReplaceAll(u, "stan://", "nats://") }

// sub is one subscription: what it was asked for and its live STAN
// subscription (nil while there is no STAN session).
type sub struct {
	topic protocol.Topic
	s     stan.Subscription
}

// Transporter is the STAN transporter.
type Transporter struct {
	opts Options

	mu     sync.Mutex
	env    transporters.Env
	log    *slog.Logger
	nc     *nats.Conn
	sc     stan.Conn // nil while the session is being re-established
	subs   map[protocol.Topic]*sub
	closed bool
	// reviving is set while a goroutine re-establishes the STAN session.
	reviving bool
}

var _ transporters.Transporter = (*Transporter)(nil)

// New returns a STAN transporter.
func New(o Options) *Transporter {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	o.URL = natsURL(o.URL)
	if o.ClusterID == "" {
		o.ClusterID = DefaultClusterID
	}
	return &Transporter{opts: o, subs: map[protocol.Topic]*sub{}}
}

// BuiltInBalancer reports true: STAN queue groups balance.
func (*Transporter) BuiltInBalancer() bool { return true }

func (t *Transporter) clientID() string {
	if t.opts.ClientID != "" {
		return t.opts.ClientID
	}
	return t.env.NodeID
}

// Connect connects to the NATS server and opens the STAN session.
func (t *Transporter) Connect(ctx context.Context, env transporters.Env) error {
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t.mu.Lock()
	t.env, t.log, t.closed = env, logger, false
	t.mu.Unlock()

	options := []nats.Option{
		nats.Name(t.clientID()),
		nats.MaxReconnects(t.opts.MaxReconnectAttempts),
		nats.ReconnectWait(t.opts.ReconnectWait),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("NATS Streaming: NATS connection lost", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			logger.Info("NATS Streaming: NATS connection is back")
			if env.Reconnected != nil {
				go env.Reconnected()
			}
		}),
	}
	if t.opts.User != "" {
		options = append(options, nats.UserInfo(t.opts.User, t.opts.Password))
	}
	if t.opts.Token != "" {
		options = append(options, nats.Token(t.opts.Token))
	}
	if d, ok := ctx.Deadline(); ok {
		options = append(options, nats.Timeout(time.Until(d)))
	}
	nc, err := nats.Connect(t.opts.URL, options...)
	if err != nil {
		return fmt.Errorf("stan: connect %s: %w", t.opts.URL, err)
	}
	sc, err := t.dial(ctx, nc)
	if err != nil {
		nc.Close()
		return err
	}
	t.mu.Lock()
	t.nc, t.sc = nc, sc
	t.mu.Unlock()
	return nil
}

// dial opens a STAN session on nc.
func (t *Transporter) dial(ctx context.Context, nc *nats.Conn) (stan.Conn, error) {
	wait := t.opts.ConnectWait
	if d, ok := ctx.Deadline(); ok && (wait <= 0 || time.Until(d) < wait) {
		wait = max(time.Until(d), time.Millisecond)
	}
	opts := []stan.Option{
		stan.NatsConn(nc),
		stan.Pings(t.opts.PingInterval, t.opts.PingMaxOut),
		stan.SetConnectionLostHandler(t.connectionLost),
	}
	if wait > 0 {
		opts = append(opts, stan.ConnectWait(wait))
	}
	if t.opts.PubAckWait > 0 {
		opts = append(opts, stan.PubAckWait(t.opts.PubAckWait))
	}
	sc, err := stan.Connect(t.opts.ClusterID, t.clientID(), opts...)
	if err != nil {
		return nil, fmt.Errorf("stan: connect to cluster %q as %q: %w", t.opts.ClusterID, t.clientID(), err)
	}
	return sc, nil
}

// connectionLost runs when the server no longer knows this client (missed
// pings). The session is opened again and every subscription restored.
func (t *Transporter) connectionLost(_ stan.Conn, reason error) {
	t.mu.Lock()
	if t.closed || t.reviving {
		t.mu.Unlock()
		return
	}
	t.reviving = true
	t.sc = nil
	for _, s := range t.subs {
		s.s = nil
	}
	log := t.log
	t.mu.Unlock()
	log.Warn("NATS Streaming: session lost; connecting again", "err", reason)
	go t.revive()
}

func (t *Transporter) revive() {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			time.Sleep(min(time.Duration(attempt)*time.Second, 5*time.Second))
		}
		t.mu.Lock()
		nc, closed := t.nc, t.closed
		t.mu.Unlock()
		if closed || nc == nil || nc.IsClosed() {
			t.mu.Lock()
			t.reviving = false
			t.mu.Unlock()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		sc, err := t.dial(ctx, nc)
		cancel()
		if err != nil {
			t.log.Warn("NATS Streaming: reconnect failed", "err", err)
			continue
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			_ = sc.Close()
			return
		}
		t.sc = sc
		list := make([]*sub, 0, len(t.subs))
		for _, s := range t.subs {
			list = append(list, s)
		}
		t.mu.Unlock()
		failed := false
		for _, s := range list {
			ss, err := t.subscribe(sc, s.topic)
			if err != nil {
				t.log.Warn("NATS Streaming: resubscribe failed", "topic", s.topic.Name(t.env.Prefix), "err", err)
				failed = true
				break
			}
			t.mu.Lock()
			if cur := t.subs[s.topic]; cur == s {
				s.s = ss
			} else {
				_ = ss.Close()
			}
			t.mu.Unlock()
		}
		if failed {
			_ = sc.Close()
			t.mu.Lock()
			t.sc = nil
			t.mu.Unlock()
			continue
		}
		t.mu.Lock()
		t.reviving = false
		env := t.env
		t.mu.Unlock()
		t.log.Info("NATS Streaming: session re-established")
		if env.Reconnected != nil {
			env.Reconnected()
		}
		return
	}
}

// subscribe makes the STAN subscription of topic on sc.
func (t *Transporter) subscribe(sc stan.Conn, topic protocol.Topic) (stan.Subscription, error) {
	handler := t.env.Handler
	typ := topic.Type
	cb := func(m *stan.Msg) { handler(typ, m.Data) }
	channel := topic.Name(t.env.Prefix)
	switch topic.Kind {
	case protocol.BalancedRequest:
		return sc.QueueSubscribe(channel, topic.QueueGroup(), cb,
			stan.DeliverAllAvailable(), stan.DurableName("REQB"))
	case protocol.BalancedEvent:
		return sc.QueueSubscribe(channel, topic.QueueGroup(), cb,
			stan.DeliverAllAvailable(), stan.DurableName("EVENTB"))
	default:
		return sc.Subscribe(channel, cb)
	}
}

// Subscribe subscribes to the topic's channel; balanced topics become
// durable queue subscriptions as in JS.
func (t *Transporter) Subscribe(_ context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	sc := t.sc
	if _, dup := t.subs[topic]; dup {
		t.mu.Unlock()
		return nil
	}
	if sc == nil {
		t.mu.Unlock()
		return transporters.ErrNotConnected
	}
	s := &sub{topic: topic}
	t.subs[topic] = s
	t.mu.Unlock()

	ss, err := t.subscribe(sc, topic)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		if t.subs[topic] == s {
			delete(t.subs, topic)
		}
		return fmt.Errorf("stan: subscribe %s: %w", topic.Name(t.env.Prefix), err)
	}
	if t.subs[topic] != s || t.sc != sc {
		// Unsubscribed or the session was replaced meanwhile; a revived
		// session subscribes again by itself.
		_ = ss.Close()
		return nil
	}
	s.s = ss
	return nil
}

// Unsubscribe ends a subscription. Like JS, it unsubscribes for good: the
// durable state of a balanced subscription goes once its last member
// leaves.
func (t *Transporter) Unsubscribe(_ context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	s := t.subs[topic]
	delete(t.subs, topic)
	t.mu.Unlock()
	if s == nil || s.s == nil {
		return nil
	}
	if err := s.s.Unsubscribe(); err != nil && !errors.Is(err, stan.ErrConnectionClosed) {
		return fmt.Errorf("stan: unsubscribe %s: %w", topic.Name(t.env.Prefix), err)
	}
	return nil
}

// Publish publishes data on the topic's channel and waits for the server's
// acknowledgement, as JS does.
func (t *Transporter) Publish(ctx context.Context, topic protocol.Topic, data []byte) error {
	t.mu.Lock()
	sc := t.sc
	t.mu.Unlock()
	if sc == nil {
		return transporters.ErrNotConnected
	}
	acked := make(chan error, 1)
	if _, err := sc.PublishAsync(topic.Name(t.env.Prefix), data, func(_ string, err error) { acked <- err }); err != nil {
		if errors.Is(err, stan.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionClosed) {
			return transporters.ErrNotConnected
		}
		return fmt.Errorf("stan: publish: %w", err)
	}
	select {
	case err := <-acked:
		if err != nil {
			return fmt.Errorf("stan: publish: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stan: publish: %w", ctx.Err())
	}
}

// Close closes the STAN session (durable subscriptions survive, as when a
// JS node stops) and the NATS connection.
func (t *Transporter) Close() error {
	t.mu.Lock()
	sc, nc := t.sc, t.nc
	t.sc, t.nc, t.closed = nil, nil, true
	t.subs = map[protocol.Topic]*sub{}
	t.mu.Unlock()
	var err error
	if sc != nil {
		err = sc.Close()
		if errors.Is(err, stan.ErrConnectionClosed) {
			err = nil
		}
	}
	if nc != nil {
		_ = nc.FlushTimeout(2 * time.Second)
		nc.Close()
	}
	if err != nil {
		return fmt.Errorf("stan: close: %w", err)
	}
	return nil
}
