// A Go service in a Moleculer cluster: serves greeter.hello, calls a JS action.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/molbridge/molbridge/bridge"
	_ "github.com/molbridge/molbridge/transporters/nats"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	broker, err := bridge.New(bridge.Options{NodeID: "go-greeter", TransporterURL: "nats://127.0.0.1:4222"})
	if err != nil {
		log.Fatal(err)
	}
	broker.AddService(bridge.Service{Name: "greeter", Actions: []bridge.Action{{
		Name:   "hello",
		Params: bridge.Schema{"name": "string"},
		Handler: bridge.Typed(func(ctx *bridge.Context, p struct{ Name string }) (string, error) {
			return "Hello, " + p.Name + "! (from Go)", nil
		}),
	}}})
	if err := broker.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer broker.Stop(context.Background())

	// Call an action of a JS node (compat/demo.js serves jsgreeter.hello).
	broker.WaitForServices(ctx, "jsgreeter")
	answer, err := bridge.Call[string](ctx, broker, "jsgreeter.hello", map[string]any{"name": "Go"})
	fmt.Println(answer, err)
	<-ctx.Done() // serve greeter.hello until Ctrl-C
}
