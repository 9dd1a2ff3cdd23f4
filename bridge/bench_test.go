package bridge

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	_ "github.com/molbridge/molbridge/transporters/nats"
)

func benchBroker(b *testing.B, opts Options, svcs ...Service) *Broker {
	b.Helper()
	opts.Logger = quietLogger()
	br, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range svcs {
		if err := br.AddService(s); err != nil {
			b.Fatal(err)
		}
	}
	if err := br.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = br.Stop(context.Background()) })
	return br
}

var echoService = Service{Name: "bench", Actions: []Action{
	{Name: "echo", Handler: func(ctx *Context) (any, error) { return ctx.Params, nil }},
	{Name: "add", Handler: Typed(func(ctx *Context, p addParams) (float64, error) { return p.A + p.B, nil })},
}}

// BenchmarkLocalCall measures a call of a local action, the path JS's
// "local call" figure measures.
func BenchmarkLocalCall(b *testing.B) {
	br := benchBroker(b, Options{NodeID: "bench-local"}, echoService)
	ctx := context.Background()
	params := map[string]any{"a": 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := br.Call(ctx, "bench.echo", params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocalCallMiddlewares compares a local call with every built-in
// middleware at work (params validation, bulkhead, circuit breaker, a
// request timeout, retry policy, a fallback) with one where they all stand
// aside, as BENCHMARKS.md reports.
func BenchmarkLocalCallMiddlewares(b *testing.B) {
	svc := Service{Name: "bench", Actions: []Action{{
		Name:     "add",
		Params:   Schema{"a": "number", "b": "number"},
		Fallback: func(*Context, error) (any, error) { return 0, nil },
		Handler:  func(ctx *Context) (any, error) { return 3, nil },
	}}}
	bare := svc
	bare.Actions = []Action{{Name: "add", Handler: svc.Actions[0].Handler}}
	all := Options{
		RequestTimeout: 5 * time.Second,
		CircuitBreaker: CircuitBreakerOptions{Enabled: true},
		RetryPolicy:    RetryPolicy{Enabled: true},
		Bulkhead:       BulkheadOptions{Enabled: true, Concurrency: 100},
	}
	for _, bc := range []struct {
		name string
		opts Options
		svc  Service
	}{{"none", Options{}, bare}, {"all", all, svc}} {
		b.Run(bc.name, func(b *testing.B) {
			bc.opts.NodeID = "bench-mw-" + bc.name
			br := benchBroker(b, bc.opts, bc.svc)
			ctx := context.Background()
			params := map[string]any{"a": 1, "b": 2}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := br.Call(ctx, "bench.add", params); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLocalCallTyped is a local call with typed params and result.
func BenchmarkLocalCallTyped(b *testing.B) {
	br := benchBroker(b, Options{NodeID: "bench-typed"}, echoService)
	ctx := context.Background()
	params := addParams{A: 1, B: 2}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Call[float64](ctx, br, "bench.add", params); err != nil {
			b.Fatal(err)
		}
	}
}

const natsURL = "nats://127.0.0.1:4222"

// BenchmarkNATSCall measures Go-to-Go calls over a real nats-server with 1
// and 64 calls in flight; b.N counts calls.
func BenchmarkNATSCall(b *testing.B) {
	for _, inflight := range []int{1, 64} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			ns := fmt.Sprintf("bench%d", time.Now().UnixNano())
			benchBroker(b, Options{NodeID: "bench-server", Namespace: ns, TransporterURL: natsURL}, echoService)
			client := benchBroker(b, Options{NodeID: "bench-client", Namespace: ns, TransporterURL: natsURL})
			wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := client.WaitForServices(wctx, "bench"); err != nil {
				b.Fatal(err)
			}
			params := map[string]any{"a": 1, "b": "text"}
			b.ReportAllocs()
			b.ResetTimer()
			runInFlight(b, inflight, func() error {
				_, err := client.Call(context.Background(), "bench.echo", params)
				return err
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// BenchmarkRawNATSRequest is the ceiling: nats.go request-reply with the
// same payload size and concurrency, no Moleculer on top.
func BenchmarkRawNATSRequest(b *testing.B) {
	for _, inflight := range []int{1, 64} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			srv, err := nats.Connect(natsURL)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			cli, err := nats.Connect(natsURL)
			if err != nil {
				b.Fatal(err)
			}
			defer cli.Close()
			subj := fmt.Sprintf("rawbench.%d", time.Now().UnixNano())
			sub, err := srv.Subscribe(subj, func(m *nats.Msg) { _ = m.Respond(m.Data) })
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Unsubscribe()
			_ = srv.Flush()
			payload := make([]byte, 220) // about the size of a REQ packet
			b.ResetTimer()
			runInFlight(b, inflight, func() error {
				_, err := cli.Request(subj, payload, 5*time.Second)
				return err
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// runInFlight runs b.N calls of f with n of them in flight at once.
func runInFlight(b *testing.B, n int, f func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range n {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := f(); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
}
