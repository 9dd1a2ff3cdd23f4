package bridge

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/molbridge/molbridge/serializers"
	_ "github.com/molbridge/molbridge/serializers/json" // the default serializer
	"github.com/molbridge/molbridge/transporters"
)

// Options configure a Broker. The names and defaults are those of JS's
// ServiceBroker options; durations replace JS's seconds and milliseconds.
type Options struct {
	// NodeID must be unique in the cluster; default "<hostname>-<pid>".
	NodeID string
	// Namespace separates clusters sharing a message broker.
	Namespace string

	// Transporter connects the node to the cluster. When nil,
	// TransporterURL is resolved through the transporters registry
	// ("nats://127.0.0.1:4222", "NATS"); when both are empty the broker
	// runs alone, as a JS broker without a transporter.
	Transporter transporters.Transporter
	// TransporterURL is a JS connection string or transporter name.
	TransporterURL string
	// TransporterOptions is the JS transporter options object.
	TransporterOptions map[string]any

	// Serializer encodes packets. When nil, SerializerName is resolved
	// through the serializers registry; the default is "JSON".
	Serializer     serializers.Serializer
	SerializerName string

	// RequestTimeout limits calls that set no timeout; 0 is none.
	RequestTimeout time.Duration
	// HeartbeatInterval is the time between HEARTBEAT packets; default 10 s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is how long a silent node stays online; default 30 s.
	HeartbeatTimeout time.Duration
	// CleanOfflineNodesTimeout is how long an offline node is remembered;
	// default 10 minutes.
	CleanOfflineNodesTimeout time.Duration
	// DisableBalancer leaves balancing to the message broker (NATS, AMQP,
	// AMQP 1.0, NATS Streaming), as JS's disableBalancer.
	DisableBalancer bool
	// NoPreferLocal balances calls over all nodes even when this node
	// serves the action (JS's registry.preferLocal: false).
	NoPreferLocal bool
	// Strategy names the balancing strategy, as JS's registry.strategy:
	// "RoundRobin" (default), "Random", "CpuUsage", "Latency", "Shard",
	// or one added with RegisterStrategy. StrategyOptions are its JS
	// strategyOptions. An action or event can set its own (Action.Strategy).
	Strategy        string
	StrategyOptions map[string]any
	// StrategyFactory, when set, makes the broker's strategies in place of
	// the one Strategy names.
	StrategyFactory StrategyFactory
	// MaxCallLevel limits the depth of nested calls; 0 is no limit.
	MaxCallLevel int

	// CircuitBreaker, RetryPolicy and Bulkhead are the broker-wide fault
	// tolerance settings (JS's circuitBreaker, retryPolicy, bulkhead); an
	// action or event can override them.
	CircuitBreaker CircuitBreakerOptions
	RetryPolicy    RetryPolicy
	Bulkhead       BulkheadOptions

	// Middlewares are the user's middlewares, registered before the
	// built-in ones (see Middleware).
	Middlewares []Middleware
	// MaxQueueSize limits the calls waiting for a response; default 50000.
	MaxQueueSize int
	// StopDelay is the pause between announcing an empty service list and
	// stopping; default 100 ms.
	StopDelay time.Duration
	// Metadata is published in INFO.
	Metadata map[string]any
	// InstanceID overrides the random instance ID.
	InstanceID string
	// Logger receives the broker's logs; default slog.Default().
	Logger *slog.Logger
}

func (o *Options) applyDefaults() error {
	if o.NodeID == "" {
		host, _ := os.Hostname()
		o.NodeID = strings.ToLower(host) + "-" + strconv.Itoa(os.Getpid())
	}
	if o.Serializer == nil {
		name := o.SerializerName
		if name == "" {
			name = "JSON"
		}
		s, err := serializers.New(name)
		if err != nil {
			return err
		}
		o.Serializer = s
	}
	if o.Transporter == nil && o.TransporterURL != "" {
		t, err := transporters.New(o.TransporterURL, o.TransporterOptions)
		if err != nil {
			return err
		}
		o.Transporter = t
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.HeartbeatInterval, 10*time.Second)
	def(&o.HeartbeatTimeout, 30*time.Second)
	def(&o.CleanOfflineNodesTimeout, 10*time.Minute)
	def(&o.StopDelay, 100*time.Millisecond)
	if o.MaxQueueSize == 0 {
		o.MaxQueueSize = 50000
	}
	if o.Strategy == "" {
		o.Strategy = "RoundRobin"
	}
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.CircuitBreaker = o.CircuitBreaker.withDefaults()
	o.RetryPolicy = o.RetryPolicy.withDefaults()
	o.Bulkhead = o.Bulkhead.withDefaults()
	if o.RequestTimeout < 0 || o.MaxCallLevel < 0 {
		return fmt.Errorf("bridge: negative RequestTimeout or MaxCallLevel")
	}
	return nil
}
