package bridge

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/molbridge/molbridge/packets"
)

// Endpoint is one node's instance of an action or an event handler, as a
// strategy sees it.
type Endpoint struct {
	// NodeID is the node that serves the endpoint.
	NodeID string
	// Local reports whether the endpoint is on this node.
	Local bool

	node    *Node
	action  *localAction  // local actions
	event   *localEvent   // local event handlers
	info    packets.Value // remote descriptor object
	handler Handler       // remote actions: the request, wrapped by the middlewares
	broken  atomic.Bool   // an open circuit breaker
}

// remoteHandler is the handler that sends a request for the endpoint's
// action through the message broker.
func (e *Endpoint) remoteHandler() Handler {
	if e.Local {
		return e.action.remote
	}
	return e.handler
}

// Node returns the node the endpoint is on.
func (e *Endpoint) Node() *Node { return e.node }

// Strategy picks one endpoint among the available ones. A strategy instance
// serves one action or event group, so it may keep state such as a counter.
type Strategy interface {
	Select(candidates []*Endpoint, ctx *Context) *Endpoint
}

// StrategyFactory makes a strategy for one endpoint list of broker b; opts
// are the JS strategyOptions. A strategy that needs to follow the cluster
// (PONG latencies, nodes joining) uses b.OnLocalEvent.
type StrategyFactory func(b *Broker, opts map[string]any) Strategy

var strategies = struct {
	sync.RWMutex
	m map[string]StrategyFactory
}{m: map[string]StrategyFactory{
	"roundrobin": func(*Broker, map[string]any) Strategy { return new(RoundRobin) },
	"random":     func(*Broker, map[string]any) Strategy { return Random{} },
}}

// RegisterStrategy makes a strategy available by name ("RoundRobin"),
// matched without regard to case.
func RegisterStrategy(name string, f StrategyFactory) {
	strategies.Lock()
	defer strategies.Unlock()
	strategies.m[strings.ToLower(name)] = f
}

// LookupStrategy returns the strategy registered under name.
func LookupStrategy(name string) (StrategyFactory, error) {
	strategies.RLock()
	defer strategies.RUnlock()
	f, ok := strategies.m[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("bridge: unknown strategy %q", name)
	}
	return f, nil
}

// RoundRobin picks the candidates in turn, as JS's RoundRobin does.
type RoundRobin struct{ counter atomic.Uint64 }

// Select returns the next candidate in turn.
func (r *RoundRobin) Select(c []*Endpoint, _ *Context) *Endpoint {
	return c[(r.counter.Add(1)-1)%uint64(len(c))]
}

// Random picks a candidate at random.
type Random struct{}

// Select returns a random candidate.
func (Random) Select(c []*Endpoint, _ *Context) *Endpoint { return c[rand.IntN(len(c))] }

// endpointStrategy makes the strategy of a new endpoint list: the one that
// the definition of its first endpoint names, else def; with the
// definition's strategyOptions, else the broker's (JS's action and event
// catalogs).
func (b *Broker) endpointStrategy(def StrategyFactory, first *Endpoint) Strategy {
	var name string
	var opts map[string]any
	switch {
	case first.action != nil:
		name, opts = first.action.def.Strategy, first.action.def.StrategyOptions
	case first.event != nil:
		name, opts = first.event.def.Strategy, first.event.def.StrategyOptions
	default:
		strategy, _ := first.info.Field("strategy").Interface()
		name = strategyName(strategy)
		opts, _ = first.info.Field("strategyOptions").Map()
	}
	f := def
	if name != "" {
		var err error
		if f, err = LookupStrategy(name); err != nil {
			b.log.Warn("Unknown strategy in a remote definition; using the broker's.", "strategy", name, "node", first.NodeID)
			f = def
		}
	}
	if opts == nil {
		opts = b.opts.StrategyOptions
	}
	return f(b, opts)
}

// strategyName reads a descriptor's strategy: a name, or JS's
// {type: name} form.
func strategyName(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case map[string]any:
		name, _ := s["type"].(string)
		return name
	}
	return ""
}

// strategyDescriptor checks an action's or event's strategy and adds it to
// its INFO descriptor. Options JSON cannot carry (a func shardKey) are
// left out, as JSON.stringify leaves out JS functions.
func strategyDescriptor(desc map[string]any, name string, opts map[string]any) error {
	if name != "" {
		if _, err := LookupStrategy(name); err != nil {
			return err
		}
		desc["strategy"] = name
	}
	if opts != nil {
		pub := make(map[string]any, len(opts))
		for k, v := range opts {
			if v != nil && reflect.TypeOf(v).Kind() == reflect.Func {
				continue
			}
			pub[k] = v
		}
		desc["strategyOptions"] = pub
	}
	return nil
}
