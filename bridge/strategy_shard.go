package bridge

import (
	"cmp"
	"crypto/md5"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"unicode/utf16"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

func init() {
	RegisterStrategy("Shard", func(b *Broker, opts map[string]any) Strategy { return NewShard(b, opts) })
}

// Shard sends the calls with the same key to the same node, with the
// consistent hashing of JS's Shard strategy, so that Go and JS callers
// agree on the node of each key. Calls without a key go to a random
// endpoint.
//
// The key is found with the shardKey option: a path in the params
// ("userID", "user.id", lodash's _.get paths), a path in the meta after a
// "#" ("#tenant"), or a func(*Context) any. It becomes a string as JS's
// toString would make it (JS number formatting; arrays joined with
// commas); the first 32 bits of its MD5 pick a slot on a ring of vnodes
// slots per node, over the node IDs in sorted order. The ring is rebuilt
// from the available endpoints at the first call after any "$node." event,
// as in JS, so it reflects the endpoints of that moment: when the node a
// key falls on is no longer among them (its circuit breaker is open), the
// call finds no endpoint, where JS fails with INVALID_ENDPOINT.
type Shard struct {
	key      func(*Context) any
	vnodes   float64
	ringSize float64 // 0: 2^32, and no modulo

	needRebuild atomic.Bool

	mu    sync.Mutex
	ring  []shardSlot
	cache *simplelru.LRU[string, string] // key → node ID; nil when cacheSize <= 0
	intn  func(n int) int
}

type shardSlot struct {
	key    float64
	nodeID string
}

// NewShard returns a Shard strategy with JS's strategyOptions: shardKey
// (a string path or a func(*Context) any; none means every call is
// random), vnodes (default 10; less than 1 counts as 1, where JS fails),
// ringSize (default 2^32) and cacheSize (the number of keys whose node is
// remembered until the ring changes, default 1000; 0 or less remembers
// none, where JS remembers all). b, when not nil, has the ring rebuilt on
// its "$node." events.
func NewShard(b *Broker, opts map[string]any) *Shard {
	s := &Shard{
		key:      shardKeyFunc(opts["shardKey"]),
		vnodes:   max(optNumber(opts, "vnodes", 10), 1),
		ringSize: optNumber(opts, "ringSize", 0),
		intn:     rand.IntN,
	}
	if math.IsNaN(s.ringSize) {
		s.ringSize = 0
	}
	if size := int(optNumber(opts, "cacheSize", 1000)); size > 0 {
		s.cache, _ = simplelru.NewLRU[string, string](size, nil)
	}
	s.needRebuild.Store(true)
	if b != nil {
		b.OnLocalEvent("$node.**", func(string, any) { s.needRebuild.Store(true) })
	}
	return s
}

// shardKeyFunc turns the shardKey option into a function returning the
// key of a call, nil for none.
func shardKeyFunc(opt any) func(*Context) any {
	switch k := opt.(type) {
	case func(*Context) any:
		return k
	case string:
		if k == "" {
			return nil
		}
		if k[0] == '#' {
			get := compileJSPath(k[1:])
			return func(ctx *Context) any { return get(ctx.Meta()) }
		}
		get := compileJSPath(k)
		return func(ctx *Context) any {
			params, err := ctx.Params.Interface()
			if err != nil {
				return nil
			}
			return get(params)
		}
	}
	return nil
}

// Select returns the candidate on the node of the call's key.
func (s *Shard) Select(c []*Endpoint, ctx *Context) *Endpoint {
	var key any
	if s.key != nil && ctx != nil {
		key = s.key(ctx)
	}
	if key == nil {
		return c[s.intn(len(c))]
	}
	s.mu.Lock()
	if s.needRebuild.Swap(false) {
		s.rebuild(c)
	}
	nodeID := s.nodeOf(keyString(key))
	s.mu.Unlock()
	if nodeID == "" {
		return c[s.intn(len(c))]
	}
	for _, ep := range c {
		if ep.NodeID == nodeID {
			return ep
		}
	}
	return nil
}

// nodeOf returns the node ID of a key's slot. Callers hold s.mu.
func (s *Shard) nodeOf(key string) string {
	if s.cache != nil {
		if id, ok := s.cache.Get(key); ok {
			return id
		}
	}
	h := s.hash(key)
	i := sort.Search(len(s.ring), func(i int) bool { return h <= s.ring[i].key })
	if i == len(s.ring) {
		return ""
	}
	if s.cache != nil {
		s.cache.Add(key, s.ring[i].nodeID)
	}
	return s.ring[i].nodeID
}

// hash is the first 32 bits of the key's MD5, modulo ringSize when set.
func (s *Shard) hash(key string) float64 {
	sum := md5.Sum([]byte(key))
	h := float64(binary.BigEndian.Uint32(sum[:4]))
	if s.ringSize != 0 {
		h = math.Mod(h, s.ringSize)
	}
	return h
}

// rebuild lays the ring out over the candidates' nodes, as JS does:
// vnodes rounds over the sorted node IDs, slot i ending at
// floor((i+1) × ringSize / slots), the last one at ringSize. Callers hold
// s.mu.
func (s *Shard) rebuild(c []*Endpoint) {
	if s.cache != nil {
		s.cache.Purge()
	}
	ids := make([]string, len(c))
	for i, ep := range c {
		ids[i] = ep.NodeID
	}
	slices.SortFunc(ids, compareUTF16)
	size := s.ringSize
	if size == 0 {
		size = 1 << 32
	}
	slice := size / (float64(len(ids)) * s.vnodes)
	s.ring = s.ring[:0]
	for j := 0.0; j < s.vnodes; j++ {
		for _, id := range ids {
			s.ring = append(s.ring, shardSlot{key: math.Floor(slice * float64(len(s.ring)+1)), nodeID: id})
		}
	}
	if len(s.ring) > 0 {
		s.ring[len(s.ring)-1].key = size
	}
}

// compareUTF16 orders strings as JS's default sort does, by UTF-16 code
// units.
func compareUTF16(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return cmp.Compare(a, b)
	}
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
