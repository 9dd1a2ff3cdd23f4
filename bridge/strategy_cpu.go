package bridge

import (
	"math/rand/v2"
	"time"

	"github.com/molbridge/molbridge/internal/jsopt"
)

func init() {
	RegisterStrategy("CpuUsage", func(_ *Broker, opts map[string]any) Strategy { return NewCpuUsage(opts) })
}

// CpuUsage picks the endpoint whose node is the least busy, as JS's
// CpuUsage strategy does. It looks at sampleCount endpoints drawn at
// random (all of them, in order, when there are no more than
// sampleCount), returns the first one whose node's CPU use is below
// lowCpuUsage percent, else the lowest seen; with no CPU figure at all it
// picks at random. The figures are those of the nodes' heartbeats, this
// node's included.
type CpuUsage struct {
	sampleCount int
	lowCPU      float64
	intn        func(n int) int // random source, replaced in tests
}

// NewCpuUsage returns a CpuUsage strategy with JS's strategyOptions:
// sampleCount (default 3; 0 or less samples every endpoint) and
// lowCpuUsage (default 10).
func NewCpuUsage(opts map[string]any) *CpuUsage {
	return &CpuUsage{
		sampleCount: int(optNumber(opts, "sampleCount", 3)),
		lowCPU:      optNumber(opts, "lowCpuUsage", 10),
		intn:        rand.IntN,
	}
}

// Select returns the candidate on the least busy node among the sampled
// ones.
func (s *CpuUsage) Select(c []*Endpoint, _ *Context) *Endpoint {
	var best *Endpoint
	count := sampleSize(s.sampleCount, len(c))
	for i := range count {
		ep := c[i]
		if count != len(c) {
			ep = c[s.intn(len(c))]
		}
		cpu := ep.node.CPU
		if cpu == nil {
			continue
		}
		if *cpu < s.lowCPU {
			return ep
		}
		if best == nil || *cpu < *best.node.CPU {
			best = ep
		}
	}
	if best != nil {
		return best
	}
	return c[s.intn(len(c))]
}

// sampleSize is how many endpoints CpuUsage and Latency look at: all of
// them when sampleCount is 0 or less or at least their number.
func sampleSize(sampleCount, n int) int {
	if sampleCount <= 0 || sampleCount > n {
		return n
	}
	return sampleCount
}

// optNumber reads a number from JS strategyOptions: any Go number or a
// json.Number; def when absent or of another type.
func optNumber(opts map[string]any, key string, def float64) float64 {
	if f, ok := jsopt.GoNumber(opts[key]); ok {
		return f
	}
	return def
}

// optDuration reads a duration from JS strategyOptions: a time.Duration,
// or a number of units as JS gives it (seconds, milliseconds).
func optDuration(opts map[string]any, key string, unit, def time.Duration) time.Duration {
	if d, ok := opts[key].(time.Duration); ok {
		return d
	}
	if f, ok := jsopt.GoNumber(opts[key]); ok {
		return time.Duration(f * float64(unit))
	}
	return def
}
