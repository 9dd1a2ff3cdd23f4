#!/usr/bin/env node
/*
 * Joins the Go serializer benchmarks with compat/serbench.js's figures into
 * the markdown table of BENCHMARKS.md (scripts/bench.sh runs it).
 *
 *   node compat/benchtable.js GO_BENCH_OUTPUT JS_SERBENCH_JSON...
 *
 * GO_BENCH_OUTPUT is the text of `go test ./conformance -bench Serializers`;
 * each JS_SERBENCH_JSON is an output of `node compat/serbench.js`. A cell
 * measured more than once (several rounds) takes its fastest figure, on
 * either side.
 *
 * Go's decode keeps params and data, and INFO's settings, metadata and
 * descriptors, in their encoded form until something reads them, where
 * JS's builds them: the last two columns compare JS's decode with Go's
 * decode followed by reading all of those into plain Go data (the
 * decoderead benchmarks), the like-for-like figure.
 */
"use strict";

const fs = require("fs");

const [goFile, ...jsFiles] = process.argv.slice(2);
if (!goFile || !jsFiles.length) {
	process.stderr.write("usage: benchtable.js GO_BENCH_OUTPUT JS_SERBENCH_JSON...\n");
	process.exit(2);
}

const goNs = {}; // "JSON/REQ/encode" -> ns/op
for (const line of fs.readFileSync(goFile, "utf8").split("\n")) {
	const m = /^BenchmarkSerializers\/(\w+)\/(\w+)\/(encode|decode|decoderead)-\d+\s+\d+\s+([\d.]+) ns\/op/.exec(line);
	const key = `${m && m[1]}/${m && m[2]}/${m && m[3]}`;
	if (m) goNs[key] = Math.min(goNs[key] ?? Infinity, Number(m[4]));
}
// The JS results, in the order of their first appearance, fastest of the
// rounds per cell.
let js = null;
const jsCell = {};
for (const f of jsFiles) {
	const doc = JSON.parse(fs.readFileSync(f, "utf8"));
	if (!js) js = { ...doc, results: [] };
	for (const r of doc.results) {
		const key = `${r.serializer}/${r.type}`;
		const have = jsCell[key];
		if (!have) {
			jsCell[key] = { ...r };
			js.results.push(jsCell[key]);
			continue;
		}
		have.encodeNsPerOp = Math.min(have.encodeNsPerOp, r.encodeNsPerOp);
		have.decodeNsPerOp = Math.min(have.decodeNsPerOp, r.decodeNsPerOp);
	}
}

const fmt = n => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const rows = [];
let worst = Infinity;
let worstRead = Infinity;
for (const r of js.results) {
	for (const op of ["encode", "decode"]) {
		const g = goNs[`${r.serializer}/${r.type}/${op}`];
		const j = op === "encode" ? r.encodeNsPerOp : r.decodeNsPerOp;
		if (g === undefined) {
			rows.push(`| ${r.serializer} | ${r.type} | ${op} | missing | ${fmt(j)} | | | |`);
			continue;
		}
		const ratio = j / g;
		worst = Math.min(worst, ratio);
		// decode + read: Go's decode, then what it left encoded (params,
		// data, INFO's settings, metadata and descriptors) read into plain
		// Go data, against JS's decode, which builds them.
		let read = "", readRatio = "";
		const gr = op !== "decode" ? undefined : goNs[`${r.serializer}/${r.type}/decoderead`];
		if (gr !== undefined) {
			read = fmt(gr);
			readRatio = `${(j / gr).toFixed(2)}×`;
			worstRead = Math.min(worstRead, j / gr);
		}
		rows.push(`| ${r.serializer} | ${r.type} | ${op} | ${fmt(g)} | ${fmt(j)} | ${ratio.toFixed(2)}× | ${read} | ${readRatio} |`);
	}
}
process.stdout.write(
	"| serializer | packet | op | Go ns/op | JS ns/op | JS / Go (speed-up) | Go decode + read ns/op | JS / Go decode + read |\n" +
		"|---|---|---|---:|---:|---:|---:|---:|\n" +
		rows.join("\n") +
		`\n\nSlowest Go cell relative to JS: ${worst.toFixed(2)}×; with what it left encoded read: ${worstRead.toFixed(2)}× ` +
		`(node ${js.node}, moleculer ${js.moleculer}).\n`
);
