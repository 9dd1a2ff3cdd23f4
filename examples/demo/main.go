// Command demo is the Go half of molbridge's demo: a Go node and a JS node
// (compat/demo.js) that call each other over the TCP transporter, with no
// message broker: each node knows the other's address from a static list,
// and both listen on 127.0.0.1 only. scripts/demo.sh runs both; by hand:
//
//	node compat/demo.js &
//	go run ./examples/demo
//
// The Go node serves gogreeter.hello, waits for the JS service jsgreeter,
// calls jsgreeter.hello, waits until the JS node has called gogreeter.hello,
// then stops; the JS node stops when it sees the Go node leave.
//
// Environment: TRANSPORTER (a JS connection string, e.g.
// "nats://127.0.0.1:4222", to use a broker instead of TCP), NAMESPACE (""),
// DEMO_TIMEOUT (seconds to wait for the JS node, 60).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/transporters"
	_ "github.com/molbridge/molbridge/transporters/nats"
	"github.com/molbridge/molbridge/transporters/tcp"
)

const nodeID = "go-demo"

// tcpURLs is the static node list both demo nodes use (compat/demo.js has
// the same): each node listens on its own entry's port.
var tcpURLs = []string{"127.0.0.1:4501/go-demo", "127.0.0.1:4502/js-demo"}

// transporter returns the TCP transporter on loopback, or the one named by
// TRANSPORTER.
func transporter() (transporters.Transporter, error) {
	if url := os.Getenv("TRANSPORTER"); url != "" {
		return transporters.New(url, nil)
	}
	o, err := tcp.OptionsFromJS("", map[string]any{"udpDiscovery": false, "urls": toAny(tcpURLs)})
	if err != nil {
		return nil, err
	}
	o.ListenHost = "127.0.0.1"
	return tcp.New(o), nil
}

func toAny(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

func main() { os.Exit(run()) }

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func say(format string, args ...any) { fmt.Printf("[go] "+format+"\n", args...) }

func run() int {
	timeout, err := strconv.Atoi(getenv("DEMO_TIMEOUT", "60"))
	if err != nil || timeout <= 0 {
		fmt.Fprintln(os.Stderr, "demo: DEMO_TIMEOUT must be a positive number of seconds")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, time.Duration(timeout)*time.Second)
	defer cancel()

	tr, err := transporter()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	broker, err := bridge.New(bridge.Options{
		NodeID:      nodeID,
		Namespace:   os.Getenv("NAMESPACE"),
		Transporter: tr,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}

	calledBy := make(chan string, 1) // the node that called gogreeter.hello
	err = broker.AddService(bridge.Service{
		Name: "gogreeter",
		Actions: []bridge.Action{{
			Name:   "hello",
			Params: bridge.Schema{"name": "string"},
			Handler: bridge.Typed(func(ctx *bridge.Context, p struct{ Name string }) (string, error) {
				say("serving gogreeter.hello for node %s", ctx.NodeID)
				select {
				case calledBy <- ctx.NodeID:
				default:
				}
				return fmt.Sprintf("Hello, %s! (from Go node %s, %s)", p.Name, nodeID, runtime.Version()), nil
			}),
		}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	if err := broker.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo: cannot join the cluster:", err)
		fmt.Fprintln(os.Stderr, "demo: is NATS running? scripts/brokers.sh nats starts it")
		return 1
	}
	defer func() {
		say("stopping the Go node.")
		_ = broker.Stop(context.Background())
	}()
	say("node %s started; waiting for the JS service jsgreeter (compat/demo.js)...", nodeID)

	if err := broker.WaitForServices(ctx, "jsgreeter"); err != nil {
		fmt.Fprintf(os.Stderr, "demo: no JS node served jsgreeter within %ds; is compat/demo.js running (node compat/demo.js)?\n", timeout)
		return 1
	}
	answer, err := bridge.Call[string](ctx, broker, "jsgreeter.hello", map[string]any{"name": "Go"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo: jsgreeter.hello failed:", err)
		return 1
	}
	say("Go called JS: jsgreeter.hello({name: \"Go\"}) -> %q", answer)

	select {
	case <-calledBy:
	case <-ctx.Done():
		fmt.Fprintf(os.Stderr, "demo: the JS node did not call gogreeter.hello within %ds\n", timeout)
		return 1
	}
	// Let the answer reach the JS node before this one announces it leaves.
	time.Sleep(200 * time.Millisecond)
	say("demo done: Go and JS called each other.")
	return 0
}
