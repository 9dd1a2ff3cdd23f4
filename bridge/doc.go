// Package bridge is the molbridge service broker: a Moleculer node in Go.
//
// A Broker joins a Moleculer cluster through a transporter, announces its
// services to the other nodes (JS or Go), keeps a registry of theirs, and
// calls actions and emits events across the cluster with Moleculer's rules
// for contexts, meta, timeouts, errors, balancing and liveness. JS nodes
// cannot tell it from a JS node.
//
// A service is a plain value with handler functions:
//
//	b, err := bridge.New(bridge.Options{TransporterURL: "nats://127.0.0.1:4222"})
//	...
//	b.AddService(bridge.Service{
//		Name: "math",
//		Actions: []bridge.Action{{
//			Name:    "add",
//			Params:  bridge.Schema{"a": "number", "b": "number"},
//			Handler: bridge.Typed(func(ctx *bridge.Context, p struct{ A, B float64 }) (float64, error) {
//				return p.A + p.B, nil
//			}),
//		}},
//	})
//	err = b.Start(ctx)
//	sum, err := bridge.Call[float64](ctx, b, "math.add", map[string]any{"a": 1, "b": 2})
//
// # Fault tolerance and middleware
//
// The broker's fault-tolerance features are JS's, with its option names
// and defaults: Options.RequestTimeout and per-call WithTimeout (with
// distributed timeouts: a nested call gets what is left of its parent's
// budget, and RequestSkippedError when nothing is), Options.RetryPolicy,
// Options.CircuitBreaker, Options.Bulkhead, Options.MaxCallLevel, and
// fallbacks (WithFallback, WithFallbackValue, Action.Fallback). An action
// can override the broker's settings (Action.RetryPolicy, ...); they are
// published in INFO, so a JS caller applies a Go action's settings and a Go
// caller a JS action's, as JS nodes do among themselves.
//
// Each feature is a Middleware, registered after the user's ones in JS's
// order: ActionHook, Validator, Bulkhead, CircuitBreaker, Timeout, Retry, Fallback,
// ErrorHandler. A Middleware is a struct of optional hooks wrapping local
// and remote actions, event handlers, Call, Emit, Broadcast,
// BroadcastLocal and the transporter's send and receive, plus the broker's
// and services' lifecycle; the hooks fire in the order JS fires them.
//
// The broker's own events ($node.connected, $node.updated,
// $node.disconnected, $services.changed, $broker.started, $broker.stopped,
// $transporter.connected, $transporter.disconnected, $node.pong) are
// broadcast locally with JS's payloads: services listen to them as to any
// event, and code outside services with Broker.OnLocalEvent.
package bridge
