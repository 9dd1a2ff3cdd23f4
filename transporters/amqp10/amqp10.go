// Package amqp10 is the AMQP 1.0 transporter, on go-amqp. Importing it
// registers it for "amqp10://" connection strings and the name "AMQP10".
//
// It uses the addresses of moleculer's amqp10.js:
//
//   - targeted packets: the queue "<prefix>.<TYPE>.<nodeID>";
//   - broadcast packets: topicPrefix + "<prefix>.<TYPE>" ("topic://" by
//     default; RabbitMQ needs the option topicPrefix "/topic/", which maps
//     onto its amq.topic exchange);
//   - balanced packets: the queues "<prefix>.REQB.<action>" and
//     "<prefix>.EVENTB.<group>.<event>".
//
// The body of every message is an AMQP-value section holding binary, as
// rhea encodes a Buffer body: JS cannot decode a Data section. Received
// messages are accepted in both forms.
//
// Receivers of the targeted topics and of balanced requests get prefetch
// credits, renewed one by one as messages are handled; the others use a
// credit window of 1000 (rhea's default). Every message is accepted after
// the handler returned. JS opens a sender link for each packet and closes
// it afterwards; this transporter keeps one sender link per address
// instead, which puts the same messages on the same addresses.
//
// When the connection is lost, the transporter connects again, attaches
// every receiver again and then calls Env.Reconnected. Publishing while
// disconnected fails with transporters.ErrNotConnected.
package amqp10

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/Azure/go-amqp"

	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

func init() {
	transporters.Register("amqp10", func(url string, opts map[string]any) (transporters.Transporter, error) {
		o, err := OptionsFromJS(url, opts)
		if err != nil {
			return nil, err
		}
		return New(o), nil
	})
}

// opTimeout bounds link attaches, drains and dispositions when the
// caller's context has no deadline; publishTimeout bounds a Publish (link
// attach, waiting for credit, sending), so that a call does not wait long
// for a broker that went away.
const (
	opTimeout      = 10 * time.Second
	publishTimeout = 3 * time.Second
)

// Transporter is the AMQP 1.0 transporter.
type Transporter struct {
	opts Options

	cur atomic.Pointer[session] // nil while disconnected

	// mu guards the fields below; it is held while receivers attach.
	mu        sync.Mutex
	env       transporters.Env
	log       *slog.Logger
	connected bool // Connect succeeded once
	closed    bool
	stop      chan struct{}
	subs      map[protocol.Topic]*subscription
	order     []protocol.Topic
}

var _ transporters.Transporter = (*Transporter)(nil)

// session is one connection with its session, sender links and a signal
// for its loss.
type session struct {
	conn *amqp.Conn
	s    *amqp.Session

	lost     chan struct{}
	lostErr  error
	lostOnce sync.Once

	mu      sync.Mutex
	senders map[string]*senderEntry
}

type senderEntry struct {
	ready chan struct{}
	snd   *amqp.Sender
	err   error
}

// fail marks the session as lost; the supervisor then reconnects.
func (s *session) fail(err error) {
	s.lostOnce.Do(func() {
		s.lostErr = err
		close(s.lost)
	})
}

type subscription struct {
	topic   protocol.Topic
	address string
	name    string // link name ("" for a generated one)
	credit  uint32 // link credit kept outstanding
	link    *receiverLink
}

// receiverLink is a subscription's receiver on one session.
type receiverLink struct {
	rcv     *amqp.Receiver
	closing atomic.Bool // being closed on purpose: no more credit, no failure
	cancel  context.CancelFunc
	done    chan struct{} // closed when the receive loop ended
}

// New returns an AMQP 1.0 transporter.
func New(o Options) *Transporter {
	if o.Host == "" {
		d, _ := OptionsFromJS("", nil)
		o.Host, o.Port = d.Host, d.Port
	}
	if o.Port == 0 {
		o.Port = 5672
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.MaxSenders <= 0 {
		o.MaxSenders = 512
	}
	return &Transporter{
		opts: o,
		stop: make(chan struct{}),
		subs: map[protocol.Topic]*subscription{},
		log:  slog.New(slog.DiscardHandler),
	}
}

// BuiltInBalancer reports true: balanced topics are queues shared by the
// nodes serving them.
func (*Transporter) BuiltInBalancer() bool { return true }

// Connect opens the connection and its session. The container ID is the
// node's instance ID, as in JS.
func (t *Transporter) Connect(ctx context.Context, env transporters.Env) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return errors.New("amqp10: transporter closed")
	}
	if t.connected {
		t.mu.Unlock()
		return errors.New("amqp10: already connected")
	}
	t.env = env
	if env.Logger != nil {
		t.log = env.Logger
	}
	t.mu.Unlock()
	s, err := t.dial(ctx)
	if err != nil {
		return err
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = s.conn.Close()
		return errors.New("amqp10: transporter closed")
	}
	t.connected = true
	t.cur.Store(s)
	t.mu.Unlock()
	t.log.Info("AMQP10 is connected.")
	go t.supervise(s)
	return nil
}

func (t *Transporter) dial(ctx context.Context) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, t.opts.DialTimeout)
	defer cancel()
	co := &amqp.ConnOptions{
		ContainerID: t.env.InstanceID,
		HostName:    t.opts.HostName,
		IdleTimeout: t.opts.IdleTimeout,
		SASLType:    amqp.SASLTypeAnonymous(),
	}
	if co.HostName == "" {
		co.HostName = t.opts.Host
	}
	if t.opts.Username != "" {
		co.SASLType = amqp.SASLTypePlain(t.opts.Username, t.opts.Password)
	}
	conn, err := amqp.Dial(ctx, t.opts.addr(), co)
	if err != nil {
		return nil, fmt.Errorf("amqp10: connect %s: %w", t.opts.addr(), err)
	}
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("amqp10: begin session: %w", err)
	}
	return &session{conn: conn, s: sess, lost: make(chan struct{}), senders: map[string]*senderEntry{}}, nil
}

// supervise waits for the loss of a session and connects again, until the
// transporter is closed.
func (t *Transporter) supervise(s *session) {
	for {
		var err error
		select {
		case <-t.stop:
			return
		case <-s.conn.Done():
			err = s.conn.Err()
			if err == nil {
				err = errors.New("amqp10: connection closed")
			}
		case <-s.lost:
			err = s.lostErr
		}
		select {
		case <-t.stop:
			return
		default:
		}
		t.log.Warn("AMQP10 connection is lost; reconnecting.", "err", err)
		t.cur.CompareAndSwap(s, nil)
		s.fail(err)
		_ = s.conn.Close()
		if s = t.reconnect(); s == nil {
			return
		}
		t.log.Info("AMQP10 is reconnected.")
		if t.env.Reconnected != nil {
			go t.env.Reconnected()
		}
	}
}

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
			t.log.Debug("AMQP10 reconnection failed.", "err", err)
			continue
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			_ = s.conn.Close()
			return nil
		}
		err = t.restore(s)
		if err == nil {
			t.cur.Store(s)
		}
		t.mu.Unlock()
		if err != nil {
			t.log.Warn("AMQP10 receivers could not be attached again; reconnecting.", "err", err)
			_ = s.conn.Close()
			continue
		}
		return s
	}
}

// restore attaches every receiver on a new session. A subscription the
// broker refuses is dropped (and logged) so that the next attempt can
// succeed; other failures keep it for the next attempt. t.mu is held.
func (t *Transporter) restore(s *session) error {
	for _, topic := range slices.Clone(t.order) {
		sub := t.subs[topic]
		if err := t.attach(s, sub); err != nil {
			if refused(err) {
				t.log.Error("AMQP10 dropped a subscription the broker refused.", "address", sub.address, "err", err)
				t.drop(topic)
			}
			return err
		}
	}
	return nil
}

// refused reports whether err is the broker refusing a link (an attach
// answered with an error), not the end of the session or connection.
func refused(err error) bool {
	var ce *amqp.ConnError
	var se *amqp.SessionError
	if errors.As(err, &ce) || errors.As(err, &se) {
		return false
	}
	var ae *amqp.Error
	return errors.As(err, &ae)
}

// address returns the address JS uses for a topic.
func (t *Transporter) address(topic protocol.Topic) string {
	name := topic.Name(t.env.Prefix)
	if topic.Kind == protocol.Broadcast {
		return t.opts.TopicPrefix + name
	}
	return name
}

// Subscribe attaches a receiver to the topic's address.
func (t *Transporter) Subscribe(ctx context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || !t.connected {
		return transporters.ErrNotConnected
	}
	if _, dup := t.subs[topic]; dup {
		return nil
	}
	sub := &subscription{topic: topic, address: t.address(topic)}
	switch topic.Kind {
	case protocol.Targeted, protocol.Broadcast:
		sub.name = sub.address // JS names these links after their address
	}
	// JS: prefetch credits for targeted and balanced-request receivers,
	// rhea's credit window for the others.
	sub.credit = autoCreditWindow
	if t.opts.Prefetch > 0 && (topic.Kind == protocol.Targeted || topic.Kind == protocol.BalancedRequest) {
		sub.credit = uint32(t.opts.Prefetch)
	}
	t.subs[topic] = sub
	t.order = append(t.order, topic)
	s := t.cur.Load()
	if s == nil {
		return nil // attached by restore
	}
	if err := t.attachCtx(ctx, s, sub); err != nil {
		t.drop(topic)
		if !linkOnly(err) {
			s.fail(err)
		}
		return err
	}
	return nil
}

// linkOnly reports whether err ended a link only, leaving the session.
func linkOnly(err error) bool {
	var le *amqp.LinkError
	return errors.As(err, &le)
}

func (t *Transporter) attach(s *session, sub *subscription) error {
	return t.attachCtx(context.Background(), s, sub)
}

// attachCtx attaches sub's receiver on s and starts delivering. t.mu is
// held.
//
// Credit is managed by hand on every link, as JS does for its prefetch
// links and rhea's credit window does for the others: the initial credit,
// then one more after each handled message. That also lets Unsubscribe
// drain the link before detaching it.
func (t *Transporter) attachCtx(ctx context.Context, s *session, sub *subscription) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opTimeout)
		defer cancel()
	}
	rcv, err := s.s.NewReceiver(ctx, sub.address, &amqp.ReceiverOptions{Name: sub.name, Credit: -1})
	if err != nil {
		return fmt.Errorf("amqp10: attach receiver %s: %w", sub.address, err)
	}
	if err := rcv.IssueCredit(sub.credit); err != nil {
		go closeLink(rcv.Close)
		return fmt.Errorf("amqp10: credit %s: %w", sub.address, err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	l := &receiverLink{rcv: rcv, cancel: cancel, done: make(chan struct{})}
	sub.link = l
	go t.receive(s, sub, l, rctx, t.env.Handler)
	return nil
}

// receive delivers the messages of one receiver link in order, accepting
// each after the handler returned.
func (t *Transporter) receive(s *session, sub *subscription, l *receiverLink, ctx context.Context, handler transporters.Handler) {
	defer close(l.done)
	typ := sub.topic.Type
	for {
		// Receive returns the messages already received before it looks at
		// ctx, so a cancelled loop still handles them.
		msg, err := l.rcv.Receive(ctx, nil)
		if err != nil {
			if !l.closing.Load() {
				s.fail(fmt.Errorf("amqp10: receiver %s: %w", sub.address, err))
			}
			return
		}
		if data, ok := body(msg); ok && len(data) > 0 && handler != nil {
			handler(typ, data)
		} else if !ok {
			t.log.Warn("AMQP10 dropped a message without a binary body.", "address", sub.address)
		}
		actx, cancel := context.WithTimeout(context.Background(), opTimeout)
		_ = l.rcv.AcceptMessage(actx, msg)
		cancel()
		if !l.closing.Load() {
			_ = l.rcv.IssueCredit(1)
		}
	}
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
	return sub
}

// Unsubscribe drains the topic's receiver link (the broker sends what it
// already has in flight and no more), handles what arrived, and detaches
// the link.
//
// RabbitMQ 3.x answers a closing detach with a non-closing one, which
// go-amqp never takes as the end of the link, so the wait for that answer
// is left to a goroutine with a timeout.
func (t *Transporter) Unsubscribe(ctx context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	sub := t.drop(topic)
	var l *receiverLink
	if sub != nil {
		l = sub.link
	}
	t.mu.Unlock()
	if l == nil {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opTimeout)
		defer cancel()
	}
	l.closing.Store(true)
	err := l.rcv.DrainCredit(ctx, nil)
	l.cancel()
	select {
	case <-l.done:
	case <-ctx.Done():
	}
	go closeLink(l.rcv.Close)
	if err != nil && t.cur.Load() != nil {
		return fmt.Errorf("amqp10: drain %s: %w", sub.address, err)
	}
	return nil
}

// closeLink closes a link, waiting a bounded time for the peer.
func closeLink(close func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_ = close(ctx)
}

// sender returns the cached sender link of an address, attaching it first
// if needed.
func (s *session) sender(ctx context.Context, address string, maxSenders int) (*amqp.Sender, error) {
	s.mu.Lock()
	e := s.senders[address]
	if e == nil {
		if len(s.senders) >= maxSenders {
			for a, old := range s.senders {
				select {
				case <-old.ready:
					delete(s.senders, a)
					if old.snd != nil {
						go closeLink(old.snd.Close)
					}
				default:
					continue
				}
				break
			}
		}
		e = &senderEntry{ready: make(chan struct{})}
		s.senders[address] = e
		s.mu.Unlock()
		e.snd, e.err = s.s.NewSender(ctx, address, nil)
		if e.err != nil {
			s.forget(address, e)
		}
		close(e.ready)
		return e.snd, e.err
	}
	s.mu.Unlock()
	select {
	case <-e.ready:
		return e.snd, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// forget removes a sender entry if it is still the cached one.
func (s *session) forget(address string, e *senderEntry) {
	s.mu.Lock()
	if s.senders[address] == e {
		delete(s.senders, address)
	}
	s.mu.Unlock()
}

// Publish sends data to the topic's address as an AMQP-value section
// holding binary, with messageOptions and the TTL of its type. It returns
// once the message is on its way; the broker's disposition is awaited in the
// background (a rejection is logged), as JS logs and otherwise ignores it.
func (t *Transporter) Publish(ctx context.Context, topic protocol.Topic, data []byte) error {
	s := t.cur.Load()
	if s == nil {
		return transporters.ErrNotConnected
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, publishTimeout)
		defer cancel()
	}
	address := t.address(topic)
	msg := t.opts.message(topic.Type, data)
	for attempt := 0; ; attempt++ {
		snd, err := s.sender(ctx, address, t.opts.MaxSenders)
		if err == nil {
			var receipt amqp.SendReceipt
			if receipt, err = snd.SendWithReceipt(ctx, msg, nil); err == nil {
				go t.disposition(address, receipt)
				return nil
			}
		}
		var le *amqp.LinkError
		if errors.As(err, &le) && attempt == 0 {
			// The link was detached (by the broker): attach a new one.
			s.mu.Lock()
			if e := s.senders[address]; e != nil && e.snd == snd {
				delete(s.senders, address)
			}
			s.mu.Unlock()
			continue
		}
		var ce *amqp.ConnError
		var se *amqp.SessionError
		if errors.As(err, &ce) || errors.As(err, &se) {
			s.fail(err)
			return fmt.Errorf("amqp10: publish to %s: %w (%w)", address, transporters.ErrNotConnected, err)
		}
		return fmt.Errorf("amqp10: publish to %s: %w", address, err)
	}
}

// disposition waits for the broker's outcome of a sent message.
func (t *Transporter) disposition(address string, receipt amqp.SendReceipt) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	state, err := receipt.Wait(ctx)
	if err != nil {
		t.log.Debug("AMQP10 got no disposition for a message.", "address", address, "err", err)
		return
	}
	if r, ok := state.(*amqp.StateRejected); ok {
		t.log.Warn("AMQP10 broker rejected a message.", "address", address, "err", r.Error)
	}
}

// Close closes the connection; RabbitMQ then removes the node's topic
// subscriptions. Queues stay, as JS leaves them.
func (t *Transporter) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.stop)
	s := t.cur.Swap(nil)
	for _, sub := range t.subs {
		if sub.link != nil {
			sub.link.closing.Store(true)
		}
	}
	t.subs = map[protocol.Topic]*subscription{}
	t.order = nil
	t.mu.Unlock()
	if s == nil {
		return nil
	}
	s.fail(errors.New("amqp10: closed"))
	if err := s.conn.Close(); err != nil {
		var ce *amqp.ConnError
		if !errors.As(err, &ce) || ce.RemoteErr != nil {
			return fmt.Errorf("amqp10: close: %w", err)
		}
	}
	return nil
}
