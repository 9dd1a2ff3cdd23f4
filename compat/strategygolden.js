#!/usr/bin/env node
/*
 * Writes the golden values of molbridge's Shard strategy unit tests
 * (bridge/testdata/shard_golden.json) by running moleculer's own Shard
 * strategy on made-up endpoint lists: the node each key goes to, the
 * ring, and how JS prints the keys.
 *
 *   node compat/strategygolden.js > bridge/testdata/shard_golden.json
 *
 * Deterministic: no Math.random in the cases (a call without a key, the
 * only random path, is not recorded).
 */
"use strict";

const { Strategies } = require("moleculer");
const ShardStrategy = Strategies.Shard;

// A stand-in for the broker: the strategy only subscribes to $node.**.
const broker = { localBus: { on() {} } };

function endpoints(ids) {
	return ids.map(id => ({ id, node: { id } }));
}

// A small deterministic generator (xorshift32) for the bulk keys.
let seed = 2463534242;
function next() {
	seed ^= seed << 13;
	seed >>>= 0;
	seed ^= seed >>> 17;
	seed ^= seed << 5;
	seed >>>= 0;
	return seed;
}

const bulkKeys = [];
for (let i = 0; i < 200; i++) bulkKeys.push(`key-${next().toString(36)}`);
for (let i = 0; i < 50; i++) bulkKeys.push(next() % 100000);

// Keys as a caller would send them, with JS's own string for each.
const oddKeys = [
	0, -0, 1, -1, 42, 3.5, -2.25, 0.1 + 0.2, 1 / 3, 123456789012, 2 ** 53, 2 ** 53 + 2,
	1e21, 1.5e21, 123e-20, 1e-6, 1e-7, 0.000001234, 5e-324, 1.7976931348623157e308,
	"", "a", "Grüße", "日本", "😀", "with space", "1", "1.0",
	true, false,
	[1, 2, 3], ["a", null, "b"], [], [[1, 2], [3]], [1.5, "x"],
	{ a: 1 }, {}
];

const cases = [];

function addCase(name, ids, opts, requests) {
	const s = new ShardStrategy(null, broker, Object.assign({}, opts));
	const list = endpoints(ids);
	const picks = requests.map(ctx => {
		const ep = s.select(list, ctx);
		return ep ? ep.id : null;
	});
	cases.push({
		name,
		nodes: ids,
		opts,
		requests,
		picks,
		ring: s.ring
	});
}

const nodes3 = ["node-b", "node-a", "node-c"];
const nodes5 = ["n1", "n10", "n2", "Z-upper", "node-ü"];

addCase(
	"bulk keys, default ring",
	nodes3,
	{ shardKey: "key" },
	bulkKeys.map(key => ({ params: { key }, meta: {} }))
);
addCase(
	"bulk keys, five nodes, vnodes 3",
	nodes5,
	{ shardKey: "key", vnodes: 3 },
	bulkKeys.map(key => ({ params: { key }, meta: {} }))
);
addCase(
	"bulk keys, ringSize 1000",
	nodes5,
	{ shardKey: "key", ringSize: 1000 },
	bulkKeys.map(key => ({ params: { key }, meta: {} }))
);
addCase(
	"bulk keys, ringSize 7 (slots with equal ends)",
	nodes3,
	{ shardKey: "key", ringSize: 7, vnodes: 4 },
	bulkKeys.map(key => ({ params: { key }, meta: {} }))
);
addCase(
	"odd keys",
	nodes5,
	{ shardKey: "key" },
	oddKeys.map(key => ({ params: { key }, meta: {} }))
);
addCase("one node", ["only"], { shardKey: "key" }, bulkKeys.slice(0, 20).map(key => ({ params: { key }, meta: {} })));
addCase(
	"meta key",
	nodes3,
	{ shardKey: "#tenant.id" },
	bulkKeys.slice(0, 30).map(key => ({ params: {}, meta: { tenant: { id: key } } }))
);
addCase(
	"paths",
	nodes5,
	{ shardKey: "user.ids[1]" },
	bulkKeys.slice(0, 30).map(key => ({ params: { user: { ids: [0, key] } }, meta: {} }))
);
addCase(
	"dotted own key",
	nodes5,
	{ shardKey: "a.b" },
	bulkKeys.slice(0, 30).map(key => ({ params: { "a.b": key, a: { b: "not this" } }, meta: {} }))
);
addCase(
	"quoted path",
	nodes3,
	{ shardKey: 'm["x.y"].z' },
	bulkKeys.slice(0, 30).map(key => ({ params: { m: { "x.y": { z: key } } }, meta: {} }))
);

// How JS prints the odd keys (key.toString()).
const strings = oddKeys.map(k => ({ key: k, string: k.toString() }));

// lodash paths: the parts _.toPath makes of each.
const _ = require("lodash");
const paths = [
	"a",
	"a.b",
	"a[0].b",
	'a["x.y"]',
	"a['q\\'s']",
	"a..b",
	".a",
	"a.",
	"a[]",
	"a[].b",
	"a[-1.5]",
	"a[1.]",
	"[0]",
	"a[b]",
	"a]b",
	'a["b\\\\c"]',
	"",
	"a.b.c[2][3].d"
].map(p => ({ path: p, parts: _.toPath(p) }));

process.stdout.write(JSON.stringify({ cases, strings, paths }, null, "\t") + "\n");
