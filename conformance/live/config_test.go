package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/molbridge/molbridge/serializers"
	_ "github.com/molbridge/molbridge/serializers/all"
	"github.com/molbridge/molbridge/transporters"
	_ "github.com/molbridge/molbridge/transporters/all"
)

// The environment that chooses what the suite runs over. Every node of
// every test, Go and JS, uses the same transporter, options and serializer.
const (
	// envTransporter is a JS connection string ("redis://127.0.0.1:6379")
	// or transporter name ("TCP").
	envTransporter = "MOLBRIDGE_TRANSPORTER"
	// envTransporterOptions is the JS transporter options object, as JSON
	// (e.g. {"topicPrefix":"/topic/"} for AMQP 1.0 on RabbitMQ).
	envTransporterOptions = "MOLBRIDGE_TRANSPORTER_OPTIONS"
	// envSerializer is the JS serializer name ("JSON", "MsgPack", ...).
	envSerializer = "MOLBRIDGE_SERIALIZER"

	defaultTransporter = "nats://127.0.0.1:4222"
	defaultSerializer  = "JSON"
)

// missingExit is the exit code of a test binary whose transporter or
// serializer is not registered (the "missing" cells of molbridge
// conformance); missingPrefix starts the line that says which.
const (
	missingExit   = 3
	missingPrefix = "MOLBRIDGE-LIVE-MISSING:"
)

// liveConfig is what the suite runs over.
type liveConfig struct {
	// URL is the JS connection string or transporter name.
	URL string
	// Options is the JS transporter options object (nil for none).
	Options map[string]any
	// Serializer is the JS serializer name.
	Serializer string
	// Kind is JS's transporter name: NATS, Redis, MQTT, AMQP, AMQP10,
	// TCP, Kafka or STAN.
	Kind string
}

// cfg is loaded by TestMain (and by a Go peer child process).
var cfg = liveConfig{URL: defaultTransporter, Serializer: defaultSerializer, Kind: "NATS"}

// kinds maps URL schemes and names (lower case) to JS transporter names.
var kinds = map[string]string{
	"nats": "NATS", "redis": "Redis", "rediss": "Redis", "mqtt": "MQTT", "mqtts": "MQTT",
	"amqp": "AMQP", "amqps": "AMQP", "amqp10": "AMQP10", "tcp": "TCP", "kafka": "Kafka", "stan": "STAN",
}

func loadConfig() (liveConfig, error) {
	c := liveConfig{URL: os.Getenv(envTransporter), Serializer: os.Getenv(envSerializer)}
	if c.URL == "" {
		c.URL = defaultTransporter
	}
	if c.Serializer == "" {
		c.Serializer = defaultSerializer
	}
	if raw := strings.TrimSpace(os.Getenv(envTransporterOptions)); raw != "" {
		if err := json.Unmarshal([]byte(raw), &c.Options); err != nil || c.Options == nil {
			return c, fmt.Errorf("%s must be a JSON object: %q", envTransporterOptions, raw)
		}
	}
	scheme, _, _ := strings.Cut(strings.ToLower(c.URL), "://")
	c.Kind = kinds[scheme]
	if c.Kind == "" {
		return c, fmt.Errorf("%s=%q: not a transporter JS knows (schemes and names: nats, redis, mqtt, amqp, amqp10, tcp, kafka, stan)",
			envTransporter, c.URL)
	}
	return c, nil
}

// checkRegistered reports a transporter or serializer that molbridge does
// not have (yet).
func (c liveConfig) checkRegistered() error {
	var errs []error
	if _, err := transporters.New(c.URL, c.Options); err != nil {
		if strings.Contains(err.Error(), "no transporter for") {
			err = fmt.Errorf("transporter %s is not registered (transporters/all has %s)", c.Kind, strings.Join(transporters.Names(), ", "))
		} else {
			err = fmt.Errorf("transporter %s: %w", c.Kind, err)
		}
		errs = append(errs, err)
	}
	if _, err := serializers.New(c.Serializer); err != nil {
		errs = append(errs, fmt.Errorf("serializer %s is not registered: %w", c.Serializer, err))
	}
	return errors.Join(errs...)
}

// String names the cell, e.g. "Redis × MsgPack".
func (c liveConfig) String() string { return c.Kind + " × " + c.Serializer }

// builtInBalancer: the transporters on which JS honours disableBalancer
// (hasBuiltInBalancer); on the others JS forces it back to false.
func (c liveConfig) builtInBalancer() bool {
	switch c.Kind {
	case "NATS", "AMQP", "AMQP10", "STAN":
		return true
	}
	return false
}

// canInject reports whether a bare transporter connection can publish
// packets into the cluster. On TCP there is no broker: packets travel on
// sockets between nodes that know each other through gossip, so only a
// full node can send anything.
func (c liveConfig) canInject() bool { return c.Kind != "TCP" }

// whyNoInject is why canInject is false.
const whyNoInject = "TCP is point-to-point: there is no message broker to publish raw packets to, only sockets between nodes that found each other through gossip"

// canSniffOthers reports whether a bare connection can see the packets
// addressed to another node without taking them away from it. On AMQP and
// AMQP 1.0 a node's targeted topics are work queues: a second consumer
// would get some of its packets instead of it. On TCP they travel on a
// socket between the two nodes.
func (c liveConfig) canSniffOthers() bool {
	switch c.Kind {
	case "AMQP", "AMQP10", "TCP":
		return false
	}
	return true
}

// whyNoSniff is why canSniffOthers is false.
func (c liveConfig) whyNoSniff() string {
	if c.Kind == "TCP" {
		return "TCP is point-to-point: packets between two nodes travel on their own socket and nothing else can see them"
	}
	return c.Kind + " delivers a node's targeted packets through a work queue: a second consumer would take packets away from the node instead of seeing a copy"
}

// offlineOnSocketEnd reports whether a killed node is marked offline as
// soon as the connection to it ends, before any heartbeat timeout: on TCP
// JS does so itself (its writer's "end" and "error" call
// nodes.disconnected), and so does Go.
func (c liveConfig) offlineOnSocketEnd() bool { return c.Kind == "TCP" }

// whyOfflineOnSocketEnd is why offlineOnSocketEnd is true.
const whyOfflineOnSocketEnd = "TCP is point-to-point: JS (and Go) mark a node offline as soon as the socket to it ends, which a killed node's does at once, not after the heartbeat timeout"

// notApplicable logs, in a form the conformance report collects, that part
// of a test does not apply on this cell and why.
func notApplicable(t *testing.T, what, because string) {
	t.Helper()
	t.Logf("NOT APPLICABLE on %s: %s: %s", cfg, what, because)
}

// brokerAddr is the host:port of the message broker, or "" when there is
// none to check (TCP) or the URL names none.
func (c liveConfig) brokerAddr() string {
	if c.Kind == "TCP" || !strings.Contains(c.URL, "://") {
		return ""
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return ""
	}
	if u.Port() != "" {
		return u.Host
	}
	return ""
}

// checkBroker fails when the message broker does not accept connections.
func (c liveConfig) checkBroker() error {
	addr := c.brokerAddr()
	if addr == "" {
		return nil
	}
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return fmt.Errorf("no %s broker on %s (start one with scripts/brokers.sh): %w", c.Kind, addr, err)
	}
	return conn.Close()
}

// jsEnv is extra jsnode.js environment for the transporter: on TCP the JS
// nodes listen on loopback only (moleculer has no bind-address option).
func (c liveConfig) jsEnv() map[string]string {
	if c.Kind == "TCP" {
		return map[string]string{"LISTEN_HOST": "127.0.0.1"}
	}
	return nil
}

// transporterOptions returns a copy of the options for one node, so that no
// transporter can change another node's.
func (c liveConfig) transporterOptions() map[string]any {
	if c.Options == nil {
		return nil
	}
	b, _ := json.Marshal(c.Options)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}
