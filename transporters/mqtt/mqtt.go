// Package mqtt is the MQTT transporter, on Eclipse Paho. Importing it
// registers it for "mqtt://" and "mqtts://" connection strings (the two
// schemes moleculer maps to MQTT) and the name "MQTT"; with the name, the
// options object may also ask for WebSocket ("protocol": "ws" or "wss").
//
// It works as moleculer's MQTT transporter (src/transporters/mqtt.js):
// every topic is an MQTT topic named as JS names it, with the option
// topicSeparator (default ".") between its parts: "MOL-ns.REQ.node-1", or
// "MOL-ns/REQ/node-1" with "/". Subscriptions and publishes use the option
// qos (default 0); nothing is retained. The packet type of a message is
// read from its topic: "<prefix><separator>" is cut off and the type is the
// first token that follows. MQTT cannot balance, so BuiltInBalancer is
// false and disableBalancer has no effect, as in JS.
//
// The client speaks MQTT 3.1.1 (mqtt.js's default) with a clean session.
// When the connection is lost, Paho reconnects every reconnectPeriod (1 s
// by default); the transporter then subscribes every topic again and calls
// Env.Reconnected, as JS re-runs its connect flow on the client's "connect"
// event. While the connection is down, Publish fails with
// transporters.ErrNotConnected, as JS rejects packets once the client
// emitted "close".
package mqtt

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
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

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/molbridge/molbridge/internal/jsopt"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

// Defaults of mqtt.js and of moleculer's MQTT transporter.
const (
	DefaultURL             = "mqtt://localhost:1883"
	DefaultKeepAlive       = 60 * time.Second
	DefaultConnectTimeout  = 30 * time.Second
	DefaultReconnectPeriod = time.Second
	DefaultTopicSeparator  = "."
)

func init() {
	f := func(url string, opts map[string]any) (transporters.Transporter, error) {
		o, err := OptionsFromJS(url, opts)
		if err != nil {
			return nil, err
		}
		return New(o), nil
	}
	transporters.Register("mqtt", f)
	transporters.Register("mqtts", f)
}

// Options configure the MQTT transporter. OptionsFromJS fills them from a
// JS connection string and options object.
type Options struct {
	// Servers are the broker URLs, tried in turn: "mqtt://host:1883",
	// "mqtts://host:8883", "ws://host:80/path", "wss://host:443/path".
	Servers []string
	// ClientID identifies the client to the broker; default
	// "molbridge_<8 random hex digits>" (mqtt.js: "mqttjs_<8 hex>").
	ClientID string
	// Username and Password authenticate when set.
	Username, Password string
	// PersistentSession asks the broker to keep the session (mqtt.js's
	// clean: false, which needs a ClientID); by default it is clean.
	PersistentSession bool
	// KeepAlive is the MQTT keep-alive period; default 60 s, negative for
	// none (mqtt.js's keepalive: 0).
	KeepAlive time.Duration
	// ConnectTimeout bounds a connection attempt; default 30 s.
	ConnectTimeout time.Duration
	// ReconnectPeriod is the pause between reconnect attempts; default 1 s.
	ReconnectPeriod time.Duration
	// ProtocolVersion is 4 (MQTT 3.1.1, default) or 3 (MQTT 3.1).
	ProtocolVersion uint
	// QoS is used to subscribe and to publish; default 0.
	QoS byte
	// TopicSeparator joins the parts of a topic; default ".".
	TopicSeparator string
	// TLS configures mqtts:// and wss:// connections.
	TLS *tls.Config
	// Will, when set, is the last-will message the broker publishes when
	// the client disappears.
	Will *Will
	// Tune, when set, is called with the Paho client options just before
	// the client is made.
	Tune func(*paho.ClientOptions)
}

// Will is an MQTT last-will message.
type Will struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
}

// OptionsFromJS reads a connection string and the options object of JS's
// MQTT transporter. moleculer takes qos and topicSeparator out of it and
// hands the rest to mqtt.connect, of which these are read: protocol, host,
// hostname, port, path, servers, username, password, auth ("user:pass"),
// clientId, clean, keepalive (s), connectTimeout (ms), reconnectPeriod
// (ms), protocolVersion, will, and the TLS options rejectUnauthorized, ca,
// cert, key, servername. As in mqtt.connect(url, options), options win
// over what the URL says. protocolVersion 5 connects with 3.1.1, which
// Paho speaks: moleculer uses no MQTT 5 feature, so nodes on either
// version exchange packets through the broker alike.
func OptionsFromJS(rawURL string, js map[string]any) (Options, error) {
	o := Options{
		KeepAlive: DefaultKeepAlive, ConnectTimeout: DefaultConnectTimeout,
		ReconnectPeriod: DefaultReconnectPeriod, ProtocolVersion: 4, TopicSeparator: DefaultTopicSeparator,
	}
	m := map[string]any{}
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil {
			return Options{}, fmt.Errorf("mqtt: bad URL: %w", err)
		}
		m["protocol"] = strings.ToLower(u.Scheme)
		if h := u.Hostname(); h != "" {
			m["host"] = h
		}
		if p := u.Port(); p != "" {
			m["port"] = p
		}
		if u.Path != "" {
			m["path"] = u.Path
		}
		if u.User != nil {
			m["auth"] = u.User.Username()
			if p, ok := u.User.Password(); ok {
				m["auth"] = u.User.Username() + ":" + p
			}
		}
		if id := u.Query().Get("clientId"); id != "" {
			m["clientId"] = id
		}
	}
	for k, v := range js {
		if v != nil {
			m[k] = v
		}
	}

	bad := func(k string) error { return fmt.Errorf("mqtt: option %s: unusable value %v (%T)", k, m[k], m[k]) }
	str := func(k string) (string, error) {
		s, ok := jsopt.String(m[k])
		if !ok {
			return "", bad(k)
		}
		return s, nil
	}
	ms := func(k string) (time.Duration, error) {
		f, ok := jsopt.Number(m[k])
		if !ok || f < 0 {
			return 0, bad(k)
		}
		return time.Duration(f * float64(time.Millisecond)), nil
	}
	var err error
	if _, ok := m["qos"]; ok {
		q, ok := jsopt.Int(m["qos"])
		if !ok || q < 0 || q > 2 {
			return Options{}, bad("qos")
		}
		o.QoS = byte(q)
	}
	if _, ok := m["topicSeparator"]; ok {
		if o.TopicSeparator, err = str("topicSeparator"); err != nil {
			return Options{}, err
		}
	}
	if _, ok := m["clientId"]; ok {
		if o.ClientID, err = str("clientId"); err != nil {
			return Options{}, err
		}
	}
	if a, ok := m["auth"]; ok {
		s, _ := jsopt.String(a)
		o.Username, o.Password = splitAuth(s)
	}
	if _, ok := m["username"]; ok {
		if o.Username, err = str("username"); err != nil {
			return Options{}, err
		}
	}
	if _, ok := m["password"]; ok {
		if o.Password, err = str("password"); err != nil {
			return Options{}, err
		}
	}
	if v, ok := m["clean"]; ok {
		o.PersistentSession = !jsopt.Truthy(v)
	}
	if o.PersistentSession && o.ClientID == "" {
		return Options{}, errors.New("mqtt: Missing clientId for unclean clients") // as mqtt.js
	}
	if _, ok := m["keepalive"]; ok {
		f, ok := jsopt.Number(m["keepalive"])
		if !ok || f < 0 {
			return Options{}, bad("keepalive")
		}
		o.KeepAlive = time.Duration(f) * time.Second
		if o.KeepAlive == 0 {
			o.KeepAlive = -1
		}
	}
	if _, ok := m["connectTimeout"]; ok {
		if o.ConnectTimeout, err = ms("connectTimeout"); err != nil {
			return Options{}, err
		}
	}
	if _, ok := m["reconnectPeriod"]; ok {
		if o.ReconnectPeriod, err = ms("reconnectPeriod"); err != nil {
			return Options{}, err
		}
		if o.ReconnectPeriod == 0 {
			// mqtt.js does not reconnect at all then; Paho needs a pause.
			o.ReconnectPeriod = DefaultReconnectPeriod
		}
	}
	if _, ok := m["protocolVersion"]; ok {
		v, ok := jsopt.Int(m["protocolVersion"])
		switch {
		case !ok || v < 3 || v > 5:
			return Options{}, bad("protocolVersion")
		case v == 5:
			o.ProtocolVersion = 4
		default:
			o.ProtocolVersion = uint(v)
		}
	}
	if w, ok := m["will"]; ok {
		wm, ok := jsopt.Map(w)
		if !ok {
			return Options{}, bad("will")
		}
		topic, _ := jsopt.String(wm["topic"])
		payload, _ := jsopt.String(wm["payload"])
		q, _ := jsopt.Int(wm["qos"])
		o.Will = &Will{Topic: topic, Payload: []byte(payload), QoS: byte(q), Retain: jsopt.Truthy(wm["retain"])}
	}

	// Where to connect: servers, else protocol/host/port/path.
	proto := "mqtt"
	if _, ok := m["protocol"]; ok {
		if proto, err = str("protocol"); err != nil {
			return Options{}, err
		}
		proto = strings.ToLower(strings.TrimSuffix(proto, ":"))
	}
	if m["cert"] != nil && m["key"] != nil {
		// mqtt.js switches to the secure variant when given a client
		// certificate.
		switch proto {
		case "mqtt", "tcp":
			proto = "mqtts"
		case "ws":
			proto = "wss"
		}
	}
	host := "localhost"
	for _, k := range []string{"host", "hostname"} { // hostname wins, as in mqtt.js
		if _, ok := m[k]; ok {
			if host, err = str(k); err != nil {
				return Options{}, err
			}
		}
	}
	port := 0
	if _, ok := m["port"]; ok {
		p, ok := jsopt.Int(m["port"])
		if !ok {
			return Options{}, bad("port")
		}
		port = p
	}
	path := ""
	if _, ok := m["path"]; ok {
		if path, err = str("path"); err != nil {
			return Options{}, err
		}
	}
	if s, ok := m["servers"]; ok {
		list, ok := s.([]any)
		if !ok {
			return Options{}, bad("servers")
		}
		for _, e := range list {
			sm, ok := jsopt.Map(e)
			if !ok {
				return Options{}, bad("servers")
			}
			sh, _ := jsopt.String(sm["host"])
			sp, _ := jsopt.Int(sm["port"])
			sproto := proto
			if x, ok := jsopt.String(sm["protocol"]); ok && x != "" {
				sproto = x
			}
			u, err := serverURL(sproto, sh, sp, path)
			if err != nil {
				return Options{}, err
			}
			o.Servers = append(o.Servers, u)
		}
	} else {
		u, err := serverURL(proto, host, port, path)
		if err != nil {
			return Options{}, err
		}
		o.Servers = []string{u}
	}

	secure := false
	for _, s := range o.Servers {
		secure = secure || strings.HasPrefix(s, "mqtts:") || strings.HasPrefix(s, "wss:")
	}
	if secure {
		tlsJS := map[string]any{}
		for _, k := range []string{"rejectUnauthorized", "ca", "cert", "key", "servername", "pfx", "passphrase"} {
			if v, ok := m[k]; ok {
				tlsJS[k] = v
			}
		}
		sn := host
		if len(o.Servers) > 0 {
			if u, err := url.Parse(o.Servers[0]); err == nil {
				sn = u.Hostname()
			}
		}
		if o.TLS, err = jsopt.TLSConfig(tlsJS, sn); err != nil {
			return Options{}, fmt.Errorf("mqtt: %w", err)
		}
	}
	return o, nil
}

// splitAuth splits "user:pass" as mqtt.js does, with /^(.+):(.+)$/: at
// the last colon that leaves both sides non-empty; without one, it all is
// the user name.
func splitAuth(s string) (user, pass string) {
	for i := len(s) - 2; i > 0; i-- {
		if s[i] == ':' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// serverURL makes a Paho broker URL with mqtt.js's default ports.
func serverURL(proto, host string, port int, path string) (string, error) {
	if host == "" {
		host = "localhost"
	}
	switch proto {
	case "mqtt", "tcp":
		proto = "mqtt"
		if port == 0 {
			port = 1883
		}
		path = ""
	case "mqtts", "ssl", "tls":
		proto = "mqtts"
		if port == 0 {
			port = 8883
		}
		path = ""
	case "ws", "wss":
		if port == 0 {
			port = 80
			if proto == "wss" {
				port = 443
			}
		}
		if path == "" {
			path = "/"
		}
	default:
		return "", fmt.Errorf("mqtt: protocol %q: want mqtt, mqtts, ws or wss", proto)
	}
	return proto + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + path, nil
}

// Transporter is the MQTT transporter.
type Transporter struct {
	opts Options

	mu     sync.Mutex
	env    transporters.Env
	log    *slog.Logger
	client paho.Client
	subs   map[string]protocol.Topic
	closed bool
	queue  *queue // with QoS > 0 only

	// up is true while the connection works and the subscriptions are in
	// place; connects counts the connections made.
	up       atomic.Bool
	connects atomic.Int64
}

var _ transporters.Transporter = (*Transporter)(nil)

// New returns an MQTT transporter. Zero options take the defaults.
func New(o Options) *Transporter {
	if o.TopicSeparator == "" {
		o.TopicSeparator = DefaultTopicSeparator
	}
	if len(o.Servers) == 0 {
		o.Servers = []string{DefaultURL}
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ReconnectPeriod == 0 {
		o.ReconnectPeriod = DefaultReconnectPeriod
	}
	if o.ProtocolVersion == 0 {
		o.ProtocolVersion = 4
	}
	return &Transporter{opts: o}
}

// BuiltInBalancer reports false: MQTT delivers to every subscriber.
func (*Transporter) BuiltInBalancer() bool { return false }

func randomClientID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "molbridge_" + hex.EncodeToString(b)
}

// Connect connects to the broker and waits for its CONNACK.
func (t *Transporter) Connect(ctx context.Context, env transporters.Env) error {
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := t.opts
	co := paho.NewClientOptions()
	for _, s := range o.Servers {
		co.AddBroker(s)
	}
	id := o.ClientID
	if id == "" {
		id = randomClientID()
	}
	co.SetClientID(id).
		SetUsername(o.Username).
		SetPassword(o.Password).
		SetCleanSession(!o.PersistentSession).
		SetKeepAlive(max(o.KeepAlive, 0)).
		SetConnectTimeout(o.ConnectTimeout).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(o.ReconnectPeriod).
		SetConnectRetry(false).
		SetResumeSubs(false).
		SetProtocolVersion(o.ProtocolVersion).
		SetOrderMatters(true).
		SetDefaultPublishHandler(t.onMessage).
		SetOnConnectHandler(t.onConnect).
		SetConnectionLostHandler(t.onLost)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < o.ConnectTimeout {
		co.SetConnectTimeout(max(time.Until(d), time.Millisecond))
	}
	if o.TLS != nil {
		co.SetTLSConfig(o.TLS.Clone())
	}
	if o.Will != nil {
		co.SetBinaryWill(o.Will.Topic, o.Will.Payload, o.Will.QoS, o.Will.Retain)
	}
	if o.Tune != nil {
		o.Tune(co)
	}

	t.mu.Lock()
	if t.client != nil && !t.closed {
		t.mu.Unlock()
		return errors.New("mqtt: already connected")
	}
	t.env, t.log = env, logger
	t.subs = map[string]protocol.Topic{}
	t.closed = false
	t.queue = nil
	if o.QoS > 0 {
		t.queue = newQueue(env.Handler)
	}
	t.connects.Store(0)
	client := paho.NewClient(co)
	t.client = client
	t.mu.Unlock()

	tok := client.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
	}
	err := tok.Error()
	if err == nil && !tokDone(tok) {
		err = ctx.Err()
	}
	if err != nil {
		client.Disconnect(0)
		t.mu.Lock()
		t.client = nil
		if t.queue != nil {
			t.queue.close()
		}
		t.mu.Unlock()
		return fmt.Errorf("mqtt: connect %s: %w", strings.Join(o.Servers, ","), err)
	}
	t.up.Store(true)
	logger.Info("MQTT client is connected.", "servers", o.Servers, "clientId", id)
	return nil
}

func tokDone(tok paho.Token) bool {
	select {
	case <-tok.Done():
		return true
	default:
		return false
	}
}

// onConnect runs (on a goroutine of its own) after every connection. After
// the first, it restores the subscriptions (a clean session starts empty)
// and reports the reconnection.
func (t *Transporter) onConnect(c paho.Client) {
	if t.connects.Add(1) == 1 {
		return // the first connection: Connect reports it
	}
	t.mu.Lock()
	if t.closed || t.client != c {
		t.mu.Unlock()
		return
	}
	names := make([]string, 0, len(t.subs))
	for name := range t.subs {
		names = append(names, name)
	}
	logger, env := t.log, t.env
	t.mu.Unlock()
	logger.Info("MQTT client is reconnected.")
	if len(names) > 0 {
		filters := make(map[string]byte, len(names))
		for _, n := range names {
			filters[n] = t.opts.QoS
		}
		tok := c.SubscribeMultiple(filters, nil)
		if err := wait(context.Background(), tok, 30*time.Second); err != nil {
			// The connection is gone again; the next connection retries.
			logger.Warn("MQTT re-subscription failed.", "err", err)
			return
		}
		if err := granted(tok, names); err != nil {
			logger.Error("MQTT re-subscription refused.", "err", err)
		}
	}
	if !c.IsConnectionOpen() {
		return // lost again; the next connection tries again
	}
	t.up.Store(true)
	if env.Reconnected != nil {
		env.Reconnected()
	}
}

// onLost runs (on a goroutine of its own) when the connection is lost;
// Publish already refuses then, as Paho's status says so.
func (t *Transporter) onLost(c paho.Client, err error) {
	if !c.IsConnectionOpen() { // not already connected again
		t.up.Store(false)
	}
	t.mu.Lock()
	logger := t.log
	t.mu.Unlock()
	logger.Warn("MQTT client is disconnected.", "err", err)
}

// onMessage receives every message (all subscriptions are made without a
// callback of their own), in order, on Paho's routing goroutine. With QoS
// 0 it calls the handler there: a publish from the handler only waits for
// the write. With QoS 1 and 2 it queues the message for a goroutine of the
// transporter's, because a publish from the handler then waits for an
// acknowledgement that Paho could not read while its router is held up.
// (The queue costs a goroutine hand-off, ~0.1 ms per message here, which
// is why QoS 0 does without it.)
func (t *Transporter) onMessage(_ paho.Client, m paho.Message) {
	typ, ok := packetType(m.Topic(), t.env.Prefix, t.opts.TopicSeparator)
	if !ok {
		t.log.Debug("MQTT message on a topic of no packet type.", "topic", m.Topic())
		return
	}
	if t.queue == nil {
		t.env.Handler(typ, m.Payload())
		return
	}
	t.queue.push(typ, m.Payload())
}

// packetType reads the packet type from a topic as JS does: drop
// "<prefix><separator>" and take what comes before the next separator.
func packetType(topic, prefix, sep string) (protocol.PacketType, bool) {
	if len(topic) <= len(prefix)+len(sep) {
		return "", false
	}
	rest := topic[len(prefix)+len(sep):]
	if i := strings.Index(rest, sep); i >= 0 {
		rest = rest[:i]
	}
	return protocol.ParsePacketType(rest)
}

// name returns the MQTT topic of a topic.
func (t *Transporter) name(topic protocol.Topic) string {
	return topic.NameSep(t.env.Prefix, t.opts.TopicSeparator)
}

// wait waits for a Paho token, at most timeout (or until ctx ends).
func wait(ctx context.Context, tok paho.Token, timeout time.Duration) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// granted checks the SUBACK: 0x80 refuses a subscription.
func granted(tok paho.Token, names []string) error {
	st, ok := tok.(*paho.SubscribeToken)
	if !ok {
		return nil
	}
	res := st.Result()
	for _, n := range names {
		if q, ok := res[n]; ok && q == 0x80 {
			return fmt.Errorf("the broker refused the subscription of %s", n)
		}
	}
	return nil
}

// Subscribe subscribes to the topic with the configured QoS and waits for
// the broker's SUBACK.
func (t *Transporter) Subscribe(ctx context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	c := t.client
	if c == nil || t.closed {
		t.mu.Unlock()
		return transporters.ErrNotConnected
	}
	name := t.name(topic)
	if _, dup := t.subs[name]; dup {
		t.mu.Unlock()
		return nil
	}
	t.subs[name] = topic
	t.mu.Unlock()
	tok := c.Subscribe(name, t.opts.QoS, nil)
	err := wait(ctx, tok, 30*time.Second)
	if err == nil {
		err = granted(tok, []string{name})
	}
	if err != nil {
		t.mu.Lock()
		delete(t.subs, name)
		t.mu.Unlock()
		if errors.Is(err, paho.ErrNotConnected) {
			return fmt.Errorf("mqtt: subscribe %s: %w", name, transporters.ErrNotConnected)
		}
		return fmt.Errorf("mqtt: subscribe %s: %w", name, err)
	}
	return nil
}

// Unsubscribe unsubscribes the topic.
func (t *Transporter) Unsubscribe(ctx context.Context, topic protocol.Topic) error {
	t.mu.Lock()
	c := t.client
	name := t.name(topic)
	_, ok := t.subs[name]
	delete(t.subs, name)
	closed := t.closed
	t.mu.Unlock()
	if c == nil || closed || !ok || !t.up.Load() {
		return nil // a later connection will not subscribe it again
	}
	if err := wait(ctx, c.Unsubscribe(name), 30*time.Second); err != nil {
		return fmt.Errorf("mqtt: unsubscribe %s: %w", name, err)
	}
	return nil
}

// publishTimeout bounds the wait for a publish when ctx has no deadline:
// with QoS 1 or 2, a message whose connection is lost stays pending until
// the next connection.
const publishTimeout = 10 * time.Second

// Publish publishes data on the topic with the configured QoS, not
// retained, and waits until Paho has sent it (QoS 0) or the broker has
// acknowledged it (QoS 1 and 2), at most until ctx ends or 10 s.
func (t *Transporter) Publish(ctx context.Context, topic protocol.Topic, data []byte) error {
	t.mu.Lock()
	c, closed := t.client, t.closed
	t.mu.Unlock()
	if c == nil || closed || !t.up.Load() || !c.IsConnectionOpen() {
		return transporters.ErrNotConnected
	}
	tok := c.Publish(t.name(topic), t.opts.QoS, false, data)
	if err := wait(ctx, tok, publishTimeout); err != nil {
		if errors.Is(err, paho.ErrNotConnected) {
			return fmt.Errorf("mqtt: publish: %w", transporters.ErrNotConnected)
		}
		return fmt.Errorf("mqtt: publish: %w", err)
	}
	return nil
}

// Close disconnects, after Paho has sent what was published (at most 1 s).
func (t *Transporter) Close() error {
	t.mu.Lock()
	c := t.client
	if c == nil || t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.up.Store(false)
	t.subs = map[string]protocol.Topic{}
	q := t.queue
	t.mu.Unlock()
	c.Disconnect(1000)
	if q != nil {
		q.close()
	}
	return nil
}

// queue hands messages to the handler in arrival order, on a goroutine of
// its own. It never blocks the producer: a handler that publishes with QoS
// 1 or 2 waits for an acknowledgement that Paho's network goroutines must
// be free to read.
type queue struct {
	mu      sync.Mutex
	items   []item
	wake    chan struct{}
	stopped bool
}

type item struct {
	typ  protocol.PacketType
	data []byte
}

func newQueue(h transporters.Handler) *queue {
	q := &queue{wake: make(chan struct{}, 1)}
	go q.run(h)
	return q
}

func (q *queue) isStopped() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stopped
}

func (q *queue) push(typ protocol.PacketType, data []byte) {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, item{typ, data})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) run(h transporters.Handler) {
	for {
		q.mu.Lock()
		items := q.items
		q.items = nil
		stopped := q.stopped
		q.mu.Unlock()
		if stopped {
			return
		}
		for i, it := range items {
			if i > 0 && q.isStopped() {
				break
			}
			h(it.typ, it.data)
		}
		if len(items) == 0 {
			<-q.wake
		}
	}
}

// close stops the queue; messages not yet handled are dropped. It does
// not wait for a handler that runs (it may be the caller).
func (q *queue) close() {
	q.mu.Lock()
	q.stopped = true
	q.items = nil
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
