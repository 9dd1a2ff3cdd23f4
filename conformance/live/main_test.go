// Package live holds molbridge's live interop tests: in-process Go brokers
// and real Node.js moleculer 0.14 nodes (compat/jsnode.js) in one cluster
// over a real message broker. JS behaviour is the reference; nothing on the
// JS side is mocked.
//
// The transporter and serializer come from the environment (see
// config_test.go): MOLBRIDGE_TRANSPORTER (a JS connection string, default
// nats://127.0.0.1:4222), MOLBRIDGE_TRANSPORTER_OPTIONS (the JS transporter
// options as JSON) and MOLBRIDGE_SERIALIZER (default JSON). "molbridge
// conformance" runs the suite over every combination.
package live

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
)

// goPeerEnv, when set, turns the test binary into a Go node (see goPeerMain):
// the liveness tests need a Go node in a process of its own to kill.
const goPeerEnv = "MOLBRIDGE_LIVE_GOPEER"

func TestMain(m *testing.M) {
	c, err := loadConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "live:", err)
		os.Exit(2)
	}
	cfg = c
	if os.Getenv(goPeerEnv) != "" {
		os.Exit(goPeerMain())
	}
	if err := cfg.checkRegistered(); err != nil {
		// A cell of the conformance matrix that molbridge lacks: say so on
		// one line that "molbridge conformance" recognises, and fail.
		fmt.Printf("%s %s\n", missingPrefix, strings.ReplaceAll(err.Error(), "\n", "; "))
		os.Exit(missingExit)
	}
	fmt.Printf("live: running over %s (%s", cfg, cfg.URL)
	if cfg.Options != nil {
		fmt.Printf(", options %s", jsonString(cfg.Options))
	}
	fmt.Println(")")
	// The tests mostly wait (for heartbeats, timeouts, JS start-up), so
	// run more of them at once than there are CPUs, unless -parallel says
	// otherwise.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", strconv.Itoa(max(2*runtime.GOMAXPROCS(0), 4)))
	}
	code := m.Run()
	jsnode.KillAll()
	os.Exit(code)
}

// goPeerMain runs a Go node with the gopeer service until SIGTERM or until
// its stdin closes. Configuration comes from the environment:
// GOPEER_NODEID, GOPEER_NAMESPACE, GOPEER_HB_INTERVAL_MS, GOPEER_HB_TIMEOUT_MS.
func goPeerMain() int {
	ms := func(name string, def time.Duration) time.Duration {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return time.Duration(v) * time.Millisecond
		}
		return def
	}
	nodeID := os.Getenv("GOPEER_NODEID")
	b, err := bridge.New(bridge.Options{
		NodeID:             nodeID,
		Namespace:          os.Getenv("GOPEER_NAMESPACE"),
		TransporterURL:     cfg.URL,
		TransporterOptions: cfg.transporterOptions(),
		SerializerName:     cfg.Serializer,
		HeartbeatInterval:  ms("GOPEER_HB_INTERVAL_MS", time.Second),
		HeartbeatTimeout:   ms("GOPEER_HB_TIMEOUT_MS", 3*time.Second),
		Logger:             slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gopeer:", err)
		return 1
	}
	if err := b.AddService(bridge.Service{
		Name: "gopeer",
		Actions: []bridge.Action{
			{Name: "whoami", Handler: func(*bridge.Context) (any, error) { return nodeID, nil }},
			{Name: "echo", Handler: func(ctx *bridge.Context) (any, error) { return ctx.Params, nil }},
		},
	}); err != nil {
		fmt.Fprintln(os.Stderr, "gopeer:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gopeer: start:", err)
		return 1
	}
	fmt.Printf("READY %s\n", nodeID)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	stdinClosed := make(chan struct{})
	go func() {
		buf := make([]byte, 256)
		for {
			if _, err := os.Stdin.Read(buf); err != nil {
				close(stdinClosed)
				return
			}
		}
	}()
	select {
	case <-stop:
	case <-stdinClosed:
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = b.Stop(sctx)
	return 0
}
