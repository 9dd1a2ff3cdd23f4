// Package nats is the NATS transporter, on nats.go. Importing it registers
// it for "nats://" connection strings and the name "NATS".
//
// Subjects are the topic names JS uses; balanced topics use NATS queue
// groups named as JS names them, so Go and JS nodes share one queue.
package nats

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

// DefaultURL is the URL used when a transporter is asked for by name.
const DefaultURL = "nats://localhost:4222"

func init() {
	f := func(url string, opts map[string]any) (transporters.Transporter, error) {
		o, err := OptionsFromJS(url, opts)
		if err != nil {
			return nil, err
		}
		return New(o), nil
	}
	transporters.Register("nats", f)
}

// Options configure the NATS transporter. The JS option names map onto them
// through OptionsFromJS.
type Options struct {
	// URL is one server URL or a comma-separated list.
	URL string
	// User, Password and Token authenticate when set.
	User, Password, Token string
	// MaxReconnectAttempts: -1 (JS's default) retries forever.
	MaxReconnectAttempts int
	// ReconnectWait is the pause between reconnect attempts.
	ReconnectWait time.Duration
	// Name is the client connection name; defaults to the node ID.
	Name string
	// Extra nats.go options, applied last.
	NATSOptions []nats.Option
}

// OptionsFromJS reads a connection string and the JS transporter options
// object ({url, user, pass, token, maxReconnectAttempts, reconnectTimeWait}).
func OptionsFromJS(url string, js map[string]any) (Options, error) {
	o := Options{URL: url, MaxReconnectAttempts: -1, ReconnectWait: 2 * time.Second}
	for k, v := range js {
		switch k {
		case "url", "servers":
			switch x := v.(type) {
			case string:
				o.URL = x
			case []any:
				var parts []string
				for _, s := range x {
					parts = append(parts, fmt.Sprint(s))
				}
				o.URL = strings.Join(parts, ",")
			}
		case "user":
			o.User = fmt.Sprint(v)
		case "pass":
			o.Password = fmt.Sprint(v)
		case "token":
			o.Token = fmt.Sprint(v)
		case "maxReconnectAttempts":
			if f, ok := v.(float64); ok {
				o.MaxReconnectAttempts = int(f)
			}
		case "reconnectTimeWait":
			if f, ok := v.(float64); ok {
				o.ReconnectWait = time.Duration(f) * time.Millisecond
			}
		}
	}
	if o.URL == "" {
		o.URL = DefaultURL
	}
	return o, nil
}

// Transporter is the NATS transporter.
type Transporter struct {
	opts Options

	nc atomic.Pointer[nats.Conn]

	mu   sync.Mutex
	env  transporters.Env
	subs map[protocol.Topic]*nats.Subscription
}

var _ transporters.Transporter = (*Transporter)(nil)

// New returns a NATS transporter.
func New(o Options) *Transporter {
	return &Transporter{opts: o, subs: map[protocol.Topic]*nats.Subscription{}}
}

// BuiltInBalancer reports true: NATS queue groups balance.
func (*Transporter) BuiltInBalancer() bool { return true }

// Connect connects to the NATS server.
func (t *Transporter) Connect(ctx context.Context, env transporters.Env) error {
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	name := t.opts.Name
	if name == "" {
		name = env.NodeID
	}
	options := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(t.opts.MaxReconnectAttempts),
		nats.ReconnectWait(t.opts.ReconnectWait),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil on a deliberate Close
				logger.Warn("NATS disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			logger.Info("NATS reconnected")
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
	options = append(options, t.opts.NATSOptions...)
	nc, err := nats.Connect(t.opts.URL, options...)
	if err != nil {
		return fmt.Errorf("nats: connect %s: %w", t.opts.URL, err)
	}
	t.mu.Lock()
	t.env = env
	t.mu.Unlock()
	t.nc.Store(nc)
	return nil
}

// subject maps a topic onto a NATS subject. In a balanced event topic, a
// "**" and everything after it become ">", as JS does.
func (t *Transporter) subject(topic protocol.Topic) string {
	s := topic.Name(t.env.Prefix)
	if topic.Kind == protocol.BalancedEvent {
		if i := strings.Index(s, "**"); i >= 0 {
			s = s[:i] + ">"
		}
	}
	return s
}

// Subscribe subscribes to topic, with a queue group for balanced topics.
func (t *Transporter) Subscribe(ctx context.Context, topic protocol.Topic) error {
	nc := t.nc.Load()
	t.mu.Lock()
	handler := t.env.Handler
	if _, dup := t.subs[topic]; dup || nc == nil {
		t.mu.Unlock()
		if nc == nil {
			return transporters.ErrNotConnected
		}
		return nil
	}
	t.mu.Unlock()

	typ := topic.Type
	cb := func(m *nats.Msg) { handler(typ, m.Data) }
	var (
		sub *nats.Subscription
		err error
	)
	if q := topic.QueueGroup(); q != "" {
		sub, err = nc.QueueSubscribe(t.subject(topic), q, cb)
	} else {
		sub, err = nc.Subscribe(t.subject(topic), cb)
	}
	if err != nil {
		return fmt.Errorf("nats: subscribe %s: %w", t.subject(topic), err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	t.mu.Lock()
	t.subs[topic] = sub
	t.mu.Unlock()
	return flush(ctx, nc)
}

func flush(ctx context.Context, nc *nats.Conn) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("nats: flush: %w", err)
	}
	return nil
}

// Unsubscribe ends a subscription.
func (t *Transporter) Unsubscribe(_ context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	sub := t.subs[topic]
	delete(t.subs, topic)
	t.mu.Unlock()
	if sub == nil {
		return nil
	}
	return sub.Unsubscribe()
}

// Publish publishes data on the topic's subject.
func (t *Transporter) Publish(_ context.Context, topic protocol.Topic, data []byte) error {
	nc := t.nc.Load()
	if nc == nil || nc.IsClosed() {
		return transporters.ErrNotConnected
	}
	if err := nc.Publish(topic.Name(t.env.Prefix), data); err != nil {
		return fmt.Errorf("nats: publish: %w", err)
	}
	return nil
}

// Close drains nothing and closes the connection; publishes made before
// Close are flushed first.
func (t *Transporter) Close() error {
	nc := t.nc.Swap(nil)
	t.mu.Lock()
	t.subs = map[protocol.Topic]*nats.Subscription{}
	t.mu.Unlock()
	if nc == nil {
		return nil
	}
	_ = nc.FlushTimeout(2 * time.Second)
	nc.Close()
	return nil
}
