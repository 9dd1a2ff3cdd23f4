package tcp

import (
	"fmt"
	"time"

	"github.com/molbridge/molbridge/internal/jsopt"
)

// Defaults of the JS options.
const (
	DefaultUDPPort        = 4445
	DefaultUDPMulticast   = "239.0.0.0"
	DefaultGossipPeriod   = 2 * time.Second
	DefaultUDPPeriod      = 30 * time.Second
	DefaultMaxConnections = 32
	DefaultMaxPacketSize  = 1 << 20
)

// Options configure the TCP transporter. OptionsFromJS maps JS's option
// names onto them; DefaultOptions gives JS's defaults.
type Options struct {
	// UDPDiscovery announces the node over UDP and listens for the
	// announcements of others (JS udpDiscovery, default true).
	UDPDiscovery bool
	// UDPPort is the UDP port listened on and sent to (udpPort, 4445).
	UDPPort int
	// UDPBindAddress binds the UDP sockets to one address instead of every
	// interface (udpBindAddress).
	UDPBindAddress string
	// UDPPeriod is the time between announcements (udpPeriod, 30 s).
	UDPPeriod time.Duration
	// UDPReuseAddr sets SO_REUSEADDR so that nodes on one host share the
	// UDP port (udpReuseAddr, true).
	UDPReuseAddr bool
	// UDPMaxDiscovery stops announcing after that many datagrams; 0 never
	// stops (udpMaxDiscovery).
	UDPMaxDiscovery int
	// UDPMulticast is the multicast group; "" disables multicast
	// (udpMulticast, "239.0.0.0").
	UDPMulticast string
	// UDPMulticastTTL is the multicast TTL (udpMulticastTTL, 1).
	UDPMulticastTTL int
	// UDPBroadcast enables broadcast discovery (udpBroadcast). The
	// datagrams go to UDPBroadcastAddresses, or, when it is empty, to the
	// directed broadcast address of every IPv4 interface (udpBroadcast:
	// true in JS; a string or array there sets the addresses).
	UDPBroadcast          bool
	UDPBroadcastAddresses []string
	// Port is the TCP port to listen on; 0 picks one, unless the urls
	// entry of this node names one (port).
	Port int
	// URLs is the static peer list (urls): a comma-separated string of
	// "host:port/nodeID", a []string or []any of them, a map from node ID
	// to "host:port", or "file://<path>". See ParseURLs.
	URLs any
	// UseHostname connects to a node's hostname rather than its first IP
	// when no source address of it is known (useHostname, true).
	UseHostname bool
	// GossipPeriod is the time between gossip requests, at least 1 s
	// (gossipPeriod, 2 s).
	GossipPeriod time.Duration
	// MaxConnections limits the outgoing connections kept open; the least
	// recently used ones are closed (maxConnections, 32).
	MaxConnections int
	// MaxPacketSize limits the bytes buffered from one inbound connection;
	// 0 is no limit (maxPacketSize, 1 MiB).
	MaxPacketSize int

	// ListenHost is the address the TCP server listens on; "" is every
	// interface, as JS (which has no such option) always does. Go only;
	// OptionsFromJS reads it from the key "listenHost", which JS ignores.
	ListenHost string
	// DialTimeout bounds a connection attempt; default 5 s. Go only.
	DialTimeout time.Duration
}

// DefaultOptions returns JS's defaults.
func DefaultOptions() Options {
	return Options{
		UDPDiscovery:    true,
		UDPPort:         DefaultUDPPort,
		UDPPeriod:       DefaultUDPPeriod,
		UDPReuseAddr:    true,
		UDPMulticast:    DefaultUDPMulticast,
		UDPMulticastTTL: 1,
		UseHostname:     true,
		GossipPeriod:    DefaultGossipPeriod,
		MaxConnections:  DefaultMaxConnections,
		MaxPacketSize:   DefaultMaxPacketSize,
		DialTimeout:     5 * time.Second,
	}
}

// OptionsFromJS reads a connection string ("tcp://host:port/nodeID,...",
// which JS takes as the urls option; "" for the bare name "TCP") and the JS
// options object.
func OptionsFromJS(url string, js map[string]any) (Options, error) {
	o := DefaultOptions()
	if url != "" {
		o.URLs = url
	}
	seconds := func(k string, v any) (time.Duration, error) {
		if v == nil {
			return 0, nil
		}
		f, ok := jsopt.Number(v)
		if !ok {
			return 0, fmt.Errorf("tcp: option %s: want seconds, got %T", k, v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	integer := func(k string, v any) (int, error) {
		if v == nil {
			return 0, nil
		}
		n, ok := jsopt.Int(v)
		if !ok {
			return 0, fmt.Errorf("tcp: option %s: want an integer, got %v", k, v)
		}
		return n, nil
	}
	var err error
	for k, v := range js {
		switch k {
		case "udpDiscovery":
			// JS tests udpDiscovery === false.
			o.UDPDiscovery = v != false
		case "udpPort":
			o.UDPPort, err = integer(k, v)
		case "udpBindAddress":
			o.UDPBindAddress, _ = jsopt.String(v)
		case "udpPeriod":
			o.UDPPeriod, err = seconds(k, v)
		case "udpReuseAddr":
			o.UDPReuseAddr = jsopt.Truthy(v)
		case "udpMaxDiscovery":
			o.UDPMaxDiscovery, err = integer(k, v)
		case "udpMulticast":
			o.UDPMulticast = ""
			if jsopt.Truthy(v) {
				s, ok := jsopt.String(v)
				if !ok {
					return o, fmt.Errorf("tcp: option udpMulticast: want an address, got %v", v)
				}
				o.UDPMulticast = s
			}
		case "udpMulticastTTL":
			o.UDPMulticastTTL, err = integer(k, v)
		case "udpBroadcast":
			o.UDPBroadcast, o.UDPBroadcastAddresses = jsopt.Truthy(v), nil
			switch x := v.(type) {
			case string, []any, []string:
				o.UDPBroadcastAddresses, _ = jsopt.Strings(x)
			}
		case "port":
			o.Port, err = integer(k, v)
		case "urls":
			o.URLs = v
		case "useHostname":
			o.UseHostname = jsopt.Truthy(v)
		case "gossipPeriod":
			o.GossipPeriod, err = seconds(k, v)
		case "maxConnections":
			o.MaxConnections, err = integer(k, v)
		case "maxPacketSize":
			o.MaxPacketSize, err = integer(k, v)
		case "listenHost": // Go only
			o.ListenHost, _ = jsopt.String(v)
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}
