package amqp10

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"time"

	amqp "github.com/Azure/go-amqp"

	"github.com/molbridge/molbridge/internal/jsopt"
	"github.com/molbridge/molbridge/protocol"
)

// DefaultURL is JS's default connection string.
const DefaultURL = "amqp10://guest:guest@localhost:5672"

// DefaultTopicPrefix is JS's default address prefix of broadcast topics.
// RabbitMQ does not know it: use "/topic/" there.
const DefaultTopicPrefix = "topic://"

// autoCreditWindow is rhea's default credit window, used by JS for the
// broadcast and balanced-event receivers (and all receivers when prefetch
// is 0).
const autoCreditWindow = 1000

// Options configure the AMQP 1.0 transporter. The JS option names map onto
// them through OptionsFromJS; start from OptionsFromJS("", nil) when building
// Options by hand.
type Options struct {
	// Host, Port, Username and Password come from the amqp10:// URL and
	// connectionOptions. Without a username the connection uses SASL
	// ANONYMOUS.
	Host               string
	Port               int
	Username, Password string
	// HostName is sent in the AMQP open frame; default Host.
	HostName string
	// IdleTimeout is the connection's idle timeout (connectionOptions
	// idle_time_out, ms); 0 keeps go-amqp's default.
	IdleTimeout time.Duration
	// TopicPrefix is put before broadcast topic names to make their
	// addresses; JS's default is "topic://", RabbitMQ needs "/topic/".
	TopicPrefix string
	// Prefetch is the link credit of the targeted and balanced-request
	// receivers, renewed one by one as messages are handled; 0 uses a
	// credit window of 1000, as rhea does.
	Prefetch int
	// EventTimeToLive and HeartbeatTimeToLive (ms), when > 0, are the TTL of
	// EVENT and HEARTBEAT messages.
	EventTimeToLive, HeartbeatTimeToLive float64
	// MessageOptions are rhea message fields set on every message (durable,
	// priority, ttl, subject, application_properties, ...).
	MessageOptions map[string]any
	// ReconnectWait is the pause between two connection attempts after the
	// connection was lost (not a JS option: JS waits 5 s).
	ReconnectWait time.Duration
	// DialTimeout bounds one connection attempt.
	DialTimeout time.Duration
	// MaxSenders bounds the cache of sender links (one per address).
	MaxSenders int
}

// OptionsFromJS reads a connection string and the JS transporter options
// object ({url, topicPrefix, prefetch, eventTimeToLive,
// heartbeatTimeToLive, connectionOptions, messageOptions}). queueOptions and
// topicOptions are rhea link options with no go-amqp counterpart and are
// ignored.
func OptionsFromJS(spec string, js map[string]any) (Options, error) {
	o := Options{
		TopicPrefix:   DefaultTopicPrefix,
		Prefetch:      1,
		ReconnectWait: time.Second,
		DialTimeout:   10 * time.Second,
		MaxSenders:    512,
	}
	if s, ok := js["url"].(string); ok && s != "" {
		spec = s
	}
	if spec == "" {
		spec = DefaultURL
	}
	u, err := url.Parse(spec)
	if err != nil {
		return o, fmt.Errorf("amqp10: url: %w", err)
	}
	o.Host = u.Hostname()
	o.Port = 5672
	if p := u.Port(); p != "" {
		if o.Port, err = strconv.Atoi(p); err != nil {
			return o, fmt.Errorf("amqp10: url port: %w", err)
		}
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	if c, ok := js["connectionOptions"].(map[string]any); ok {
		for k, v := range c {
			switch k {
			case "host":
				o.Host = fmt.Sprint(v)
			case "hostname":
				o.HostName = fmt.Sprint(v)
			case "port":
				if f, ok := jsopt.GoNumber(v); ok {
					o.Port = int(f)
				}
			case "username":
				o.Username = fmt.Sprint(v)
			case "password":
				o.Password = fmt.Sprint(v)
			case "idle_time_out":
				if f, ok := jsopt.GoNumber(v); ok {
					o.IdleTimeout = time.Duration(f) * time.Millisecond
				}
			}
		}
	}
	if s, ok := js["topicPrefix"].(string); ok {
		o.TopicPrefix = s
	}
	if f, ok := jsopt.GoNumber(js["prefetch"]); ok {
		o.Prefetch = int(f)
	}
	if f, ok := jsopt.GoNumber(js["eventTimeToLive"]); ok {
		o.EventTimeToLive = f
	}
	if f, ok := jsopt.GoNumber(js["heartbeatTimeToLive"]); ok {
		o.HeartbeatTimeToLive = f
	}
	o.MessageOptions, _ = js["messageOptions"].(map[string]any)
	return o, nil
}

// addr is the go-amqp dial address (credentials go through SASL options).
func (o *Options) addr() string {
	return "amqp://" + net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
}

// message builds the message JS sends for a packet type: the body as an
// AMQP-value section holding binary (what rhea makes of a Buffer body, and
// the only form JS can decode), messageOptions, and the type's TTL unless
// messageOptions sets one.
func (o *Options) message(typ protocol.PacketType, data []byte) *amqp.Message {
	m := &amqp.Message{Value: data}
	opts := o.MessageOptions
	var ttl float64
	switch typ {
	case protocol.Event:
		if jsopt.Truthy(o.EventTimeToLive) {
			ttl = o.EventTimeToLive
		}
	case protocol.Heartbeat:
		if jsopt.Truthy(o.HeartbeatTimeToLive) {
			ttl = o.HeartbeatTimeToLive
		}
	}
	if f, ok := jsopt.GoNumber(opts["ttl"]); ok {
		ttl = f
	}
	header := func() *amqp.MessageHeader {
		if m.Header == nil {
			m.Header = &amqp.MessageHeader{Priority: 4}
		}
		return m.Header
	}
	if ttl > 0 {
		header().TTL = time.Duration(ttl) * time.Millisecond
	}
	if jsopt.Truthy(opts["durable"]) {
		header().Durable = true
	}
	if f, ok := jsopt.GoNumber(opts["priority"]); ok {
		header().Priority = uint8(f)
	}
	if jsopt.Truthy(opts["first_acquirer"]) {
		header().FirstAcquirer = true
	}
	props := func() *amqp.MessageProperties {
		if m.Properties == nil {
			m.Properties = &amqp.MessageProperties{}
		}
		return m.Properties
	}
	str := func(name string) *string {
		if v, ok := opts[name]; ok && v != nil {
			s := fmt.Sprint(v)
			return &s
		}
		return nil
	}
	id := func(v any) any {
		if f, ok := jsopt.GoNumber(v); ok && f >= 0 && f == math.Trunc(f) {
			return uint64(f)
		}
		return fmt.Sprint(v)
	}
	if v, ok := opts["message_id"]; ok && v != nil {
		props().MessageID = id(v)
	}
	if v, ok := opts["correlation_id"]; ok && v != nil {
		props().CorrelationID = id(v)
	}
	if s := str("user_id"); s != nil {
		props().UserID = []byte(*s)
	}
	if s := str("to"); s != nil {
		props().To = s
	}
	if s := str("subject"); s != nil {
		props().Subject = s
	}
	if s := str("reply_to"); s != nil {
		props().ReplyTo = s
	}
	if s := str("content_type"); s != nil {
		props().ContentType = s
	}
	if s := str("content_encoding"); s != nil {
		props().ContentEncoding = s
	}
	if s := str("group_id"); s != nil {
		props().GroupID = s
	}
	if ap, ok := opts["application_properties"].(map[string]any); ok {
		m.ApplicationProperties = ap
	}
	if ma, ok := opts["message_annotations"].(map[string]any); ok {
		m.Annotations = amqp.Annotations{}
		for k, v := range ma {
			m.Annotations[k] = v
		}
	}
	return m
}

// body returns a received message's payload: the binary of an AMQP-value
// section (what JS sends) or the concatenated Data sections.
func body(m *amqp.Message) ([]byte, bool) {
	switch v := m.Value.(type) {
	case []byte:
		return v, true
	case string:
		return []byte(v), true
	}
	if len(m.Data) == 1 {
		return m.Data[0], true
	}
	if len(m.Data) > 1 {
		var b []byte
		for _, d := range m.Data {
			b = append(b, d...)
		}
		return b, true
	}
	return nil, false
}
