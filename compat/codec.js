#!/usr/bin/env node
/*
 * The real moleculer 0.14.36 serializers as a service, for Go tests.
 *
 *   node compat/codec.js
 *
 * Reads one JSON request per line on stdin and writes one JSON answer per
 * line on stdout, in the same order, until stdin ends. One process serves
 * every serializer.
 *
 *   {"id":1,"op":"decode","serializer":"MsgPack","type":"REQ","data":"<base64>"}
 *     -> {"id":1,"json":<the deserialized payload as JSON>}
 *   {"id":2,"op":"encode","serializer":"Avro","type":"RES","json":<payload>}
 *     -> {"id":2,"data":"<base64 of the serialized bytes>"}
 *   {"id":3,"op":"info"}
 *     -> {"id":3,"json":{"moleculer":"0.14.36","serializers":[...],"types":[...]}}
 *   any failure
 *     -> {"id":<id or null>,"error":"<message>"}
 *
 * "type" is JS's packet type name (REQ, RES, EVENT, DISCOVER, INFO,
 * DISCONNECT, HEARTBEAT, PING, PONG, GOSSIP_HELLO, GOSSIP_REQ, GOSSIP_RES);
 * "serializer" is a moleculer serializer name, matched without regard to
 * case. A decoded payload is rendered as recorder.js renders it (wire.js,
 * view()): own properties, Buffers as {"type":"Buffer","data":[...]},
 * protobufjs/thrift int64 wrappers as numbers. Before encoding, every
 * {"type":"Buffer","data":[...]} object of the payload becomes a Buffer again
 * (send "revive":false to keep such objects as they are); a property absent
 * from the JSON is undefined.
 */
"use strict";

const readline = require("readline");
const { ServiceBroker } = require("moleculer");
const wire = require("./wire");

function handle(req) {
	switch (req.op) {
		case "decode": {
			if (typeof req.data !== "string") throw new Error("decode: data must be a base64 string");
			const payload = wire.decode(req.serializer, req.type, Buffer.from(req.data, "base64"));
			const json = wire.viewJSON(payload);
			return { json: json === undefined ? "null" : json };
		}
		case "encode": {
			if (req.json === null || typeof req.json !== "object" || Array.isArray(req.json)) {
				throw new Error("encode: json must be the payload object");
			}
			const payload = req.revive === false ? req.json : wire.revive(req.json);
			return { data: wire.encode(req.serializer, req.type, payload).toString("base64") };
		}
		case "info":
			return {
				json: JSON.stringify({
					moleculer: ServiceBroker.MOLECULER_VERSION,
					serializers: wire.SERIALIZERS,
					types: wire.PACKET_TYPES
				})
			};
	}
	throw new Error(`unknown op ${JSON.stringify(req.op)} (decode, encode, info)`);
}

function answer(line) {
	let req;
	try {
		req = JSON.parse(line);
	} catch (err) {
		return JSON.stringify({ id: null, error: `bad request line: ${err.message}` });
	}
	const id = req && req.id !== undefined ? req.id : null;
	try {
		const out = handle(req || {});
		if (out.json !== undefined) return `{"id":${JSON.stringify(id)},"json":${out.json}}`;
		return JSON.stringify({ id, data: out.data });
	} catch (err) {
		return JSON.stringify({ id, error: String(err && err.message ? err.message : err) });
	}
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", line => {
	if (line.trim() === "") return;
	process.stdout.write(answer(line) + "\n");
});
rl.on("close", () => process.exitCode = 0);
