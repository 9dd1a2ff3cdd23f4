package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/peer"
	_ "github.com/molbridge/molbridge/transporters/nats"
)

// peerConfig is the configuration of `molbridge peer`.
type peerConfig struct {
	Transporter        string
	Serializer         string
	NodeID             string
	Namespace          string
	DisableBalancer    bool
	HeartbeatInterval  float64 // seconds
	HeartbeatTimeout   float64 // seconds
	RequestTimeout     float64 // milliseconds
	TransporterOptions string  // a JSON object
	LogLevel           string
	ExitOnStdinEOF     bool
}

// peerEnv maps each flag to the environment variables read when the flag is
// not given: the moleculer runner's names first, then the aliases that
// compat/jsnode.js also accepts.
var peerEnv = map[string][]string{
	"transporter":         {"TRANSPORTER"},
	"serializer":          {"SERIALIZER"},
	"node-id":             {"NODEID"},
	"namespace":           {"NAMESPACE"},
	"disable-balancer":    {"DISABLEBALANCER", "DISABLE_BALANCER"},
	"heartbeat-interval":  {"HEARTBEATINTERVAL", "HEARTBEAT_INTERVAL"},
	"heartbeat-timeout":   {"HEARTBEATTIMEOUT", "HEARTBEAT_TIMEOUT"},
	"request-timeout":     {"REQUESTTIMEOUT", "REQUEST_TIMEOUT"},
	"transporter-options": {"TRANSPORTER_OPTIONS"},
	"log-level":           {"LOGLEVEL"},
	"exit-on-stdin-eof":   {"EXIT_ON_STDIN_EOF"},
}

const peerUsage = `Usage: molbridge peer [flags]

Runs a Go node hosting the conformance catalog: the services gopeer
(echo, add, fail, sleep, call, emit, received, reset; events conformance.**
in group gopeer), gopeer-audit (events conformance.** in group gopeer-audit)
and v2.gopeer (echo). It prints "READY <nodeID>" on stdout once started;
logs go to stderr. SIGTERM or SIGINT stops it gracefully, with exit code 0.

Each flag falls back to the environment variable in brackets (the moleculer
runner's names), then to its default.

Flags:
`

// parsePeerConfig reads the flags, then the environment for the flags not
// given.
func parsePeerConfig(args []string, getenv func(string) string, stderr io.Writer) (*peerConfig, error) {
	var c peerConfig
	fs := flag.NewFlagSet("molbridge peer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, text string) string {
		return text + " [" + strings.Join(peerEnv[name], ", ") + "]"
	}
	fs.StringVar(&c.Transporter, "transporter", "nats://127.0.0.1:4222", env("transporter", "transporter `URL` or name"))
	fs.StringVar(&c.Serializer, "serializer", "JSON", env("serializer", "serializer `name`"))
	fs.StringVar(&c.NodeID, "node-id", "", env("node-id", "node `ID` (default <hostname>-<pid>)"))
	fs.StringVar(&c.Namespace, "namespace", "", env("namespace", "cluster `namespace`"))
	fs.BoolVar(&c.DisableBalancer, "disable-balancer", false, env("disable-balancer", "leave balancing to the message broker"))
	fs.Float64Var(&c.HeartbeatInterval, "heartbeat-interval", 10, env("heartbeat-interval", "`seconds` between heartbeats"))
	fs.Float64Var(&c.HeartbeatTimeout, "heartbeat-timeout", 30, env("heartbeat-timeout", "`seconds` before a silent node is offline"))
	fs.Float64Var(&c.RequestTimeout, "request-timeout", 0, env("request-timeout", "default call timeout in `ms`, 0 for none"))
	fs.StringVar(&c.TransporterOptions, "transporter-options", "", env("transporter-options", "transporter options as a `JSON` object"))
	fs.StringVar(&c.LogLevel, "log-level", "warn", env("log-level", "debug, info, warn, error or none"))
	fs.BoolVar(&c.ExitOnStdinEOF, "exit-on-stdin-eof", false, env("exit-on-stdin-eof", "stop when stdin closes (for a parent process that holds it)"))
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), peerUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		for _, name := range peerEnv[f.Name] {
			if v := getenv(name); v != "" {
				if err := fs.Set(f.Name, v); err != nil {
					errs = append(errs, fmt.Errorf("environment %s=%q: %v", name, v, err))
				}
				break
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if c.HeartbeatInterval < 0 || c.HeartbeatTimeout < 0 || c.RequestTimeout < 0 {
		return nil, errors.New("heartbeat and request timeouts must not be negative")
	}
	if _, err := parseLogLevel(c.LogLevel); err != nil {
		return nil, err
	}
	return &c, nil
}

// parseLogLevel returns the slog level of a moleculer log level name; "none"
// is above every level.
func parseLogLevel(s string) (lvl slog.Level, err error) {
	switch strings.ToLower(s) {
	case "trace", "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "fatal":
		return slog.LevelError, nil
	case "none", "off", "false":
		return slog.LevelError + 100, nil
	}
	return 0, fmt.Errorf("log level %q: want debug, info, warn, error or none", s)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// brokerOptions turns the configuration into broker options.
func (c *peerConfig) brokerOptions(stderr io.Writer) (bridge.Options, error) {
	lvl, err := parseLogLevel(c.LogLevel)
	if err != nil {
		return bridge.Options{}, err
	}
	o := bridge.Options{
		NodeID:            c.NodeID,
		Namespace:         c.Namespace,
		TransporterURL:    c.Transporter,
		SerializerName:    c.Serializer,
		DisableBalancer:   c.DisableBalancer,
		HeartbeatInterval: seconds(c.HeartbeatInterval),
		HeartbeatTimeout:  seconds(c.HeartbeatTimeout),
		RequestTimeout:    time.Duration(c.RequestTimeout * float64(time.Millisecond)),
		Logger:            slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})),
	}
	if c.TransporterOptions != "" {
		if err := json.Unmarshal([]byte(c.TransporterOptions), &o.TransporterOptions); err != nil || o.TransporterOptions == nil {
			return o, fmt.Errorf("transporter options must be a JSON object: %q", c.TransporterOptions)
		}
	}
	return o, nil
}

func runPeer(args []string, s stdio) int {
	c, err := parsePeerConfig(args, s.getenv, s.stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(s.stderr, "molbridge peer: %v\n", err)
		return 2
	}
	opts, err := c.brokerOptions(s.stderr)
	if err != nil {
		fmt.Fprintf(s.stderr, "molbridge peer: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if c.ExitOnStdinEOF && s.stdin != nil {
		ctx2, cancel := context.WithCancel(ctx)
		defer cancel()
		ctx = ctx2
		go func() {
			_, _ = io.Copy(io.Discard, s.stdin)
			cancel()
		}()
	}

	b, err := bridge.New(opts)
	if err != nil {
		fmt.Fprintf(s.stderr, "molbridge peer: %v\n", err)
		return 1
	}
	if err := peer.New().Register(b); err != nil {
		fmt.Fprintf(s.stderr, "molbridge peer: %v\n", err)
		return 1
	}
	if err := b.Start(ctx); err != nil {
		fmt.Fprintf(s.stderr, "molbridge peer: start: %v\n", err)
		return 1
	}
	fmt.Fprintf(s.stdout, "READY %s\n", b.NodeID())

	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Stop(stopCtx); err != nil {
		// The node has left the cluster all the same; report and exit 0.
		fmt.Fprintf(s.stderr, "molbridge peer: stop: %v\n", err)
	}
	return 0
}
