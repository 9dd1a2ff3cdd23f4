package bridge

import (
	"testing"
)

func cpuEndpoints(cpus ...any) []*Endpoint {
	eps := make([]*Endpoint, len(cpus))
	for i, c := range cpus {
		id := string(rune('a' + i))
		n := &Node{ID: id, Available: true}
		if c != nil {
			f := float64(c.(int))
			n.CPU = &f
		}
		eps[i] = &Endpoint{NodeID: id, node: n}
	}
	return eps
}

// picks returns a random source that yields the given indexes in turn and
// fails the test when it runs out.
func picks(t *testing.T, idx ...int) func(int) int {
	return func(n int) int {
		t.Helper()
		if len(idx) == 0 {
			t.Fatal("more random picks than expected")
		}
		i := idx[0]
		idx = idx[1:]
		if i >= n {
			t.Fatalf("scripted pick %d out of %d", i, n)
		}
		return i
	}
}

func TestCpuUsage(t *testing.T) {
	for _, c := range []struct {
		name string
		opts map[string]any
		cpus []any // nil: no heartbeat yet
		rand []int // the random picks, in order
		want string
	}{
		{name: "all sampled, lowest wins", cpus: []any{50, 30, 70}, want: "b"},
		{name: "all sampled, first below lowCpuUsage wins", cpus: []any{50, 9, 5}, want: "b"},
		{name: "ties keep the first", cpus: []any{40, 40, 60}, want: "a"},
		{name: "no figure is skipped", cpus: []any{nil, 80, 20}, want: "c"},
		{name: "no figure at all: random", cpus: []any{nil, nil, nil}, rand: []int{1}, want: "b"},
		{name: "sampled at random", cpus: []any{90, 80, 70, 60, 50}, rand: []int{0, 3, 1}, want: "d"},
		{name: "random samples may repeat", cpus: []any{90, 80, 70, 60, 50}, rand: []int{1, 1, 0}, want: "b"},
		{name: "sample below lowCpuUsage stops the sampling", cpus: []any{90, 2, 70, 60}, rand: []int{1}, want: "b"},
		{name: "sampled without figures: random", cpus: []any{nil, nil, nil, nil}, rand: []int{0, 1, 2, 3}, want: "d"},
		{name: "sampleCount 0 samples all", opts: map[string]any{"sampleCount": 0}, cpus: []any{90, 80, 70, 60, 50}, want: "e"},
		{name: "sampleCount 1", opts: map[string]any{"sampleCount": 1.0}, cpus: []any{90, 80, 70}, rand: []int{2}, want: "c"},
		{name: "lowCpuUsage option", opts: map[string]any{"lowCpuUsage": 60}, cpus: []any{70, 59, 1}, want: "b"},
		{name: "lowCpuUsage 0 never short-cuts", opts: map[string]any{"lowCpuUsage": 0}, cpus: []any{3, 0, 1}, want: "b"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := NewCpuUsage(c.opts)
			s.intn = picks(t, c.rand...)
			got := s.Select(cpuEndpoints(c.cpus...), nil)
			if got == nil || got.NodeID != c.want {
				t.Fatalf("picked %v, want %s", got, c.want)
			}
		})
	}
}

func TestCpuUsageDefaults(t *testing.T) {
	s := NewCpuUsage(nil)
	if s.sampleCount != 3 || s.lowCPU != 10 {
		t.Fatalf("defaults %d, %v; JS's are 3, 10", s.sampleCount, s.lowCPU)
	}
	f, err := LookupStrategy("cpuusage")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f(nil, nil).(*CpuUsage); !ok {
		t.Fatal(`"cpuusage" does not make a CpuUsage`)
	}
}
