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
package bridge
