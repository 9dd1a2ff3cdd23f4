package bridge

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"testing"

	"github.com/molbridge/molbridge/packets"
)

// shardGolden is bridge/testdata/shard_golden.json, written by
// compat/strategygolden.js with moleculer's own Shard strategy.
type shardGolden struct {
	Cases []struct {
		Name     string
		Nodes    []string
		Opts     map[string]any
		Requests []struct {
			Params any
			Meta   map[string]any
		}
		Picks []string
		Ring  []struct {
			Key    float64
			NodeID string
		}
	}
	Strings []struct {
		Key    any
		String string
	}
	Paths []struct {
		Path  string
		Parts []string
	}
}

func loadShardGolden(t *testing.T) shardGolden {
	t.Helper()
	data, err := os.ReadFile("testdata/shard_golden.json")
	if err != nil {
		t.Fatalf("%v (regenerate with: node compat/strategygolden.js > bridge/testdata/shard_golden.json)", err)
	}
	var g shardGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 || len(g.Strings) == 0 || len(g.Paths) == 0 {
		t.Fatal("testdata/shard_golden.json has no cases")
	}
	return g
}

func testEndpoints(ids ...string) []*Endpoint {
	eps := make([]*Endpoint, len(ids))
	for i, id := range ids {
		eps[i] = &Endpoint{NodeID: id, node: &Node{ID: id, Available: true}}
	}
	return eps
}

func noRandom(t *testing.T) func(int) int {
	return func(int) int {
		t.Helper()
		t.Fatal("picked at random where JS hashes the key")
		return 0
	}
}

// TestShardMatchesJS checks the nodes picked and the ring against JS's
// Shard strategy (golden values from compat/strategygolden.js).
func TestShardMatchesJS(t *testing.T) {
	for _, c := range loadShardGolden(t).Cases {
		t.Run(c.Name, func(t *testing.T) {
			s := NewShard(nil, c.Opts)
			s.intn = noRandom(t)
			eps := testEndpoints(c.Nodes...)
			for i, r := range c.Requests {
				ctx := &Context{Params: packets.ValueOf(r.Params), meta: r.Meta}
				got := s.Select(eps, ctx)
				if got == nil || got.NodeID != c.Picks[i] {
					t.Fatalf("request %d (%s): picked %v, JS picks %s", i, jsonOf(r), got, c.Picks[i])
				}
			}
			if len(s.ring) != len(c.Ring) {
				t.Fatalf("ring has %d slots, JS's %d", len(s.ring), len(c.Ring))
			}
			for i, slot := range c.Ring {
				if s.ring[i].key != slot.Key || s.ring[i].nodeID != slot.NodeID {
					t.Fatalf("slot %d is %+v, JS's {%v %s}", i, s.ring[i], slot.Key, slot.NodeID)
				}
			}
		})
	}
}

func jsonOf(x any) string {
	b, _ := json.Marshal(x)
	return string(b)
}

// TestShardKeyStrings checks keyString against JS's key.toString().
func TestShardKeyStrings(t *testing.T) {
	for _, c := range loadShardGolden(t).Strings {
		if got := keyString(c.Key); got != c.String {
			t.Errorf("keyString(%s) = %q, JS gives %q", jsonOf(c.Key), got, c.String)
		}
	}
	// Go values a local caller may pass.
	for _, c := range []struct {
		key  any
		want string
	}{
		{42, "42"}, {int64(-7), "-7"}, {uint8(9), "9"}, {float32(0.5), "0.5"},
		{int64(1)<<53 + 1, "9007199254740992"}, // as a JS node would see it
		{math.NaN(), "NaN"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"}, {math.Copysign(0, -1), "0"},
		{[]int{1, 2}, "1,2"}, {[]string{"a", "b"}, "a,b"}, {map[string]int{"a": 1}, "[object Object]"},
		{struct{ A int }{1}, "[object Object]"}, {json.Number("12.50"), "12.5"}, {[]byte("bin"), "bin"},
	} {
		if got := keyString(c.key); got != c.want {
			t.Errorf("keyString(%#v) = %q, want %q", c.key, got, c.want)
		}
	}
}

// TestJSNumber checks jsNumber against encoding/json, which writes
// numbers as JS does, over many random numbers.
func TestJSNumber(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		want, _ := json.Marshal(f)
		if got := jsNumber(f); got != string(want) {
			t.Fatalf("jsNumber(%v) = %s, want %s", f, got, want)
		}
		if back, err := strconv.ParseFloat(jsNumber(f), 64); err != nil || back != f {
			t.Fatalf("jsNumber(%v) = %s does not read back", f, jsNumber(f))
		}
	}
}

// TestShardPaths checks the path parts against lodash's _.toPath.
func TestShardPaths(t *testing.T) {
	for _, c := range loadShardGolden(t).Paths {
		got := jsPath(c.Path)
		if len(got) == 0 && len(c.Parts) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c.Parts) {
			t.Errorf("jsPath(%q) = %q, lodash gives %q", c.Path, got, c.Parts)
		}
	}
}

func TestShardKeyLookup(t *testing.T) {
	type user struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	params := map[string]any{
		"id":   7,
		"user": user{ID: 3, Name: "ann"},
		"list": []any{"x", map[string]any{"y": true}},
		"a.b":  "own",
		"a":    map[string]any{"b": "nested"},
		"nil":  nil,
		"s":    "héllo",
	}
	for _, c := range []struct {
		path string
		want any
	}{
		{"id", 7}, {"user.id", 3.0}, {"user.name", "ann"}, {"list[0]", "x"}, {"list.1.y", true},
		{"list.length", 2.0}, {"list[2]", nil}, {"a.b", "own"}, {"a[b]", "nested"}, {"nil", nil},
		{"missing.deep", nil}, {"s.length", 5.0}, {"s[1]", "é"}, {"id.x", nil},
	} {
		if got := jsGet(params, c.path); !reflect.DeepEqual(got, c.want) {
			t.Errorf("jsGet(params, %q) = %#v, want %#v", c.path, got, c.want)
		}
	}
}

func TestShardKeys(t *testing.T) {
	eps := testEndpoints("a", "b", "c", "d")
	pick := func(s *Shard, ctx *Context) string {
		t.Helper()
		ep := s.Select(eps, ctx)
		if ep == nil {
			t.Fatal("no endpoint")
		}
		return ep.NodeID
	}
	byParam := NewShard(nil, map[string]any{"shardKey": "id"})
	byMeta := NewShard(nil, map[string]any{"shardKey": "#tenant"})
	byFunc := NewShard(nil, map[string]any{"shardKey": func(ctx *Context) any { return ctx.Meta()["k"] }})
	for _, s := range []*Shard{byParam, byMeta, byFunc} {
		s.intn = noRandom(t)
	}
	for i := range 50 {
		want := pick(byParam, &Context{Params: packets.ValueOf(map[string]any{"id": float64(i)})})
		// A Go int, a decoded JSON number, a struct field: all the same key.
		type P struct {
			ID int `json:"id"`
		}
		if got := pick(byParam, &Context{Params: packets.ValueOf(P{i})}); got != want {
			t.Fatalf("key %d as a struct field went to %s, as a float64 to %s", i, got, want)
		}
		if got := pick(byParam, &Context{Params: packets.ValueOf(map[string]any{"id": i})}); got != want {
			t.Fatalf("key %d as an int went to %s, as a float64 to %s", i, got, want)
		}
		if got := pick(byMeta, &Context{meta: Meta{"tenant": strconv.Itoa(i)}}); got != want {
			t.Fatalf("meta key %q went to %s, param %d to %s", strconv.Itoa(i), got, i, want)
		}
		if got := pick(byFunc, &Context{meta: Meta{"k": i}}); got != want {
			t.Fatalf("func key %d went to %s, param to %s", i, got, want)
		}
	}

	// No key, no shardKey: random, as in JS.
	random := 0
	for _, s := range []*Shard{byParam, NewShard(nil, nil), NewShard(nil, map[string]any{"shardKey": ""})} {
		s.intn = func(n int) int { random++; return n - 1 }
		if got := pick(s, &Context{Params: packets.ValueOf(map[string]any{"other": 1})}); got != "d" {
			t.Errorf("no key: picked %s, want the random pick d", got)
		}
	}
	if random != 3 {
		t.Errorf("%d random picks, want 3", random)
	}
}

// TestShardRebuild checks that the ring follows the nodes after a "$node."
// event only, as in JS, and that a key whose node left finds nothing
// until then.
func TestShardRebuild(t *testing.T) {
	s := NewShard(nil, map[string]any{"shardKey": "k", "cacheSize": 2})
	s.intn = noRandom(t)
	all := testEndpoints("a", "b", "c")
	ctx := func(k string) *Context { return &Context{Params: packets.ValueOf(map[string]any{"k": k})} }
	var onB string
	for i := range 100 {
		k := fmt.Sprint("key", i)
		if s.Select(all, ctx(k)).NodeID == "b" {
			onB = k
			break
		}
	}
	if onB == "" {
		t.Fatal("no key of 100 on node b")
	}
	without := []*Endpoint{all[0], all[2]}
	if ep := s.Select(without, ctx(onB)); ep != nil {
		t.Fatalf("before a $node event the ring still has b: want no endpoint, got %s", ep.NodeID)
	}
	s.needRebuild.Store(true) // what a "$node." event does
	if ep := s.Select(without, ctx(onB)); ep == nil || ep.NodeID == "b" {
		t.Fatalf("after the rebuild key %s went to %v", onB, ep)
	}
	if s.cache.Len() > 2 {
		t.Fatalf("cache holds %d keys, cacheSize is 2", s.cache.Len())
	}
}
