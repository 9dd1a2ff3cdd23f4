/*
 * Helpers shared by recorder.js, codec.js and serbench.js: the real moleculer
 * 0.14.36 serializers, and the JSON view of a payload "as JS sees it".
 */
"use strict";

const { ServiceBroker } = require("moleculer");

// The serializers of moleculer 0.14.36, by the names JS knows them by.
const SERIALIZERS = ["JSON", "Avro", "MsgPack", "Notepack", "ProtoBuf", "Thrift", "CBOR"];

// The packet types of protocol 4.
const PACKET_TYPES = [
	"REQ", "RES", "EVENT", "DISCOVER", "INFO", "DISCONNECT", "HEARTBEAT",
	"PING", "PONG", "GOSSIP_HELLO", "GOSSIP_REQ", "GOSSIP_RES"
];

const cache = new Map();

// serializer returns the serializer a ServiceBroker created with the option
// `serializer: name` uses: moleculer resolves the name and calls init(broker).
// The broker is never started.
function serializer(name) {
	const canonical = SERIALIZERS.find(n => n.toLowerCase() === String(name).toLowerCase());
	if (!canonical) throw new Error(`unknown serializer ${JSON.stringify(name)} (known: ${SERIALIZERS.join(", ")})`);
	let s = cache.get(canonical);
	if (!s) {
		const broker = new ServiceBroker({ logger: false, serializer: canonical });
		s = broker.serializer;
		cache.set(canonical, s);
	}
	return s;
}

function checkType(type) {
	if (!PACKET_TYPES.includes(type)) throw new Error(`unknown packet type ${JSON.stringify(type)} (known: ${PACKET_TYPES.join(", ")})`);
}

// clone copies a payload deeply, keeping Buffers as Buffers and properties
// whose value is undefined (CBOR writes those). The schema-based serializers
// rewrite the object they are given, so every serialize call gets a copy.
function clone(v) {
	if (Buffer.isBuffer(v)) return Buffer.from(v);
	if (v instanceof Date) return new Date(v.getTime());
	if (Array.isArray(v)) return v.map(clone);
	if (v !== null && typeof v === "object") {
		const out = {};
		for (const k of Object.keys(v)) out[k] = clone(v[k]);
		return out;
	}
	return v;
}

// encode serializes a payload the way the base transporter hands it over.
function encode(name, type, payload) {
	checkType(type);
	return Buffer.from(serializer(name).serialize(clone(payload), type));
}

// decode deserializes a packet's bytes.
function decode(name, type, bytes) {
	checkType(type);
	return serializer(name).deserialize(Buffer.from(bytes), type);
}

function isInt64Wrapper(v) {
	// protobufjs Long {low, high, unsigned}; thrift's node-int64 Int64 {buffer, offset}.
	return typeof v.toNumber === "function" &&
		(("low" in v && "high" in v) || (Buffer.isBuffer(v.buffer) && "offset" in v));
}

// view turns a deserialized payload into plain JSON data, the way JS code
// sees it: own enumerable properties only (the toJSON methods of protobufjs
// messages would rename and re-encode fields), Buffers and other byte arrays
// as {"type":"Buffer","data":[...]}, Dates as ISO strings, the int64
// wrappers of protobufjs (Long) and thrift (Int64) as the numbers moleculer
// uses them as, BigInts as numbers. undefined stays undefined, so
// JSON.stringify leaves such properties out (and writes null in arrays).
function view(v) {
	if (v === null || v === undefined) return v;
	switch (typeof v) {
		case "bigint":
			return Number(v);
		case "object":
			break;
		default:
			return v;
	}
	if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { type: "Buffer", data: Array.from(v) };
	if (v instanceof Date) return v.toISOString();
	if (Array.isArray(v)) return v.map(view);
	if (isInt64Wrapper(v)) return v.toNumber(true);
	const out = {};
	for (const k of Object.keys(v)) out[k] = view(v[k]);
	return out;
}

// viewJSON is JSON.stringify of the view.
function viewJSON(payload) {
	return JSON.stringify(view(payload));
}

// revive turns every {"type":"Buffer","data":[bytes]} object back into a
// Buffer: the inverse of view for binary data.
function revive(v) {
	if (Array.isArray(v)) return v.map(revive);
	if (v !== null && typeof v === "object") {
		const keys = Object.keys(v);
		if (keys.length === 2 && v.type === "Buffer" && Array.isArray(v.data) &&
			v.data.every(b => Number.isInteger(b) && b >= 0 && b <= 255)) {
			return Buffer.from(v.data);
		}
		const out = {};
		for (const k of keys) out[k] = revive(v[k]);
		return out;
	}
	return v;
}

module.exports = { SERIALIZERS, PACKET_TYPES, serializer, clone, encode, decode, view, viewJSON, revive };
