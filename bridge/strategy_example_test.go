package bridge_test

import (
	"fmt"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/packets"
)

// A broker balances with Shard when its options say so, as a JS broker
// with registry.strategy "Shard" does:
//
//	bridge.Options{Strategy: "Shard", StrategyOptions: map[string]any{"shardKey": "userID"}}
//
// (or one action only, with Action.Strategy and Action.StrategyOptions).
// The strategy on its own shows where keys go: the same nodes as a JS
// caller's (moleculer 0.14.36 gives these five answers too).
func ExampleShard() {
	shard := bridge.NewShard(nil, map[string]any{"shardKey": "userID"})
	nodes := []*bridge.Endpoint{{NodeID: "node-1"}, {NodeID: "node-2"}, {NodeID: "node-3"}}
	for _, user := range []any{"ann", "bob", "carol", "ann", 42} {
		ctx := &bridge.Context{Params: packets.ValueOf(map[string]any{"userID": user})}
		fmt.Println(user, "→", shard.Select(nodes, ctx).NodeID)
	}
	// Output:
	// ann → node-3
	// bob → node-1
	// carol → node-2
	// ann → node-3
	// 42 → node-1
}
