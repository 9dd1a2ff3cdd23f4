package bridge

import (
	"fmt"
	"testing"

	"github.com/molbridge/molbridge/packets"
)

// BenchmarkStrategySelect measures one pick among 10 endpoints.
func BenchmarkStrategySelect(b *testing.B) {
	eps := make([]*Endpoint, 10)
	for i := range eps {
		cpu := float64(20 + i)
		id := fmt.Sprint("node-", i)
		eps[i] = &Endpoint{NodeID: id, node: &Node{ID: id, CPU: &cpu, Hostname: fmt.Sprint("host-", i), Available: true}}
	}
	lat := newLatency(nil, nil)
	lat.table = &latencyTable{avg: map[string]float64{}}
	for i := range eps {
		lat.table.avg[fmt.Sprint("host-", i)] = float64(20 + i)
	}
	keyed := &Context{Params: packets.ValueOf(map[string]any{"key": "user-42"})}
	for _, c := range []struct {
		name string
		s    Strategy
		ctx  *Context
	}{
		{"RoundRobin", new(RoundRobin), nil},
		{"Random", Random{}, nil},
		{"CpuUsage", NewCpuUsage(nil), nil},
		{"Latency", lat, nil},
		{"Shard/cached", NewShard(nil, map[string]any{"shardKey": "key"}), keyed},
		{"Shard/uncached", NewShard(nil, map[string]any{"shardKey": "key", "cacheSize": 0}), keyed},
		{"Shard/nokey", NewShard(nil, map[string]any{"shardKey": "key"}), &Context{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if c.s.Select(eps, c.ctx) == nil {
					b.Fatal("no endpoint")
				}
			}
		})
	}
}
