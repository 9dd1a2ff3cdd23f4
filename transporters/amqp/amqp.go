// Package amqp is the AMQP 0-9-1 (RabbitMQ) transporter, on amqp091-go.
// Importing it registers it for "amqp://" and "amqps://" connection strings
// and the name "AMQP".
//
// It declares the same exchanges, queues and bindings as moleculer's
// amqp.js (through amqplib), with the same arguments, so Go and JS nodes
// share one RabbitMQ in either start order without PRECONDITION_FAILED:
//
//   - every node has a queue "<prefix>.<TYPE>.<nodeID>" per packet type;
//     REQ, RES and EVENT queues expire after autoDeleteQueues (x-expires,
//     2 minutes by default), the others are autoDelete;
//   - broadcast packets go to a fanout exchange named after the broadcast
//     topic ("<prefix>.INFO"), bound to each node's queue of that type;
//   - targeted and balanced packets go through the default exchange, the
//     queue name as routing key;
//   - balanced queues are "<prefix>.REQB.<action>" (no x-expires) and
//     "<prefix>.EVENTB.<group>.<event>" (x-expires), shared by every node
//     serving them;
//   - everything is durable (amqplib's default), messages are transient.
//
// The targeted REQ queue and the balanced queues are consumed with
// acknowledgements, sent after the handler returns; prefetch limits the
// unacknowledged messages per consumer. The other queues are consumed
// without acknowledgements.
//
// When the connection (or its channel) is lost, the transporter connects
// again, declares and consumes everything again and then calls
// Env.Reconnected. Publishing while disconnected fails with
// transporters.ErrNotConnected.
package amqp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

func init() {
	f := func(url string, opts map[string]any) (transporters.Transporter, error) {
		o, err := OptionsFromJS(url, opts)
		if err != nil {
			return nil, err
		}
		return New(o), nil
	}
	transporters.Register("amqp", f)
	transporters.Register("amqps", f)
}

// Transporter is the AMQP 0-9-1 transporter.
type Transporter struct {
	opts      Options
	msg       amqp091.Publishing
	mandatory bool
	exchange  exchangeDecl

	cur     atomic.Pointer[session] // nil while disconnected
	attempt atomic.Uint64           // connection attempts, to rotate URLs
	tags    atomic.Uint64           // consumer tag counter

	// mu guards the fields below and serializes every declaration, since
	// an amqp091 channel must not run two RPCs at once.
	mu        sync.Mutex
	env       transporters.Env
	log       *slog.Logger
	connected bool // Connect succeeded once
	closed    bool
	stop      chan struct{}
	subs      map[protocol.Topic]*subscription
	order     []protocol.Topic // subscription order, for re-declaration
	queues    map[string]*queue
}

var _ transporters.Transporter = (*Transporter)(nil)

// session is one connection with its two channels: ch carries the
// declarations and the consumers (with prefetch), pub the publishes.
type session struct {
	conn      *amqp091.Connection
	ch        *amqp091.Channel
	pub       atomic.Pointer[amqp091.Channel]
	exchanges sync.Map    // exchange names declared on this connection
	blocked   atomic.Bool // the broker stopped reading (resource alarm)
}

// queue is a queue the node consumes. DISCOVER, INFO and PING have a
// broadcast and a targeted topic on the same queue; it is consumed once.
type queue struct {
	name    string
	typ     protocol.PacketType
	decl    queueDecl
	consume consumeDecl
	refs    int      // subscriptions using the queue
	tag     string   // consumer tag on sess; "" when not consumed
	sess    *session // the session tag belongs to
}

type subscription struct {
	topic    protocol.Topic
	queue    *queue
	exchange string // the fanout exchange of a broadcast topic
}

// New returns an AMQP transporter.
func New(o Options) *Transporter {
	if len(o.URLs) == 0 {
		o.URLs = []string{DefaultURL}
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	t := &Transporter{
		opts:     o,
		exchange: o.exchangeDecl(),
		stop:     make(chan struct{}),
		subs:     map[protocol.Topic]*subscription{},
		queues:   map[string]*queue{},
		log:      slog.New(slog.DiscardHandler),
	}
	t.msg, t.mandatory = o.publishing()
	return t
}

// BuiltInBalancer reports true: balanced topics are queues shared by the
// nodes serving them.
func (*Transporter) BuiltInBalancer() bool { return true }

// Connect connects to the broker (trying each URL once, in turn) and opens
// the channels.
func (t *Transporter) Connect(ctx context.Context, env transporters.Env) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return errors.New("amqp: transporter closed")
	}
	if t.connected {
		t.mu.Unlock()
		return errors.New("amqp: already connected")
	}
	t.env = env
	if env.Logger != nil {
		t.log = env.Logger
	}
	t.mu.Unlock()

	var (
		s   *session
		err error
	)
	for range t.opts.URLs {
		if s, err = t.dial(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return err
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		s.close()
		return errors.New("amqp: transporter closed")
	}
	t.connected = true
	t.cur.Store(s)
	t.mu.Unlock()
	t.log.Info("AMQP is connected.")
	go t.supervise(s)
	return nil
}

// dial opens a connection to the next URL, with both channels.
func (t *Transporter) dial(ctx context.Context) (*session, error) {
	url := t.opts.URLs[int((t.attempt.Add(1)-1)%uint64(len(t.opts.URLs)))]
	timeout := t.opts.DialTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = max(time.Until(d), time.Millisecond)
	}
	props := amqp091.NewConnectionProperties()
	if t.env.NodeID != "" {
		props.SetClientConnectionName(t.env.NodeID)
	}
	conn, err := amqp091.DialConfig(url, amqp091.Config{
		Dial:            amqp091.DefaultDial(timeout),
		TLSClientConfig: t.opts.TLSConfig,
		Properties:      props,
	})
	if err != nil {
		return nil, fmt.Errorf("amqp: connect %s: %w", redact(url), err)
	}
	s := &session{conn: conn}
	if s.ch, err = t.openChannel(conn); err != nil {
		s.close()
		return nil, err
	}
	pub, err := conn.Channel()
	if err != nil {
		s.close()
		return nil, fmt.Errorf("amqp: open channel: %w", err)
	}
	s.pub.Store(pub)
	return s, nil
}

// openChannel opens the consuming channel, with JS's per-consumer prefetch.
func (t *Transporter) openChannel(conn *amqp091.Connection) (*amqp091.Channel, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("amqp: open channel: %w", err)
	}
	if err := ch.Qos(t.opts.Prefetch, 0, false); err != nil {
		return nil, fmt.Errorf("amqp: prefetch: %w", err)
	}
	return ch, nil
}

// redact hides the password of a URL in messages.
func redact(url string) string {
	u, err := amqp091.ParseURI(url)
	if err != nil || u.Password == "" {
		return url
	}
	u.Password = "xxxxx"
	return u.String()
}

func (s *session) close() {
	_ = s.conn.CloseDeadline(time.Now().Add(2 * time.Second))
}

// supervise watches a session and, when it is lost, connects again until
// it succeeds or the transporter is closed.
func (t *Transporter) supervise(s *session) {
	for {
		err := t.watch(s)
		select {
		case <-t.stop:
			return
		default:
		}
		t.log.Warn("AMQP connection is lost; reconnecting.", "err", err)
		t.mu.Lock()
		t.cur.CompareAndSwap(s, nil)
		for _, q := range t.queues {
			q.tag, q.sess = "", nil
		}
		t.mu.Unlock()
		s.close()
		if s = t.reconnect(); s == nil {
			return
		}
		t.log.Info("AMQP is reconnected.")
		if t.env.Reconnected != nil {
			go t.env.Reconnected()
		}
	}
}

// watch waits until the session's connection or consuming channel closes
// (returning why) or the transporter is closed (returning nil). A closed
// publishing channel is simply opened again; connection.blocked and
// unblocked are tracked.
func (t *Transporter) watch(s *session) error {
	connClosed := s.conn.NotifyClose(make(chan *amqp091.Error, 1))
	blocked := s.conn.NotifyBlocked(make(chan amqp091.Blocking, 1))
	chClosed := s.ch.NotifyClose(make(chan *amqp091.Error, 1))
	pubClosed := s.pub.Load().NotifyClose(make(chan *amqp091.Error, 1))
	reason := func(e *amqp091.Error, what string) error {
		if e == nil {
			return fmt.Errorf("amqp: %s closed", what)
		}
		return fmt.Errorf("amqp: %s closed: %w", what, e)
	}
	for {
		select {
		case <-t.stop:
			return nil
		case e := <-connClosed:
			return reason(e, "connection")
		case e := <-chClosed:
			return reason(e, "channel")
		case b, ok := <-blocked:
			if !ok {
				blocked = nil
				continue
			}
			s.blocked.Store(b.Active)
			if b.Active {
				t.log.Warn("AMQP connection is blocked.", "reason", b.Reason)
			} else {
				t.log.Info("AMQP connection is unblocked.")
			}
		case e := <-pubClosed:
			if s.conn.IsClosed() {
				return reason(e, "connection")
			}
			t.log.Warn("AMQP publishing channel is closed; opening it again.", "err", e)
			pub, err := s.conn.Channel()
			if err != nil {
				return fmt.Errorf("amqp: reopen publishing channel: %w", err)
			}
			s.exchanges.Clear() // the failure may have been a missing exchange
			s.pub.Store(pub)
			pubClosed = pub.NotifyClose(make(chan *amqp091.Error, 1))
		}
	}
}

// reconnect connects again and restores every subscription. It returns
// nil when the transporter was closed meanwhile.
func (t *Transporter) reconnect() *session {
	wait := time.Duration(0)
	for {
		select {
		case <-t.stop:
			return nil
		case <-time.After(wait):
		}
		wait = t.opts.ReconnectWait
		s, err := t.dial(context.Background())
		if err != nil {
			t.log.Debug("AMQP reconnection failed.", "err", err)
			continue
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			s.close()
			return nil
		}
		if err := t.restore(s); err != nil {
			t.mu.Unlock()
			t.log.Warn("AMQP subscriptions could not be restored; reconnecting.", "err", err)
			s.close()
			continue
		}
		t.cur.Store(s)
		t.mu.Unlock()
		return s
	}
}

// restore declares and consumes every subscription on a new session, in
// subscription order. A subscription the broker refuses is dropped (and
// logged) so that the next attempt can succeed; other failures (a broker
// still booting) keep it for the next attempt. t.mu is held.
func (t *Transporter) restore(s *session) error {
	for pass := range 2 {
		for _, topic := range slices.Clone(t.order) {
			sub := t.subs[topic]
			var err error
			if pass == 0 {
				err = t.declare(s, sub)
			} else {
				err = t.startConsumer(s, sub.queue)
			}
			if err != nil {
				if refused(err) {
					t.log.Error("AMQP dropped a subscription the broker refused.", "topic", topic.Name(t.env.Prefix), "err", err)
					t.drop(topic)
				}
				return err
			}
		}
	}
	return nil
}

// refused reports whether err is the broker refusing a declaration or a
// consumer for good (as opposed to a connection that went away).
func refused(err error) bool {
	var e *amqp091.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case amqp091.PreconditionFailed, amqp091.AccessRefused, amqp091.ResourceLocked, amqp091.NotAllowed:
		return true
	}
	return false
}

// newSubscription describes topic's queue, exchange and binding. t.mu is
// held.
func (t *Transporter) newSubscription(topic protocol.Topic) *subscription {
	sub := &subscription{topic: topic}
	name := topic.Name(t.env.Prefix)
	qname := name
	if topic.Kind == protocol.Broadcast {
		// JS: the node's own queue of that type, bound to the exchange.
		sub.exchange = name
		qname = protocol.TargetedTopic(topic.Type, t.env.NodeID).Name(t.env.Prefix)
	}
	q := t.queues[qname]
	if q == nil {
		q = &queue{
			name:    qname,
			typ:     topic.Type,
			decl:    t.opts.queueDecl(topic),
			consume: t.opts.consumeDecl(topic),
		}
		t.queues[qname] = q
	}
	q.refs++
	sub.queue = q
	return sub
}

// drop forgets a subscription. t.mu is held.
func (t *Transporter) drop(topic protocol.Topic) *subscription {
	sub := t.subs[topic]
	if sub == nil {
		return nil
	}
	delete(t.subs, topic)
	if i := slices.Index(t.order, topic); i >= 0 {
		t.order = slices.Delete(t.order, i, i+1)
	}
	if sub.queue.refs--; sub.queue.refs == 0 {
		delete(t.queues, sub.queue.name)
	}
	return sub
}

// declare asserts the exchange, queue and binding of a subscription as JS
// does. t.mu is held.
func (t *Transporter) declare(s *session, sub *subscription) error {
	if sub.exchange != "" {
		if err := t.declareExchange(s, sub.exchange); err != nil {
			return err
		}
	}
	q := sub.queue
	if _, err := s.ch.QueueDeclare(q.name, q.decl.durable, q.decl.autoDelete, q.decl.exclusive, false, q.decl.args); err != nil {
		return fmt.Errorf("amqp: declare queue %s: %w", q.name, err)
	}
	if sub.exchange != "" {
		if err := s.ch.QueueBind(q.name, "", sub.exchange, false, nil); err != nil {
			return fmt.Errorf("amqp: bind queue %s to %s: %w", q.name, sub.exchange, err)
		}
	}
	return nil
}

// declareExchange asserts a broadcast topic's fanout exchange. t.mu is
// held.
func (t *Transporter) declareExchange(s *session, name string) error {
	d := t.exchange
	if err := s.ch.ExchangeDeclare(name, "fanout", d.durable, d.autoDelete, d.internal, false, d.args); err != nil {
		return fmt.Errorf("amqp: declare exchange %s: %w", name, err)
	}
	s.exchanges.Store(name, true)
	return nil
}

// startConsumer consumes a queue on s unless it already is. t.mu is held.
func (t *Transporter) startConsumer(s *session, q *queue) error {
	if q.tag != "" && q.sess == s {
		return nil
	}
	tag := "molbridge-" + strconv.FormatUint(t.tags.Add(1), 10)
	c := q.consume
	deliveries, err := s.ch.Consume(q.name, tag, c.autoAck, c.exclusive, c.noLocal, false, c.args)
	if err != nil {
		return fmt.Errorf("amqp: consume %s: %w", q.name, err)
	}
	q.tag, q.sess = tag, s
	handler := t.env.Handler
	typ, ack := q.typ, !c.autoAck
	go func() {
		for d := range deliveries {
			if handler != nil {
				handler(typ, d.Body)
			}
			if ack {
				_ = d.Ack(false) // fails only when the channel is gone: redelivered then
			}
		}
	}()
	return nil
}

// Subscribe declares the topic's queue (and exchange and binding for a
// broadcast topic) as JS does and consumes it. While the connection is
// being restored, the subscription is recorded and made on reconnection.
func (t *Transporter) Subscribe(_ context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || !t.connected {
		return transporters.ErrNotConnected
	}
	if _, dup := t.subs[topic]; dup {
		return nil
	}
	sub := t.newSubscription(topic)
	t.subs[topic] = sub
	t.order = append(t.order, topic)
	s := t.cur.Load()
	if s == nil {
		return nil // made by restore
	}
	err := t.declare(s, sub)
	if err == nil {
		err = t.startConsumer(s, sub.queue)
	}
	if err != nil {
		t.drop(topic)
		return err
	}
	return nil
}

// Unsubscribe stops consuming the topic's queue (when no other topic uses
// it) and removes a broadcast topic's binding. Queues are left to expire,
// as JS leaves them.
func (t *Transporter) Unsubscribe(_ context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	sub := t.drop(topic)
	if sub == nil {
		return nil
	}
	s := t.cur.Load()
	if s == nil {
		return nil
	}
	var errs []error
	if sub.exchange != "" {
		if err := s.ch.QueueUnbind(sub.queue.name, "", sub.exchange, nil); err != nil {
			errs = append(errs, fmt.Errorf("amqp: unbind %s: %w", sub.queue.name, err))
		}
	}
	if q := sub.queue; q.refs == 0 && q.tag != "" && q.sess == s {
		if err := s.ch.Cancel(q.tag, false); err != nil {
			errs = append(errs, fmt.Errorf("amqp: cancel consumer of %s: %w", q.name, err))
		}
		q.tag, q.sess = "", nil
	}
	return errors.Join(errs...)
}

// Publish sends data to the topic: broadcast topics to their fanout
// exchange, the others to the queue of that name through the default
// exchange, with the messageOptions properties.
func (t *Transporter) Publish(ctx context.Context, topic protocol.Topic, data []byte) error {
	s := t.cur.Load()
	if s == nil {
		return transporters.ErrNotConnected
	}
	if s.blocked.Load() {
		// A publish would wait until the broker reads again.
		return fmt.Errorf("amqp: publish: %w (the broker blocked the connection)", transporters.ErrNotConnected)
	}
	name := topic.Name(t.env.Prefix)
	exchange, key := "", name
	if topic.Kind == protocol.Broadcast {
		exchange, key = name, ""
		if _, ok := s.exchanges.Load(name); !ok {
			// Publishing to a missing exchange would close the channel;
			// subscribing declares it, so this is for publish-only use.
			t.mu.Lock()
			err := t.declareExchange(s, name)
			t.mu.Unlock()
			if err != nil {
				return err
			}
		}
	}
	msg := t.msg
	msg.Body = data
	if err := s.pub.Load().PublishWithContext(ctx, exchange, key, t.mandatory, false, msg); err != nil {
		if errors.Is(err, amqp091.ErrClosed) {
			return fmt.Errorf("amqp: publish %s: %w", name, transporters.ErrNotConnected)
		}
		return fmt.Errorf("amqp: publish %s: %w", name, err)
	}
	return nil
}

// Close unbinds the node's broadcast queues, as JS does so that no more
// broadcasts pile up for a stopped node, and closes the connection.
func (t *Transporter) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.stop)
	s := t.cur.Swap(nil)
	if s != nil {
		for _, topic := range t.order {
			if sub := t.subs[topic]; sub.exchange != "" {
				if err := s.ch.QueueUnbind(sub.queue.name, "", sub.exchange, nil); err != nil {
					t.log.Debug("AMQP unbind failed.", "queue", sub.queue.name, "err", err)
				}
			}
		}
	}
	t.subs = map[protocol.Topic]*subscription{}
	t.order = nil
	t.queues = map[string]*queue{}
	t.mu.Unlock()
	if s == nil {
		return nil
	}
	_ = s.ch.Close()
	_ = s.pub.Load().Close()
	s.close()
	return nil
}
