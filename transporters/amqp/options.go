package amqp

import (
	"crypto/tls"
	"fmt"
	"math"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/molbridge/molbridge/internal/jsopt"
	"github.com/molbridge/molbridge/protocol"
)

// DefaultURL is the URL used when the transporter is asked for by name
// ("AMQP") or with an empty URL, as amqplib connects by default.
const DefaultURL = "amqp://guest:guest@localhost:5672"

// DefaultAutoDeleteQueues is JS's default x-expires of the node queues: two
// minutes without consumers.
const DefaultAutoDeleteQueues = 120000

// Options configure the AMQP transporter. The JS option names map onto them
// through OptionsFromJS; the zero values of the JS-named fields are not
// JS's defaults, so start from OptionsFromJS("", nil) when building Options
// by hand.
type Options struct {
	// URLs are the brokers to connect to; every connection attempt takes the
	// next one, as JS rotates through its ";"-separated url list.
	URLs []string
	// Prefetch is the per-consumer prefetch count (basic.qos); JS's default
	// is 1, 0 is unlimited.
	Prefetch int
	// EventTimeToLive (ms), when > 0, sets x-message-ttl on the EVENT and
	// EVENTB queues.
	EventTimeToLive float64
	// HeartbeatTimeToLive (ms), when > 0, sets x-message-ttl on the
	// HEARTBEAT queue.
	HeartbeatTimeToLive float64
	// AutoDeleteQueues is the x-expires (ms) of the REQ, RES, EVENT and
	// EVENTB queues; -1 leaves it out.
	AutoDeleteQueues float64
	// QueueOptions, ExchangeOptions, MessageOptions and ConsumeOptions are
	// JS's amqplib option objects, merged over the transporter's own as JS
	// merges them.
	QueueOptions, ExchangeOptions, MessageOptions, ConsumeOptions map[string]any
	// ReconnectWait is the pause between two connection attempts after the
	// connection was lost (not a JS option: JS waits 5 s).
	ReconnectWait time.Duration
	// DialTimeout bounds one connection attempt.
	DialTimeout time.Duration
	// TLSConfig is used for amqps:// URLs; nil uses the host name of the URL.
	TLSConfig *tls.Config
}

// OptionsFromJS reads a connection string and the JS transporter options
// object ({url, prefetch, eventTimeToLive, heartbeatTimeToLive,
// autoDeleteQueues, queueOptions, exchangeOptions, messageOptions,
// consumeOptions}). socketOptions has no Go counterpart and is ignored.
func OptionsFromJS(url string, js map[string]any) (Options, error) {
	o := Options{
		Prefetch:         1,
		AutoDeleteQueues: DefaultAutoDeleteQueues,
		ReconnectWait:    time.Second,
		DialTimeout:      10 * time.Second,
	}
	urls := any(url)
	if v, ok := js["url"]; ok && v != nil {
		urls = v
	}
	switch x := urls.(type) {
	case string:
		for _, s := range strings.Split(x, ";") {
			if s != "" {
				o.URLs = append(o.URLs, s)
			}
		}
	case []any:
		for _, s := range x {
			o.URLs = append(o.URLs, fmt.Sprint(s))
		}
	case []string:
		o.URLs = append(o.URLs, x...)
	default:
		return o, fmt.Errorf("amqp: option url: want a string or a list, got %T", urls)
	}
	for i, u := range o.URLs {
		if u == "" {
			o.URLs[i] = DefaultURL
		}
	}
	if len(o.URLs) == 0 {
		o.URLs = []string{DefaultURL}
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
	// JS: true → 2 minutes, a number → that, false → -1, anything else → 2
	// minutes.
	switch v := js["autoDeleteQueues"].(type) {
	case bool:
		if !v {
			o.AutoDeleteQueues = -1
		}
	default:
		if f, ok := jsopt.GoNumber(v); ok {
			o.AutoDeleteQueues = f
		}
	}
	object := func(name string) map[string]any {
		m, _ := js[name].(map[string]any)
		return m
	}
	o.QueueOptions = object("queueOptions")
	o.ExchangeOptions = object("exchangeOptions")
	o.MessageOptions = object("messageOptions")
	o.ConsumeOptions = object("consumeOptions")
	return o, nil
}

// fieldValue converts a JS value to the AMQP field-table value amqplib
// encodes it as: an integer becomes the smallest signed integer type that
// holds it (120000 is a 32-bit 'I'), other numbers a double; objects become
// tables, arrays field arrays, null void.
func fieldValue(v any) any {
	if f, ok := jsopt.GoNumber(v); ok {
		// amqplib's isFloatingPoint: fractional below 2^50, or ≥ 2^63.
		if f >= 0x8000000000000000 || (math.Abs(f) < 0x4000000000000 && math.Floor(f) != f) {
			return f
		}
		switch {
		case f >= -128 && f < 128:
			return int8(f)
		case f >= -0x8000 && f < 0x8000:
			return int16(f)
		case f >= -0x80000000 && f < 0x80000000:
			return int32(f)
		default:
			return int64(f)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		return table(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fieldValue(e)
		}
		return out
	case nil, bool, string, []byte, time.Time, amqp091.Decimal:
		return x
	}
	return fmt.Sprint(v)
}

// table converts a JS object to a field table; undefined values (absent
// here) are skipped as amqplib skips them.
func table(m map[string]any) amqp091.Table {
	t := amqp091.Table{}
	for k, v := range m {
		t[k] = fieldValue(v)
	}
	return t
}

// argTable starts a table from options.arguments and sets each named
// option that is not null or undefined under its x-argument name, as
// amqplib's api_args.js does.
func argTable(options map[string]any, names [][2]string) amqp091.Table {
	args := amqp091.Table{}
	if a, ok := options["arguments"].(map[string]any); ok {
		args = table(a)
	}
	for _, n := range names {
		if v, ok := options[n[0]]; ok && v != nil {
			args[n[1]] = fieldValue(v)
		}
	}
	return args
}

// queueDecl is a queue.declare as amqplib's assertQueue sends it.
type queueDecl struct {
	durable, autoDelete, exclusive bool
	args                           amqp091.Table
}

// queueOptions returns JS's assertQueue options object for a topic
// (_getQueueOptions of amqp.js) with queueOptions merged over it.
func (o *Options) queueOptions(topic protocol.Topic) map[string]any {
	opts := map[string]any{}
	expires := func() {
		if o.AutoDeleteQueues >= 0 {
			opts["expires"] = o.AutoDeleteQueues
		}
	}
	switch topic.Type {
	case protocol.Request:
		if topic.Kind != protocol.BalancedRequest {
			expires()
		}
	case protocol.Response:
		expires()
	case protocol.Event: // targeted and balanced alike
		expires()
		if jsopt.Truthy(o.EventTimeToLive) {
			opts["messageTtl"] = o.EventTimeToLive
		}
	case protocol.Heartbeat:
		opts["autoDelete"] = true
		if jsopt.Truthy(o.HeartbeatTimeToLive) {
			opts["messageTtl"] = o.HeartbeatTimeToLive
		}
	default: // DISCOVER, DISCONNECT, INFO, PING, PONG
		opts["autoDelete"] = true
	}
	for k, v := range o.QueueOptions {
		opts[k] = v
	}
	return opts
}

// queueDecl turns JS assertQueue options into the queue.declare fields
// amqplib sends: durable unless told otherwise, and the x-arguments.
func (o *Options) queueDecl(topic protocol.Topic) queueDecl {
	opts := o.queueOptions(topic)
	d := queueDecl{
		durable:    true,
		autoDelete: jsopt.Truthy(opts["autoDelete"]),
		exclusive:  jsopt.Truthy(opts["exclusive"]),
		args: argTable(opts, [][2]string{
			{"expires", "x-expires"},
			{"messageTtl", "x-message-ttl"},
			{"deadLetterExchange", "x-dead-letter-exchange"},
			{"deadLetterRoutingKey", "x-dead-letter-routing-key"},
			{"maxLength", "x-max-length"},
			{"maxPriority", "x-max-priority"},
			{"overflow", "x-overflow"},
			{"queueMode", "x-queue-mode"},
		}),
	}
	if v, ok := opts["durable"]; ok {
		d.durable = jsopt.Truthy(v)
	}
	return d
}

// exchangeDecl is an exchange.declare as amqplib's assertExchange sends it.
type exchangeDecl struct {
	durable, autoDelete, internal bool
	args                          amqp091.Table
}

func (o *Options) exchangeDecl() exchangeDecl {
	opts := o.ExchangeOptions
	d := exchangeDecl{
		durable:    true,
		autoDelete: jsopt.Truthy(opts["autoDelete"]),
		internal:   jsopt.Truthy(opts["internal"]),
		args:       argTable(opts, [][2]string{{"alternateExchange", "alternate-exchange"}}),
	}
	if v, ok := opts["durable"]; ok {
		d.durable = jsopt.Truthy(v)
	}
	return d
}

// consumeDecl is a basic.consume as amqplib's consume sends it.
type consumeDecl struct {
	autoAck, exclusive, noLocal bool
	args                        amqp091.Table
}

// consumeDecl returns the consume options of a topic's queue: JS consumes
// the targeted REQ queue and the balanced queues with acknowledgements and
// every other queue with noAck, and merges consumeOptions over that.
func (o *Options) consumeDecl(topic protocol.Topic) consumeDecl {
	opts := map[string]any{}
	if topic.Kind == protocol.Broadcast || topic.Kind == protocol.Targeted {
		opts["noAck"] = topic.Type != protocol.Request
	}
	for k, v := range o.ConsumeOptions {
		opts[k] = v
	}
	return consumeDecl{
		autoAck:   jsopt.Truthy(opts["noAck"]),
		exclusive: jsopt.Truthy(opts["exclusive"]),
		noLocal:   jsopt.Truthy(opts["noLocal"]),
		args:      argTable(opts, [][2]string{{"priority", "x-priority"}}),
	}
}

// publishing returns the message properties of messageOptions (amqplib's
// publish options) and its mandatory flag.
func (o *Options) publishing() (amqp091.Publishing, bool) {
	opts := o.MessageOptions
	var p amqp091.Publishing
	str := func(name string) string {
		if v, ok := opts[name]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	p.ContentType = str("contentType")
	p.ContentEncoding = str("contentEncoding")
	p.CorrelationId = str("correlationId")
	p.ReplyTo = str("replyTo")
	p.MessageId = str("messageId")
	p.Type = str("type")
	p.UserId = str("userId")
	p.AppId = str("appId")
	if v, ok := opts["expiration"]; ok && v != nil {
		if f, ok := jsopt.GoNumber(v); ok {
			p.Expiration = fmt.Sprint(int64(f))
		} else {
			p.Expiration = fmt.Sprint(v)
		}
	}
	if f, ok := jsopt.GoNumber(opts["priority"]); ok {
		p.Priority = uint8(f)
	}
	if f, ok := jsopt.GoNumber(opts["timestamp"]); ok {
		p.Timestamp = time.Unix(int64(f), 0)
	}
	if v, ok := opts["persistent"]; ok && v != nil {
		p.DeliveryMode = amqp091.Transient
		if jsopt.Truthy(v) {
			p.DeliveryMode = amqp091.Persistent
		}
	} else if f, ok := jsopt.GoNumber(opts["deliveryMode"]); ok {
		p.DeliveryMode = uint8(f)
	} else if jsopt.Truthy(opts["deliveryMode"]) {
		p.DeliveryMode = amqp091.Persistent
	}
	headers := amqp091.Table{}
	if h, ok := opts["headers"].(map[string]any); ok {
		headers = table(h)
	}
	for _, k := range []string{"CC", "BCC"} {
		switch v := opts[k].(type) {
		case nil:
		case []any:
			list := make([]any, len(v))
			for i, e := range v {
				list[i] = fmt.Sprint(e)
			}
			headers[k] = list
		default:
			headers[k] = []any{fmt.Sprint(v)}
		}
	}
	if len(headers) > 0 {
		p.Headers = headers
	}
	return p, jsopt.Truthy(opts["mandatory"])
}
