package bridge_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/molbridge/molbridge/bridge"
)

// Mixins share definitions between services, merged as moleculer merges
// them: the service's settings, actions and methods win over the mixin's,
// while event handlers and lifecycle handlers of both run, the mixin's
// first (Stopped: the service's first).
func ExampleService_mixins() {
	ctx := context.Background()
	b, err := bridge.New(bridge.Options{NodeID: "example", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	greeter := bridge.Service{
		Settings: map[string]any{"greeting": "Hello", "punctuation": "!"},
		Methods: map[string]any{
			"format": func(greeting, name, punctuation string) string { return greeting + ", " + name + punctuation },
		},
		Actions: []bridge.Action{
			{Name: "hello", Handler: func(ctx *bridge.Context) (any, error) {
				svc := ctx.ServiceHandle() // the service the mixin is merged into
				format := svc.Method("format").(func(string, string, string) string)
				s := svc.Settings()
				return format(s["greeting"].(string), svc.Name(), s["punctuation"].(string)), nil
			}},
			{Name: "debug", Handler: func(*bridge.Context) (any, error) { return "debug", nil }},
		},
		Started: func(context.Context, *bridge.ServiceHandle) error {
			fmt.Println("mixin started")
			return nil
		},
	}
	err = b.AddService(bridge.Service{
		Name:     "ada",
		Version:  2,
		Mixins:   []bridge.Service{greeter},
		Settings: map[string]any{"greeting": "Hi"},
		Actions:  []bridge.Action{{Name: "debug", Disabled: true}},
		Started: func(_ context.Context, svc *bridge.ServiceHandle) error {
			fmt.Println(svc.FullName(), "started")
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	if err := b.Start(ctx); err != nil {
		panic(err)
	}
	defer b.Stop(ctx)

	msg, err := bridge.Call[string](ctx, b, "v2.ada.hello", nil)
	fmt.Println(msg, err)
	_, err = b.Call(ctx, "v2.ada.debug", nil)
	fmt.Println(err)

	// Output:
	// mixin started
	// v2.ada started
	// Hi, ada! <nil>
	// ServiceNotFoundError: Service 'v2.ada.debug' is not found.
}
