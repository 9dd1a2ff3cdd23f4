#!/usr/bin/env node
/*
 * Encode and decode cost of moleculer 0.14.36's serializers, the reference
 * for molbridge's Go serializer benchmarks.
 *
 *   node compat/serbench.js [--ms 500] [--serializers JSON,MsgPack] [--types REQ,RES] [--payloads FILE]
 *
 * The payloads (REQ, RES, EVENT, INFO) come from
 * conformance/testdata/bench-payloads.json, which the Go benchmarks
 * (go test ./conformance -bench .) load as well. For every serializer and
 * packet type it measures serializer.serialize(payload, type) and
 * serializer.deserialize(bytes, type), each for about --ms milliseconds after
 * a warm-up, and prints one JSON object on stdout:
 *
 *   {"node":"v20.20.2","moleculer":"0.14.36","libraries":{...},"msPerMeasurement":500,
 *    "results":[{"serializer":"JSON","type":"REQ","bytes":231,"encodeNsPerOp":812.4,"decodeNsPerOp":1290.7}, ...]}
 *
 * The schema-based serializers (Avro, ProtoBuf, Thrift) rewrite the payload
 * object they encode, so every encode gets its own copy of the payload; the
 * copies are made before the clock starts.
 */
"use strict";

const fs = require("fs");
const path = require("path");
const { ServiceBroker } = require("moleculer");
const wire = require("./wire");

const TYPES = ["REQ", "RES", "EVENT", "INFO"];

function parseArgs(argv) {
	const o = {
		ms: 500,
		serializers: wire.SERIALIZERS,
		types: TYPES,
		payloads: path.join(__dirname, "..", "conformance", "testdata", "bench-payloads.json")
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const val = () => {
			if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
			return argv[++i];
		};
		if (a === "--ms") o.ms = Number(val());
		else if (a === "--serializers") o.serializers = val().split(",").map(s => s.trim()).filter(Boolean);
		else if (a === "--types") o.types = val().split(",").map(s => s.trim().toUpperCase()).filter(Boolean);
		else if (a === "--payloads") o.payloads = path.resolve(val());
		else if (a === "-h" || a === "--help") {
			process.stdout.write(fs.readFileSync(__filename, "utf8").split("*/")[0] + "*/\n");
			process.exit(0);
		} else throw new Error(`unknown argument ${a}`);
	}
	if (!(o.ms > 0)) throw new Error("--ms must be a positive number");
	for (const t of o.types) if (!TYPES.includes(t)) throw new Error(`no benchmark payload for ${t} (have ${TYPES.join(", ")})`);
	return o;
}

const BATCH = 256;

// nsPerOp runs op in batches until ms milliseconds of measured time have
// passed; prepare (untimed) makes the inputs of one batch.
function nsPerOp(ms, prepare, op) {
	let ops = 0;
	let ns = 0n;
	const budget = BigInt(Math.round(ms * 1e6));
	while (ns < budget) {
		const inputs = prepare(BATCH);
		const start = process.hrtime.bigint();
		for (let i = 0; i < BATCH; i++) op(inputs[i]);
		ns += process.hrtime.bigint() - start;
		ops += BATCH;
	}
	return Number(ns) / ops;
}

function main() {
	const o = parseArgs(process.argv.slice(2));
	const payloads = JSON.parse(fs.readFileSync(o.payloads, "utf8")).payloads;
	const results = [];
	for (const name of o.serializers) {
		const s = wire.serializer(name);
		for (const type of o.types) {
			const payload = wire.revive(payloads[type]);
			const bytes = wire.encode(name, type, payload);
			const copies = n => Array.from({ length: n }, () => wire.clone(payload));
			const same = n => new Array(n).fill(bytes);
			const encode = p => s.serialize(p, type);
			const decode = b => s.deserialize(b, type);
			// warm-up
			nsPerOp(Math.min(200, o.ms), copies, encode);
			nsPerOp(Math.min(200, o.ms), same, decode);
			results.push({
				serializer: name,
				type,
				bytes: bytes.length,
				encodeNsPerOp: Math.round(nsPerOp(o.ms, copies, encode) * 10) / 10,
				decodeNsPerOp: Math.round(nsPerOp(o.ms, same, decode) * 10) / 10
			});
		}
	}
	const libraries = {};
	for (const n of ["avsc", "msgpack5", "notepack.io", "protobufjs", "thrift", "cbor-x"]) {
		libraries[n] = JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", n, "package.json"), "utf8")).version;
	}
	process.stdout.write(JSON.stringify({
		node: process.version,
		moleculer: ServiceBroker.MOLECULER_VERSION,
		libraries,
		payloads: path.relative(path.join(__dirname, ".."), o.payloads),
		msPerMeasurement: o.ms,
		results
	}, null, 1) + "\n");
}

try {
	main();
} catch (err) {
	process.stderr.write(`serbench: ${err && err.message ? err.message : err}\n`);
	process.exit(1);
}
