package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
				ctx.Meta()["greeted"] = p.Name
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

// A middleware wraps what the broker does, as net/http middleware wraps a
// handler: here every local action is timed, and every call logged.
func ExampleMiddleware() {
	ctx := context.Background()
	logCalls := bridge.Middleware{
		Name: "log-calls",
		Call: func(next bridge.CallFunc) bridge.CallFunc {
			return func(ctx context.Context, action string, params any, o bridge.CallOptions) (bridge.Value, error) {
				fmt.Println("call", action)
				return next(ctx, action, params, o)
			}
		},
		LocalAction: func(next bridge.Handler, a *bridge.ActionSpec) bridge.Handler {
			return func(c *bridge.Context) (any, error) {
				res, err := next(c)
				fmt.Printf("%s of service %s ran: %v %v\n", a.RawName, a.Service, res, err)
				return res, err
			}
		},
	}
	b, err := bridge.New(bridge.Options{NodeID: "example", Logger: slog.New(slog.DiscardHandler),
		Middlewares: []bridge.Middleware{logCalls}})
	if err != nil {
		panic(err)
	}
	_ = b.AddService(bridge.Service{Name: "math", Actions: []bridge.Action{{
		Name:    "double",
		Handler: bridge.Typed(func(_ *bridge.Context, n int) (int, error) { return 2 * n, nil }),
	}}})
	if err := b.Start(ctx); err != nil {
		panic(err)
	}
	defer b.Stop(ctx)
	n, err := bridge.Call[int](ctx, b, "math.double", 21)
	fmt.Println(n, err)

	// Output:
	// call math.double
	// double of service math ran: 42 <nil>
	// 42 <nil>
}

// With a retry policy, a call failing with a retryable error is made again;
// a fallback answers when every attempt failed.
func ExampleRetryPolicy() {
	ctx := context.Background()
	b, err := bridge.New(bridge.Options{NodeID: "example", Logger: slog.New(slog.DiscardHandler),
		RetryPolicy: bridge.RetryPolicy{Enabled: true, Retries: 2, Delay: time.Millisecond}})
	if err != nil {
		panic(err)
	}
	attempts := 0
	_ = b.AddService(bridge.Service{Name: "flaky", Actions: []bridge.Action{{
		Name: "get",
		Handler: func(*bridge.Context) (any, error) {
			attempts++
			return nil, bridge.NewRetryableError("busy", 503, "BUSY", nil)
		},
	}}})
	if err := b.Start(ctx); err != nil {
		panic(err)
	}
	defer b.Stop(ctx)

	v, err := b.Call(ctx, "flaky.get", nil, bridge.WithFallbackValue("cached"))
	fmt.Println(v, err, attempts)

	// Output:
	// "cached" <nil> 3
}
