#!/usr/bin/env node
/*
 * Records the serializer conformance corpus: packets as real moleculer
 * 0.14.36 serializers write them.
 *
 *   node compat/recorder.js [OUTDIR]      (default: conformance/testdata/v4)
 *
 * Every case is a payload the way the base transporter hands it to the
 * serializer (packet fields, then "ver":"4" and "sender"). Cases named
 * "broker-..." are sniffed from two real ServiceBrokers talking over the Fake
 * transporter (calls, streams in both directions, errors, events, discovery,
 * ping, heartbeat, stop), once per serializer option (the payloads must be
 * the same every time, and re-serializing a sniffed payload must give the
 * bytes the broker sent); volatile values (instanceID, hostname, addresses,
 * clocks, CPU, stack traces) are then replaced by fixed ones so that a rerun
 * writes the same files. The other cases are built by hand on the shape of
 * the sniffed packets, for what the brokers here do not send (gossip, odd
 * values, Buffers, unicode, big numbers, ...).
 *
 * For each serializer (JSON, Avro, MsgPack, Notepack, ProtoBuf, Thrift, CBOR)
 * the real moleculer serializer (resolved and init'ed by a ServiceBroker)
 * serializes every case with serializer.serialize(payload, type), and the
 * recorder writes
 *
 *   OUTDIR/<serializer>/<TYPE>/<case>.bin    the bytes JS produced
 *   OUTDIR/<serializer>/<TYPE>/<case>.json   serializer.deserialize(bytes, type)
 *                                            as JSON: the payload as JS sees it
 *
 * plus OUTDIR/cases.json, the list of cases with a line about each. The JSON
 * view is JSON.stringify of the deserialized payload's own properties, with
 * Buffers as {"type":"Buffer","data":[...]} and the int64 wrapper objects of
 * protobufjs (Long) and thrift (Int64) as numbers (see wire.js, view()).
 * Every serializer must encode every case; the recorder fails otherwise.
 * RECORDER_DEBUG=1 lists the sniffed packets and the time of each run on
 * stderr. A run takes about 20 s (moleculer's start-up and discovery, seven
 * times).
 */
"use strict";

const fs = require("fs");
const path = require("path");
const { Readable } = require("stream");
const { isDeepStrictEqual } = require("util");
const { ServiceBroker, Errors } = require("moleculer");
const wire = require("./wire");

const OUT = path.resolve(process.argv[2] || path.join(__dirname, "..", "conformance", "testdata", "v4"));

// ------------------------------------------------------------ fixed values

const FIXED = {
	"node-a": { instanceID: "6cedca0c-1342-4b98-8e45-ed33882beb6f", hostname: "host-a", ipList: ["192.0.2.10"] },
	"node-b": { instanceID: "0f2e5d1a-7c4b-4e8a-9d3f-2b6a1c9e8f70", hostname: "host-b", ipList: ["192.0.2.11", "198.51.100.7"] }
};
const LANG_VERSION = "v20.20.2";
const PING_TIME = 1700000000123;
const PONG_ARRIVED = 1700000000150;

// finish puts ver and sender last, as the base transporter's serialize() does.
function finish(payload, sender) {
	delete payload.ver;
	delete payload.sender;
	payload.ver = "4";
	payload.sender = sender;
	return payload;
}

// variant copies a sniffed payload and applies changes: existing keys keep
// their place, new ones come before ver/sender, a change to undefined keeps
// the key with the value undefined (what JS objects do).
function variant(base, changes, del = []) {
	const p = wire.clone(base);
	for (const k of Object.keys(changes)) p[k] = changes[k];
	for (const k of del) delete p[k];
	return finish(p, p.sender);
}

function fakeStack(name, message) {
	return `${name}: ${message}\n    at Service.handler (/app/services/math.service.js:42:11)\n    at Context.call (/app/node_modules/moleculer/src/context.js:320:12)`;
}

// ------------------------------------------------------------ sniffing

function uidGenerator(prefix) {
	let n = 0;
	// uuid-shaped, deterministic
	return () => `${prefix}-0000-4000-8000-${String(++n).padStart(12, "0")}`;
}

// sniff runs the brokers with the serializer option ser and returns the
// packets the cases use, sanitized. It also checks that serializing a copy of
// every sniffed payload, as the recorder does, gives the bytes the broker
// actually sent (for the packets the sanitizing leaves alone).
async function sniff(ser) {
	const captured = [];
	const make = (nodeID, uidPrefix, extra) => {
		const broker = new ServiceBroker(Object.assign({
			namespace: "recorder",
			nodeID,
			serializer: ser,
			transporter: "Fake",
			logger: false,
			uidGenerator: uidGenerator(uidPrefix)
		}, extra));
		const s = broker.serializer;
		const serialize = s.serialize.bind(s);
		s.serialize = (payload, type) => {
			const entry = { type, payload: wire.clone(payload) };
			captured.push(entry);
			const bytes = serialize(payload, type);
			entry.bytes = Buffer.from(bytes);
			return bytes;
		};
		return broker;
	};

	const a = make("node-a", "aaaaaaaa", { metadata: {} });
	const b = make("node-b", "bbbbbbbb", {
		metadata: { region: "eu-west-1", zone: { name: "b", rack: 3 }, tags: ["blue", "canary"] },
		tracing: { enabled: true, exporter: [] }
	});

	a.createService({
		name: "echo",
		actions: {
			hello: {
				params: { name: { type: "string", min: 1 } },
				handler(ctx) { return `Hello ${ctx.params.name}`; }
			}
		}
	});

	b.createService({
		name: "math",
		settings: { precision: 2 },
		actions: {
			add: {
				params: { a: "number", b: "number" },
				cache: { keys: ["a", "b"] },
				handler(ctx) { return ctx.params.a + ctx.params.b; }
			},
			nothing() { return undefined; },
			nil() { return null; },
			bytes() { return Buffer.from([0, 1, 2, 253, 254, 255]); },
			fail(ctx) {
				ctx.meta.failedAt = "math.fail";
				throw new Errors.MoleculerClientError("Bad thing", 422, "BAD_THING", { field: "x", limits: [1, 2] });
			},
			crash(ctx) { return ctx.params.missing.deep; },
			upload(ctx) {
				return new Promise((resolve, reject) => {
					let n = 0;
					ctx.params.on("data", c => (n += c.length));
					ctx.params.on("end", () => resolve({ bytes: n }));
					ctx.params.on("error", reject);
				});
			},
			download() {
				const r = new Readable({ read() {} });
				r.push(Buffer.from("hello "));
				r.push(Buffer.from([0xe2, 0x82, 0xac, 0x00, 0xff]));
				r.push(null);
				return r;
			},
			relay: {
				params: { name: "string" },
				handler(ctx) {
					ctx.meta.relayed = true;
					return ctx.call("echo.hello", { name: ctx.params.name }, { meta: { hop: 2 } });
				}
			}
		}
	});
	b.createService({
		name: "greeter",
		version: 2,
		settings: { greeting: "Hello", $secureSettings: ["apiKey"], apiKey: "secret" },
		metadata: { scalable: true, priority: 5 },
		actions: {
			hello: {
				params: { name: "string", age: { type: "number", optional: true, min: 0 } },
				cache: { keys: ["name"] },
				timeout: 500,
				rest: "GET /hello",
				handler(ctx) { return `Hello ${ctx.params.name}`; }
			},
			priv: { visibility: "protected", handler() { return 1; } }
		},
		events: {
			"user.created"() {},
			"order.*": { group: "orders", handler() {} },
			"config.changed"() {},
			"$node.connected"() {}
		}
	});
	b.createService({
		name: "api",
		version: "staging",
		actions: { status: { visibility: "published", handler() { return "ok"; } } }
	});

	await a.start();
	await b.start();
	await a.waitForServices(["math", "v2.greeter", "staging.api"], 10000, 20);
	await b.waitForServices(["echo"], 10000, 20);

	const call = (action, params, opts) => a.call(action, params, opts).catch(err => err);
	const marks = {};
	const mark = name => (marks[name] = captured.length);

	mark("call");
	await call("math.add", { a: 5, b: 3 }, { meta: { user: "u1" }, timeout: 3000 });
	mark("nothing");
	await call("math.nothing");
	mark("nil");
	await call("math.nil");
	mark("bytes");
	await call("math.bytes");
	mark("fail");
	await call("math.fail", { x: 1 }, { meta: { user: "u1" } });
	mark("crash");
	await call("math.crash", {});
	mark("validation");
	await call("math.add", { a: "five" });
	mark("relay");
	await call("math.relay", { name: "Go" }, { meta: { trace: "t1" } });
	mark("upload");
	const src = new Readable({ read() {} });
	src.push(Buffer.from("xy"));
	src.push(Buffer.from([0, 255]));
	src.push(null);
	await call("math.upload", src, { meta: { file: "a.bin" } });
	mark("download");
	const stream = await call("math.download");
	await new Promise((resolve, reject) => {
		stream.on("data", () => {});
		stream.on("end", resolve);
		stream.on("error", reject);
	});
	mark("emit");
	await a.emit("user.created", { id: 1, name: "John" }, { meta: { origin: "signup" } });
	mark("emit-no-data");
	await a.emit("order.created");
	mark("broadcast");
	await a.broadcast("config.changed", { key: "x", value: [1, 2] });
	mark("ping");
	await a.ping("node-b", 2000);
	mark("heartbeat");
	a.registry.nodes.localNode.cpu = 12;
	await a.registry.discoverer.sendHeartbeat();
	await new Promise(r => setTimeout(r, 50));
	mark("stop");
	await a.stop();
	await b.stop();
	mark("end");

	if (process.env.RECORDER_DEBUG) {
		const names = Object.keys(marks);
		captured.forEach((c, i) => {
			const m = names.filter(n => marks[n] === i);
			process.stderr.write(`${m.length ? "[" + m.join(",") + "] " : ""}${c.type} ${c.payload.sender}\n`);
		});
	}

	for (const { type, payload, bytes } of captured) {
		if (["INFO", "HEARTBEAT", "PING", "PONG"].includes(type) || (type === "RES" && payload.error)) continue;
		if (!wire.encode(ser, type, payload).equals(bytes)) {
			throw new Error(`${ser}: serializing a copy of a sniffed ${type} does not give the bytes the broker sent`);
		}
	}

	// Sanitize what differs between runs and machines.
	for (const { type, payload: p } of captured) {
		if (type === "INFO") {
			const f = FIXED[p.sender];
			p.instanceID = f.instanceID;
			p.hostname = f.hostname;
			p.ipList = f.ipList.slice();
			p.client.langVersion = LANG_VERSION;
		}
		if (type === "HEARTBEAT") p.cpu = 12;
		if (type === "PING") p.time = PING_TIME;
		if (type === "PONG") {
			p.time = PING_TIME;
			p.arrived = PONG_ARRIVED;
		}
		if (type === "RES" && p.error && p.error.stack) p.error.stack = fakeStack(p.error.name, p.error.message);
	}

	// pick returns the payloads of type (and matching pred) captured between
	// two marks.
	const between = (from, to, type, pred = () => true) =>
		captured.slice(marks[from], marks[to]).filter(c => c.type === type && pred(c.payload)).map(c => c.payload);
	const one = (from, to, type, pred) => {
		const got = between(from, to, type, pred);
		if (got.length !== 1) throw new Error(`sniffing ${from}: want 1 ${type}, got ${got.length}`);
		return got[0];
	};
	const next = Object.keys(marks).reduce((m, k, i, ks) => ((m[k] = ks[i + 1]), m), {});
	const at = (name, type, pred) => one(name, next[name], type, pred);

	const infos = captured.slice(0, marks.call).filter(c => c.type === "INFO").map(c => c.payload);
	const lastInfo = sender => infos.filter(p => p.sender === sender).pop();
	const upload = between("upload", "download", "REQ");
	const download = between("download", "emit", "RES");

	return {
		discover: captured.find(c => c.type === "DISCOVER").payload,
		infoA: lastInfo("node-a"),
		infoB: lastInfo("node-b"),
		infoStop: one("stop", "end", "INFO", p => p.sender === "node-a"),
		disconnect: one("stop", "end", "DISCONNECT", p => p.sender === "node-a"),
		heartbeat: at("heartbeat", "HEARTBEAT"),
		call: at("call", "REQ"),
		callRes: at("call", "RES"),
		nothingRes: at("nothing", "RES"),
		nilRes: at("nil", "RES"),
		bytesRes: at("bytes", "RES"),
		failRes: at("fail", "RES"),
		crashRes: at("crash", "RES"),
		validationRes: at("validation", "RES"),
		relayReq: at("relay", "REQ", p => p.action === "echo.hello"),
		relayRes: at("relay", "RES", p => p.sender === "node-b"),
		uploadReqs: upload,
		downloadRes: download,
		emit: at("emit", "EVENT"),
		emitNoData: at("emit-no-data", "EVENT"),
		broadcast: at("broadcast", "EVENT"),
		ping: at("ping", "PING"),
		pong: at("ping", "PONG")
	};
}

// ------------------------------------------------------------ cases

const UNICODE = "héllo wörld — 日本語 · Ελληνικά · emoji 🎉👩‍💻 · quotes \" \\ · control \n\t\u0001 · sep \u2028";
const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53-1
const NUMBERS = {
	zero: 0,
	one: 1,
	neg: -42,
	maxSafe: MAX_SAFE,
	minSafe: -MAX_SAFE,
	int32Max: 2147483647,
	int32Min: -2147483648,
	uint32Max: 4294967295,
	beyond32: 4294967296,
	ms: 1700000000123,
	half: 1500.5,
	tenth: 0.1,
	negFloat: -0.75,
	tiny: 1e-7,
	huge: 1.5e300,
	pi: 3.141592653589793,
	list: [0, -1, 2.5, MAX_SAFE, -MAX_SAFE]
};
const NESTED_META = {
	user: { id: 7, name: "Ann", roles: ["admin", "dev"], address: { city: "Zürich", geo: { lat: 47.37, lng: 8.54 } } },
	tenant: "t-1",
	flags: { beta: true, legacy: false, none: null },
	list: [{ a: 1 }, [1, [2, [3]]], "x", null, true],
	empty: {},
	emptyList: []
};

// cases returns the cases of one serializer: the sniffed ones ("broker-...")
// from own, the packets the brokers sent with that serializer, the others
// built on base, the packets of the JSON run.
function cases(base, own) {
	const s = base;
	const o = own;
	const c = {}; // TYPE -> name -> {about, payload}
	const add = (type, name, about, payload) => {
		c[type] = c[type] || {};
		if (c[type][name]) throw new Error(`duplicate case ${type}/${name}`);
		c[type][name] = { about, payload };
	};

	// ---------------------------------------------------------------- REQ
	const req = s.call;
	add("REQ", "broker-call", "sniffed: broker.call(\"math.add\", {a:5,b:3}, {meta:{user}, timeout:3000})", o.call);
	add("REQ", "broker-nested-call", "sniffed: ctx.call from a traced action: level 2, tracing true, parentID, caller, inherited meta", o.relayReq);
	add("REQ", "broker-stream-header", "sniffed: request stream, seq 0 (params null, stream true)", o.uploadReqs[0]);
	add("REQ", "broker-stream-chunk", "sniffed: request stream chunk, params Buffer, seq 1", o.uploadReqs[1]);
	add("REQ", "broker-stream-chunk-binary", "sniffed: request stream chunk with bytes 0x00 0xff, seq 2", o.uploadReqs[2]);
	add("REQ", "broker-stream-end", "sniffed: request stream end (stream false, params null, seq 3)", o.uploadReqs[3]);
	add("REQ", "minimal", "root call with empty params and meta, no timeout", variant(req, { id: "r-1", action: "s.a", params: {}, meta: {}, timeout: 0, requestID: "r-1" }));
	add("REQ", "full", "every field set: fractional timeout, level 3, tracing, parentID, caller", variant(req, {
		id: "r-2", action: "v2.greeter.hello", params: { name: "John", age: 42, tags: ["a", "b"] },
		meta: { user: { id: 1 }, lang: "en" }, timeout: 2987.4415, level: 3, tracing: true,
		parentID: "p-1", requestID: "root-1", caller: "v2.api"
	}));
	add("REQ", "params-undefined", "params undefined (key present, value undefined)", variant(req, { params: undefined }));
	add("REQ", "params-null", "params null", variant(req, { params: null }));
	add("REQ", "params-buffer", "params is a Buffer (top level)", variant(req, { params: Buffer.from([0, 1, 127, 128, 255]) }));
	add("REQ", "params-empty-buffer", "params is an empty Buffer", variant(req, { params: Buffer.alloc(0) }));
	add("REQ", "params-nested-buffer", "a Buffer inside params", variant(req, { params: { name: "f.bin", content: Buffer.from("hi\u0000") } }));
	add("REQ", "params-array", "params is an array", variant(req, { params: [1, "two", { three: 3 }, [4], null, false] }));
	add("REQ", "params-string", "params is a string", variant(req, { params: "just a string" }));
	add("REQ", "params-number", "params is a number", variant(req, { params: -12.5 }));
	add("REQ", "params-false", "params is false", variant(req, { params: false }));
	add("REQ", "params-undefined-fields", "object params with undefined-valued properties", variant(req, { params: { a: 1, b: undefined, c: { d: undefined, e: null } } }));
	add("REQ", "params-date", "a Date inside params", variant(req, { params: { when: new Date(PING_TIME) } }));
	add("REQ", "unicode", "unicode and escapes in action, params and meta", variant(req, {
		action: "café.grüß", params: { text: UNICODE, "ключ": "значение", "": "empty key" }, meta: { "用户": "😀" }
	}));
	add("REQ", "numbers", "integers up to 2^53-1, negative numbers, floats", variant(req, { params: NUMBERS, timeout: 0.5 }));
	add("REQ", "meta-nested", "deeply nested meta", variant(req, { meta: NESTED_META }));
	add("REQ", "stream-object-mode", "object-mode stream chunk: meta.$streamObjectMode, params object", variant(s.uploadReqs[1], {
		params: { row: 1, name: "x" }, meta: { $streamObjectMode: true }
	}));
	add("REQ", "stream-error", "request stream ending with meta.$streamError", variant(s.uploadReqs[3], {
		meta: { $streamError: { name: "Error", message: "source failed", nodeID: "node-a", retryable: false, stack: "Error: source failed" } }
	}));

	// ---------------------------------------------------------------- RES
	const res = s.callRes;
	add("RES", "broker-ok", "sniffed: result 8, meta merged back", o.callRes);
	add("RES", "broker-undefined", "sniffed: handler returned undefined (no data)", o.nothingRes);
	add("RES", "broker-null", "sniffed: handler returned null", o.nilRes);
	add("RES", "broker-buffer", "sniffed: handler returned a Buffer", o.bytesRes);
	add("RES", "broker-client-error", "sniffed: MoleculerClientError with code, type and data", o.failRes);
	add("RES", "broker-type-error", "sniffed: a TypeError (no code, type, retryable)", o.crashRes);
	add("RES", "broker-validation-error", "sniffed: ValidationError from the validator, data is an array", o.validationRes);
	add("RES", "broker-nested-ok", "sniffed: result of a call that made a nested call; meta changed by the handler", o.relayRes);
	add("RES", "broker-stream-header", "sniffed: response stream, seq 0 (data null, stream true)", o.downloadRes[0]);
	add("RES", "broker-stream-chunk", "sniffed: response stream chunk, data Buffer (Avro, ProtoBuf, Thrift: moleculer encodes meta twice, JS sees the string \"{}\")", o.downloadRes[1]);
	add("RES", "broker-stream-chunk-binary", "sniffed: response stream chunk with bytes >= 0x80", o.downloadRes[2]);
	add("RES", "broker-stream-end", "sniffed: response stream end (stream false)", o.downloadRes[o.downloadRes.length - 1]);
	add("RES", "minimal", "success with data undefined and empty meta", variant(s.nothingRes, { id: "r-1", meta: {} }));
	add("RES", "data-false", "data false", variant(res, { data: false }));
	add("RES", "data-zero", "data 0", variant(res, { data: 0 }));
	add("RES", "data-string", "data is a string", variant(res, { data: "done" }));
	add("RES", "data-array", "data is an array of objects", variant(res, { data: [{ id: 1, name: "x", tags: ["a", "b"] }, { id: 2, name: "y", tags: [] }] }));
	add("RES", "data-empty-buffer", "data is an empty Buffer", variant(res, { data: Buffer.alloc(0) }));
	add("RES", "data-nested-buffer", "a Buffer inside data", variant(res, { data: { file: Buffer.from([1, 2, 3]), list: [Buffer.from("ab")] } }));
	add("RES", "error-validation", "ValidationError with a data array of field errors", variant(s.failRes, {
		meta: {},
		error: {
			name: "ValidationError", message: "Parameters validation error!", nodeID: "node-b", code: 422,
			type: "VALIDATION_ERROR", retryable: false, stack: fakeStack("ValidationError", "Parameters validation error!"),
			data: [
				{ type: "required", message: "The 'name' field is required.", field: "name", nodeID: "node-b", action: "greeter.hello" },
				{ type: "numberMin", message: "The 'age' field must be greater than or equal to 18.", field: "age", actual: 3, expected: 18 }
			]
		}
	}));
	add("RES", "error-service-not-available", "ServiceNotAvailableError with data {action, nodeID}, retryable", variant(s.failRes, {
		meta: {},
		error: {
			name: "ServiceNotAvailableError", message: "Service 'greeter.hello' is not available on 'node-c' node.",
			nodeID: "node-b", code: 404, type: "SERVICE_NOT_AVAILABLE", retryable: true,
			data: { action: "greeter.hello", nodeID: "node-c" }
		}
	}));
	add("RES", "error-no-data", "error without data, code or stack", variant(s.failRes, {
		meta: {}, error: { name: "MoleculerError", message: "boom", nodeID: "node-b", code: 500, retryable: false }
	}));
	add("RES", "error-unicode", "error message and data with unicode", variant(s.failRes, {
		error: { name: "MoleculerClientError", message: "Fehler: Größe ungültig — 无效 🚫", nodeID: "node-b", code: 400, type: "BAD_SIZE", retryable: false, data: { text: UNICODE } }
	}));
	add("RES", "unicode", "unicode data and meta", variant(res, { data: { text: UNICODE }, meta: { "ключ": "значение" } }));
	add("RES", "numbers", "integers up to 2^53-1, negative numbers, floats", variant(res, { data: NUMBERS }));
	add("RES", "meta-nested", "deeply nested meta", variant(res, { meta: NESTED_META, data: { ok: true } }));

	// ---------------------------------------------------------------- EVENT
	const ev = s.emit;
	add("EVENT", "broker-emit", "sniffed: emit(\"user.created\", data, {meta}) to one group", o.emit);
	add("EVENT", "broker-emit-no-data", "sniffed: emit(\"order.created\") without data (data undefined), wildcard group", o.emitNoData);
	add("EVENT", "broker-broadcast", "sniffed: broadcast(\"config.changed\", data)", o.broadcast);
	add("EVENT", "minimal", "emit to one group, empty meta", variant(ev, { id: "e-1", event: "u.c", data: { z: 3 }, groups: ["g"], meta: {}, requestID: "e-1" }));
	add("EVENT", "full", "every field set: level, tracing, parentID, caller, groups", variant(ev, {
		id: "e-2", event: "order.shipped", data: { order: 77, items: [{ sku: "a", qty: 2 }] },
		groups: ["mail", "audit", "billing"], meta: { user: { id: 1 } }, level: 2, tracing: true,
		parentID: "p-9", requestID: "root-9", caller: "v2.orders"
	}));
	add("EVENT", "data-null", "data null", variant(ev, { data: null }));
	add("EVENT", "data-undefined", "data undefined (key present, value undefined)", variant(ev, { data: undefined }));
	add("EVENT", "data-buffer", "data is a Buffer", variant(ev, { data: Buffer.from([222, 173, 190, 239]) }));
	add("EVENT", "data-string", "data is a string", variant(ev, { data: "hello" }));
	add("EVENT", "data-array", "data is an array", variant(ev, { data: [1, [2, 3], { four: 4 }] }));
	add("EVENT", "broadcast-groups", "broadcast limited to groups", variant(s.broadcast, { groups: ["greeter", "audit"] }));
	add("EVENT", "internal-event", "a $-prefixed internal event name", variant(ev, { event: "$services.changed", data: { localService: false } }));
	add("EVENT", "unicode", "unicode event name and data", variant(ev, { event: "benutzer.erstellt.ü", data: { text: UNICODE } }));
	add("EVENT", "numbers", "integers up to 2^53-1, negative numbers, floats", variant(ev, { data: NUMBERS }));
	add("EVENT", "meta-nested", "deeply nested meta", variant(ev, { meta: NESTED_META }));

	// ---------------------------------------------------------------- INFO
	const infoB = s.infoB;
	add("INFO", "broker-node-b", "sniffed: $node, math, v2.greeter (events, groups, $secureSettings), staging.api; node metadata", o.infoB);
	add("INFO", "broker-node-a", "sniffed: $node and echo, empty metadata", o.infoA);
	add("INFO", "broker-stopping", "sniffed: INFO sent during broker.stop(): services [], seq bumped", o.infoStop);
	add("INFO", "minimal", "no services, empty config and metadata", variant(s.infoStop, {
		services: [], ipList: ["10.0.0.1"], hostname: "h1", instanceID: "i-1", metadata: {}, seq: 1
	}));
	add("INFO", "go-node", "a Go node's INFO: client type go", variant(s.infoStop, {
		services: [{
			name: "gopeer", fullName: "gopeer", settings: {}, metadata: {},
			actions: { "gopeer.echo": { name: "gopeer.echo", rawName: "echo", params: { msg: "string" } } },
			events: { "conformance.**": { name: "conformance.**", group: "gopeer" } }
		}],
		client: { type: "go", version: "0.1.0", langVersion: "go1.26.8" }, seq: 2
	}));
	const many = [];
	for (let i = 0; i < 12; i++) {
		const name = `svc${i}`;
		const version = i % 3 === 0 ? undefined : i % 3 === 1 ? i : `beta${i}`;
		const fullName = version === undefined ? name : typeof version === "number" ? `v${version}.${name}` : `${version}.${name}`;
		const actions = {};
		for (let j = 0; j < 4; j++) {
			const an = `${fullName}.act${j}`;
			actions[an] = { rawName: `act${j}`, name: an, params: { id: { type: "number", positive: true, integer: true } } };
		}
		const svc = { name };
		if (version !== undefined) svc.version = version;
		Object.assign(svc, { fullName, settings: {}, metadata: {}, actions, events: { [`${name}.changed`]: { name: `${name}.changed` } } });
		many.push(svc);
	}
	add("INFO", "many-services", "12 services of 4 actions: no version, numeric and string versions", variant(s.infoStop, { services: many, seq: 13 }));
	add("INFO", "versions", "services with version 2, version \"staging\", version 1.5, no version, and $noVersionPrefix", variant(s.infoStop, {
		services: [
			{ name: "users", version: 2, fullName: "v2.users", settings: {}, metadata: {}, actions: { "v2.users.get": { rawName: "get", name: "v2.users.get" } }, events: {} },
			{ name: "users", version: "staging", fullName: "staging.users", settings: {}, metadata: {}, actions: { "staging.users.get": { rawName: "get", name: "staging.users.get" } }, events: {} },
			{ name: "calc", version: 1.5, fullName: "v1.5.calc", settings: {}, metadata: {}, actions: {}, events: {} },
			{ name: "plain", fullName: "plain", settings: {}, metadata: {}, actions: { "plain.x": { rawName: "x", name: "plain.x" } }, events: {} },
			{ name: "api", version: 3, fullName: "api", settings: { $noVersionPrefix: true }, metadata: {}, actions: { "api.rest": { rawName: "rest", name: "api.rest" } }, events: {} }
		],
		seq: 4
	}));
	add("INFO", "params-schemas", "fastest-validator schemas: shorthands, nested objects, arrays, enums, defaults; action options", variant(s.infoStop, {
		services: [{
			name: "orders", fullName: "orders", settings: { rest: "/orders" }, metadata: {},
			actions: {
				"orders.create": {
					rawName: "create", name: "orders.create",
					params: {
						customer: { type: "object", props: { id: "number|integer|positive", email: "email", name: { type: "string", min: 2, max: 100, trim: true } } },
						items: { type: "array", min: 1, items: { type: "object", props: { sku: "string", qty: { type: "number", integer: true, default: 1 } } } },
						status: { type: "enum", values: ["new", "paid", "shipped"], default: "new" },
						note: "string|optional",
						$$strict: "remove"
					},
					timeout: 2500.5,
					retryPolicy: { enabled: true, retries: 3, delay: 100, maxDelay: 1000, factor: 2 },
					circuitBreaker: { enabled: true, threshold: 0.5 },
					bulkhead: { enabled: false },
					strategy: "RoundRobin",
					rest: { method: "POST", path: "/" },
					visibility: "published",
					cache: false,
					tracing: { tags: { params: ["customer"] } }
				}
			},
			events: { "payment.*": { name: "payment.*", group: "billing", context: true }, "**": { name: "**" } }
		}],
		seq: 5
	}));
	add("INFO", "metadata", "node metadata and service metadata with nested values, config", variant(s.infoStop, {
		services: [{ name: "geo", fullName: "geo", settings: {}, metadata: { region: "eu", weights: [0.5, 1, 2], nested: { a: { b: { c: null } } } }, actions: {}, events: {} }],
		config: {},
		metadata: { region: "eu-west-1", az: 3, labels: { team: "core", tier: "gold" }, empty: {}, list: [1, "two"] },
		seq: 6
	}));
	add("INFO", "unicode", "unicode service names, settings and metadata", variant(s.infoStop, {
		services: [{ name: "grüße", fullName: "grüße", settings: { text: UNICODE }, metadata: { "名": "値" }, actions: { "grüße.sagen": { rawName: "sagen", name: "grüße.sagen" } }, events: {} }],
		hostname: "hôte-α", metadata: { "emoji": "🚀" }, seq: 7
	}));

	// ---------------------------------------------------------------- others
	add("DISCOVER", "broker", "sniffed: broadcast DISCOVER", s.discover);
	add("DISCOVER", "unicode-sender", "DISCOVER from a node with a unicode ID", finish({}, "nœud-ü-1"));

	add("DISCONNECT", "broker", "sniffed: DISCONNECT on stop", s.disconnect);
	add("DISCONNECT", "long-sender", "DISCONNECT from a node with a long ID", finish({}, "node-" + "x".repeat(200)));

	add("HEARTBEAT", "broker", "sniffed: HEARTBEAT (cpu integer)", s.heartbeat);
	add("HEARTBEAT", "cpu-zero", "cpu 0", variant(s.heartbeat, { cpu: 0 }));
	add("HEARTBEAT", "cpu-float", "cpu fractional", variant(s.heartbeat, { cpu: 37.5 }));
	add("HEARTBEAT", "cpu-100", "cpu 100", variant(s.heartbeat, { cpu: 100 }));

	add("PING", "broker", "sniffed: broker.ping()", s.ping);
	// avsc refuses longs beyond ±(2^53-2), so the largest time every serializer takes is 2^53-2.
	add("PING", "time-max", "time 2^53-2, the largest long avsc accepts", variant(s.ping, { time: MAX_SAFE - 1, id: "p-1" }));
	add("PING", "time-small", "a small time", variant(s.ping, { time: 1, id: "p-2" }));

	add("PONG", "broker", "sniffed: PONG answering broker.ping()", s.pong);
	add("PONG", "time-max", "time and arrived near 2^53-2 (avsc's largest long)", variant(s.pong, { time: MAX_SAFE - 10, arrived: MAX_SAFE - 1 }));
	add("PONG", "arrived-before-time", "receiver clock behind the sender's", variant(s.pong, { time: PING_TIME, arrived: PING_TIME - 5000 }));

	const hello = finish({ host: "host-a", port: 4000 }, "node-a");
	add("GOSSIP_HELLO", "basic", "host name and port", hello);
	add("GOSSIP_HELLO", "ip-host", "IP address host, high port", variant(hello, { host: "192.0.2.10", port: 65535 }));

	// Node info as the TCP transporter gossips it (raw info incl. port, no ver/sender).
	const rawInfo = wire.clone(infoB);
	delete rawInfo.ver;
	delete rawInfo.sender;
	rawInfo.port = 4001;
	add("GOSSIP_REQ", "online-offline", "online [seq, cpuSeq, cpu] and offline seq", finish({
		online: { "node-a": [3, 12, 7], "node-b": [2, 1, 0] }, offline: { "node-c": 4 }
	}, "node-a"));
	add("GOSSIP_REQ", "online-only", "only online; cpu fractional", finish({ online: { "node-a": [1, 0, 0], "node-b": [5, 42, 12.5] } }, "node-a"));
	add("GOSSIP_REQ", "offline-only", "only offline", finish({ offline: { "node-c": 1, "node-d": 99 } }, "node-a"));
	add("GOSSIP_REQ", "empty", "neither map (both omitted)", finish({}, "node-a"));
	const bigOnline = {};
	for (let i = 0; i < 20; i++) bigOnline[`node-${i}`] = [i + 1, i * 3, i % 100];
	add("GOSSIP_REQ", "many-nodes", "20 online nodes", finish({ online: bigOnline }, "node-a"));
	add("GOSSIP_RES", "online-info", "online [info, cpuSeq, cpu] with full node info", finish({ online: { "node-b": [rawInfo, 3, 12] } }, "node-a"));
	add("GOSSIP_RES", "online-cpu", "online [cpuSeq, cpu] CPU updates", finish({ online: { "node-b": [4, 17], "node-c": [1, 0.5] } }, "node-a"));
	add("GOSSIP_RES", "online-info-only", "online [info]", finish({ online: { "node-b": [rawInfo] } }, "node-a"));
	add("GOSSIP_RES", "offline", "offline only", finish({ offline: { "node-c": 7 } }, "node-a"));
	add("GOSSIP_RES", "mixed", "online info, online cpu and offline", finish({
		online: { "node-b": [rawInfo, 3, 12], "node-d": [9, 55] }, offline: { "node-c": 7, "node-e": 1 }
	}, "node-a"));
	return c;
}

// sameAsJSON checks that the brokers sent the same payloads with serializer
// ser as with JSON, apart from one known moleculer quirk: a response stream's
// chunks are copies of the header payload after the serializer rewrote it,
// so with Avro, ProtoBuf and Thrift they carry the header's dataType and its
// meta already turned into a JSON string (which the serializer then encodes
// again: JS receivers get the string "{}" as meta); request stream chunks
// likewise carry the header's paramsType.
//
// With ProtoBuf, a REQ's tracing null arrives as false (proto3 has no null),
// so a nested call made by the receiving node is not traced: tracing false
// instead of true. That is compared as equal too.
function sameAsJSON(json, other, ser) {
	const undo = p => {
		const c = wire.clone(p);
		if (ser === "ProtoBuf" && c.tracing === false) c.tracing = true;
		delete c.paramsType;
		delete c.dataType;
		if (typeof c.meta === "string") c.meta = JSON.parse(c.meta);
		return c;
	};
	for (const k of Object.keys(json)) {
		const a = json[k], b = other[k];
		const same = Array.isArray(a)
			? Array.isArray(b) && a.length === b.length && a.every((p, i) => isDeepStrictEqual(p, undo(b[i])))
			: isDeepStrictEqual(a, undo(b));
		if (!same) throw new Error(`brokers with serializer ${ser} sent another ${k} than with JSON:\n${JSON.stringify(wire.view(b))}\n${JSON.stringify(wire.view(a))}`);
	}
}

// ------------------------------------------------------------ writing

function pkgVersion(name) {
	return JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", name, "package.json"), "utf8")).version;
}

async function main() {
	// One run of the brokers per serializer option. The payloads only differ
	// where moleculer reuses a payload object that a schema-based serializer
	// has already rewritten (see sameAsJSON).
	const sniffed = {};
	for (const ser of wire.SERIALIZERS) {
		const start = Date.now();
		sniffed[ser] = await sniff(ser);
		if (process.env.RECORDER_DEBUG) process.stderr.write(`${ser}: ${Date.now() - start} ms\n`);
		sameAsJSON(sniffed.JSON, sniffed[ser], ser);
	}
	const perSerializer = {};
	for (const ser of wire.SERIALIZERS) perSerializer[ser] = cases(sniffed.JSON, sniffed[ser]);
	const all = perSerializer.JSON;

	for (const t of wire.PACKET_TYPES) if (!all[t]) throw new Error(`no case for ${t}`);

	// Encode everything before touching the output directory.
	const files = [];
	for (const ser of wire.SERIALIZERS) {
		for (const type of wire.PACKET_TYPES) {
			for (const [name, { payload }] of Object.entries(perSerializer[ser][type])) {
				let bin, json;
				try {
					bin = wire.encode(ser, type, payload);
					json = wire.viewJSON(wire.decode(ser, type, bin));
				} catch (err) {
					throw new Error(`${ser} ${type}/${name}: ${err.message}`);
				}
				const dir = path.join(OUT, ser, type);
				files.push([path.join(dir, name + ".bin"), bin], [path.join(dir, name + ".json"), json + "\n"]);
			}
		}
	}

	for (const ser of wire.SERIALIZERS) fs.rmSync(path.join(OUT, ser), { recursive: true, force: true });
	for (const [file, data] of files) {
		fs.mkdirSync(path.dirname(file), { recursive: true });
		fs.writeFileSync(file, data);
	}
	const index = {
		about: "Serializer conformance corpus, recorded by compat/recorder.js from moleculer's own serializers. Regenerate: node compat/recorder.js conformance/testdata/v4",
		moleculer: ServiceBroker.MOLECULER_VERSION,
		serializers: wire.SERIALIZERS,
		libraries: Object.fromEntries(["avsc", "msgpack5", "notepack.io", "protobufjs", "thrift", "cbor-x"].map(n => [n, pkgVersion(n)])),
		cases: Object.fromEntries(wire.PACKET_TYPES.map(t => [t, Object.fromEntries(Object.entries(all[t]).map(([n, v]) => [n, v.about]))]))
	};
	fs.writeFileSync(path.join(OUT, "cases.json"), JSON.stringify(index, null, 1) + "\n");

	const counts = wire.PACKET_TYPES.map(t => `${t} ${Object.keys(all[t]).length}`).join(", ");
	process.stderr.write(`recorder: wrote ${files.length} files for ${wire.SERIALIZERS.length} serializers to ${OUT}\nrecorder: cases: ${counts}\n`);
}

main().catch(err => {
	process.stderr.write(`recorder: ${err && err.stack ? err.stack : err}\n`);
	process.exit(1);
});
