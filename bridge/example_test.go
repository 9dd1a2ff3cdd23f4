package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/molbridge/molbridge/bridge"
)

// A broker without a transporter runs its services locally, as a JS broker
// without a transporter does. With TransporterURL set (and the transporter's
// package imported, e.g. transporters/nats), the same code joins a cluster.
func Example() {
	ctx := context.Background()
	b, err := bridge.New(bridge.Options{NodeID: "example", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	err = b.AddService(bridge.Service{
		Name: "greeter",
		Actions: []bridge.Action{{
			Name:   "hello",
			Params: bridge.Schema{"name": "string"},
			Handler: bridge.Typed(func(ctx *bridge.Context, p struct{ Name string }) (string, error) {
				ctx.Meta["greeted"] = p.Name
				return "Hello, " + p.Name + "!", nil
			}),
		}},
	})
	if err != nil {
		panic(err)
	}
	if err := b.Start(ctx); err != nil {
		panic(err)
	}
	defer b.Stop(ctx)

	meta := bridge.Meta{}
	msg, err := bridge.Call[string](ctx, b, "greeter.hello", map[string]any{"name": "Ada"}, bridge.WithMeta(meta))
	fmt.Println(msg, err, meta["greeted"])

	_, err = b.Call(ctx, "greeter.hello", map[string]any{"name": 42})
	var merr *bridge.Error
	if errors.As(err, &merr) {
		fmt.Println(merr.Name, merr.Code, merr.Message)
	}

	_, err = b.Call(ctx, "greeter.bye", nil)
	fmt.Println(errors.Is(err, bridge.ErrServiceNotFound), err)

	// Output:
	// Hello, Ada! <nil> Ada
	// ValidationError 422 Parameters validation error!
	// true ServiceNotFoundError: Service 'greeter.bye' is not found.
}
