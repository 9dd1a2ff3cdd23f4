#!/usr/bin/env node
/*
 * A configurable Node.js moleculer node for molbridge's interoperability tests.
 *
 * Go tests start it as a child process, wait for the line "READY <nodeID>" on
 * its stdout, talk to it through the cluster, and stop it with SIGTERM or by
 * closing its stdin. Logs go to stderr; stdout carries only the READY line.
 *
 * Configuration (environment; the moleculer runner's variable names are
 * accepted as aliases where they differ):
 *   NODEID              required
 *   TRANSPORTER         "nats://127.0.0.1:4222"  (URL or transporter name)
 *   TRANSPORTER_OPTIONS JSON object merged into the transporter options
 *   SERIALIZER          "JSON"
 *   NAMESPACE           ""
 *   DISABLE_BALANCER    "true" / "false"   (alias DISABLEBALANCER)
 *   HEARTBEAT_INTERVAL  seconds, 10        (alias HEARTBEATINTERVAL)
 *   HEARTBEAT_TIMEOUT   seconds, 30        (alias HEARTBEATTIMEOUT)
 *   REQUEST_TIMEOUT     ms, 0              (alias REQUESTTIMEOUT)
 *   PREFER_LOCAL        "false" disables registry.preferLocal (alias REGISTRY_PREFERLOCAL)
 *   LOGLEVEL            "warn"; "none" turns the logger off
 *   SERVICES            "jspeer,jspeer-audit,shared" (catalog names below;
 *                       jsruntime is there too, not loaded by default)
 *   LISTEN_HOST         optional: force every TCP server of this process
 *                       (the TCP transporter's) to listen on this address
 *   EXIT_ON_STDIN_EOF   "false" keeps the node running when stdin closes
 *   BROKER_OPTIONS      JSON object merged over the broker options above
 *                       (circuitBreaker, retryPolicy, bulkhead, ...); moleculer
 *                       fills the rest of each option from its defaults
 *   STRATEGY            registry.strategy ("RoundRobin", "Shard", ...)
 *   STRATEGY_OPTIONS    registry.strategyOptions, a JSON object
 *   NODE_HOSTNAME       the host name this node announces in INFO, in
 *                       place of os.hostname() (Latency groups by host)
 *   FAKE_CPU            a number: the CPU use this node reports in its
 *                       heartbeats, in place of the measured one (moleculer
 *                       measures the whole host, so nodes sharing a machine
 *                       cannot otherwise report different loads)
 *   PONG_DELAY_MS       hold every PONG this node sends for so long, to
 *                       make it look far away
 */
"use strict";

const net = require("net");
const { ServiceBroker, Errors } = require("moleculer");

// ------------------------------------------------------------ stdout / stderr

// moleculer's console logger writes info/debug lines with console.log, which
// goes to stdout. Keep stdout for the READY line only.
const writeStdout = process.stdout.write.bind(process.stdout);
console.log = console.error;
console.info = console.error;
console.debug = console.error;

function fail(err) {
	process.stderr.write(`jsnode: ${err && err.stack ? err.stack : String(err)}\n`);
	process.exit(1);
}
// Once the node is stopping, an error thrown by a client library as its
// connection closes (amqplib's "Channel closing" when a heartbeat timer
// fires mid-stop) is not the node's failure: it is logged and the stop goes
// on.
let shuttingDown = false;
const onUncaught = err => {
	if (!shuttingDown) fail(err);
	process.stderr.write(`jsnode: while stopping: ${err && err.message ? err.message : String(err)}\n`);
};
process.on("uncaughtException", onUncaught);
process.on("unhandledRejection", onUncaught);

// ------------------------------------------------------------ configuration

function env(...names) {
	for (const n of names) {
		const v = process.env[n];
		if (v !== undefined && v !== "") return v;
	}
	return undefined;
}

function envBool(def, ...names) {
	const v = env(...names);
	if (v === undefined) return def;
	if (/^(true|1|yes|on)$/i.test(v)) return true;
	if (/^(false|0|no|off)$/i.test(v)) return false;
	throw new Error(`${names[0]}: expected true or false, got ${JSON.stringify(v)}`);
}

function envNumber(def, ...names) {
	const v = env(...names);
	if (v === undefined) return def;
	const n = Number(v);
	if (!Number.isFinite(n)) throw new Error(`${names[0]}: expected a number, got ${JSON.stringify(v)}`);
	return n;
}

// Transporter option: the plain string (as the moleculer runner passes it)
// unless TRANSPORTER_OPTIONS asks for more, then {type, options} with the
// URL translated the way each transporter would translate it.
function transporterConfig(spec, extra) {
	if (!extra) return spec;
	const scheme = /^([a-z0-9]+):\/\//i.exec(spec);
	if (!scheme) return { type: spec, options: extra }; // a name: "TCP", "Fake", ...
	const proto = scheme[1].toLowerCase();
	switch (proto) {
		case "nats":
			return { type: "NATS", options: Object.assign({ url: spec }, extra) };
		case "stan":
			return {
				type: "STAN",
				options: Object.assign({ url: spec.replace("stan://", "nats://") }, extra)
			};
		case "amqp":
		case "amqps":
			return { type: "AMQP", options: Object.assign({ url: spec }, extra) };
		case "amqp10":
			return { type: "AMQP10", options: Object.assign({ url: spec }, extra) };
		case "kafka":
			return { type: "Kafka", options: Object.assign({ host: spec.slice(8) }, extra) };
		case "redis":
		case "rediss": {
			// ioredis takes a URL only as a string; spell it out as options.
			const u = new URL(spec);
			// disableClientInfo: ioredis 5.x sends CLIENT SETINFO before its
			// ready check, and on a reconnect the resubscription can slip
			// in between, so that the check's INFO fails with "Connection
			// in subscriber mode" and the node dies (ioredis issue #2037;
			// seen once in the Redis restart test under load).
			const o = { host: u.hostname || "127.0.0.1", port: Number(u.port) || 6379, disableClientInfo: true };
			if (u.username) o.username = decodeURIComponent(u.username);
			if (u.password) o.password = decodeURIComponent(u.password);
			if (u.pathname && u.pathname.length > 1) o.db = Number(u.pathname.slice(1));
			if (proto === "rediss") o.tls = {};
			return { type: "Redis", options: Object.assign(o, extra) };
		}
		case "mqtt":
		case "mqtts": {
			// mqtt.connect(object) wants protocol/host/port, not a URL.
			const u = new URL(spec);
			const o = {
				protocol: proto,
				host: u.hostname || "127.0.0.1",
				port: Number(u.port) || (proto === "mqtts" ? 8883 : 1883)
			};
			if (u.username) o.username = decodeURIComponent(u.username);
			if (u.password) o.password = decodeURIComponent(u.password);
			return { type: "MQTT", options: Object.assign(o, extra) };
		}
		case "tcp":
			return { type: "TCP", options: Object.assign({ urls: spec }, extra) };
		default:
			throw new Error(`TRANSPORTER: unknown scheme in ${JSON.stringify(spec)}`);
	}
}

const nodeID = env("NODEID");
if (!nodeID) fail(new Error("NODEID is required"));

let transporterOptions;
const rawTxOpts = env("TRANSPORTER_OPTIONS");
if (rawTxOpts) {
	try {
		transporterOptions = JSON.parse(rawTxOpts);
	} catch (err) {
		fail(new Error(`TRANSPORTER_OPTIONS is not valid JSON: ${err.message}`));
	}
	if (transporterOptions == null || typeof transporterOptions !== "object" || Array.isArray(transporterOptions))
		fail(new Error("TRANSPORTER_OPTIONS must be a JSON object"));
}

const logLevel = (env("LOGLEVEL") || "warn").toLowerCase();

function envJSONObject(name) {
	const raw = env(name);
	if (raw === undefined) return undefined;
	let v;
	try {
		v = JSON.parse(raw);
	} catch (err) {
		throw new Error(`${name} is not valid JSON: ${err.message}`);
	}
	if (v == null || typeof v !== "object" || Array.isArray(v)) throw new Error(`${name} must be a JSON object`);
	return v;
}

// Test middlewares, each enabled by its variable.
const testMiddlewares = [];
const pongDelay = envNumber(0, "PONG_DELAY_MS");
if (pongDelay > 0) {
	testMiddlewares.push({
		name: "PongDelay",
		transporterSend(next) {
			return (topic, data, meta) =>
				meta && meta.packet && meta.packet.type === "PONG"
					? sleep(pongDelay).then(() => next(topic, data, meta))
					: next(topic, data, meta);
		}
	});
}

const brokerOptions = {
	nodeID,
	namespace: env("NAMESPACE") || "",
	transporter: transporterConfig(env("TRANSPORTER") || "nats://127.0.0.1:4222", transporterOptions),
	serializer: env("SERIALIZER") || "JSON",
	disableBalancer: envBool(false, "DISABLE_BALANCER", "DISABLEBALANCER"),
	heartbeatInterval: envNumber(10, "HEARTBEAT_INTERVAL", "HEARTBEATINTERVAL"),
	heartbeatTimeout: envNumber(30, "HEARTBEAT_TIMEOUT", "HEARTBEATTIMEOUT"),
	requestTimeout: envNumber(0, "REQUEST_TIMEOUT", "REQUESTTIMEOUT"),
	registry: {
		preferLocal: envBool(true, "PREFER_LOCAL", "REGISTRY_PREFERLOCAL")
	},
	middlewares: testMiddlewares,
	logger:
		logLevel === "none" || logLevel === "false"
			? false
			: {
					type: "Console",
					options: { level: logLevel, colors: false, moduleColors: false }
			  },
	// We handle signals ourselves (stop, then exit 0).
	skipProcessEventRegistration: true
};

const rawBrokerOpts = env("BROKER_OPTIONS");
if (rawBrokerOpts) {
	let extra;
	try {
		extra = JSON.parse(rawBrokerOpts);
	} catch (err) {
		fail(new Error(`BROKER_OPTIONS is not valid JSON: ${err.message}`));
	}
	if (extra == null || typeof extra !== "object" || Array.isArray(extra))
		fail(new Error("BROKER_OPTIONS must be a JSON object"));
	Object.assign(brokerOptions, extra);
}
if (env("STRATEGY")) brokerOptions.registry.strategy = env("STRATEGY");
const strategyOptions = envJSONObject("STRATEGY_OPTIONS");
if (strategyOptions) brokerOptions.registry.strategyOptions = strategyOptions;

const listenHost = env("LISTEN_HOST");
if (listenHost) {
	// moleculer's TCP transporter has no bind-address option.
	const origListen = net.Server.prototype.listen;
	net.Server.prototype.listen = function (...args) {
		if (args.length > 0 && args[0] !== null && typeof args[0] === "object" && !args[0].host && !args[0].path) {
			args[0] = Object.assign({}, args[0], { host: listenHost });
		} else if (typeof args[0] === "number" && typeof args[1] !== "string") {
			args.splice(1, 0, listenHost);
		}
		return origListen.apply(this, args);
	};
}

// ------------------------------------------------------------ catalog services

const received = []; // events seen by any catalog service of this process
const breakerEvents = []; // $circuit-breaker.* events seen by ftpeer

// The state of the ft service: how ft.work fails, and what it has seen.
const ft = { failures: 0, error: null, delay: 0, calls: 0, inFlight: 0, maxInFlight: 0 };
// What ft's "ft.sleepy" event handler has seen.
const ftEvents = { handled: 0, inFlight: 0, maxInFlight: 0 };

function recordEvent(ctx) {
	received.push({
		event: ctx.eventName,
		data: ctx.params,
		// The group moleculer registered this handler under (event-catalog:
		// event.group || service name).
		group: (ctx.event && ctx.event.group) || ctx.service.name,
		sender: ctx.nodeID,
		service: ctx.service.name
	});
}

const runtimeLifecycle = []; // see the jsruntime service

const sleep = ms => new Promise(resolve => setTimeout(resolve, Number(ms) || 0));

function plainError(err) {
	if (err == null) return { name: "Error", message: String(err) };
	return {
		name: err.name,
		message: err.message,
		code: err.code,
		type: err.type,
		data: err.data,
		retryable: err.retryable,
		nodeID: err.nodeID
	};
}

// {...opts, meta}: `meta` wins over opts.meta when both are given.
function callOpts(p) {
	const opts = Object.assign({}, p.opts || {});
	if (p.meta !== undefined) opts.meta = p.meta;
	return opts;
}

function makeCatalog(broker) {
	return {
		jspeer: {
			name: "jspeer",
			actions: {
				echo(ctx) {
					const res = {
						params: ctx.params,
						meta: Object.assign({}, ctx.meta),
						nodeID: broker.nodeID,
						caller: ctx.caller,
						level: ctx.level,
						requestID: ctx.requestID,
						parentID: ctx.parentID
					};
					ctx.meta.echoed = true;
					return res;
				},
				add: {
					params: { a: "number", b: "number" },
					handler(ctx) {
						return ctx.params.a + ctx.params.b;
					}
				},
				fail(ctx) {
					const p = ctx.params || {};
					const classes = {
						MoleculerError: Errors.MoleculerError,
						MoleculerClientError: Errors.MoleculerClientError,
						MoleculerRetryableError: Errors.MoleculerRetryableError
					};
					const Cls = classes[p.name || "MoleculerError"];
					if (!Cls) throw new Errors.MoleculerClientError(`fail: unknown error name ${p.name}`, 422, "BAD_NAME");
					const err = new Cls(p.message, p.code, p.type, p.data);
					if (p.retryable !== undefined) err.retryable = p.retryable;
					throw err;
				},
				async sleep(ctx) {
					const ms = Number(ctx.params.ms) || 0;
					await sleep(ms);
					return { slept: ms };
				},
				undef() {
					return undefined;
				},
				nul() {
					return null;
				},
				whoami() {
					return broker.nodeID;
				},
				call(ctx) {
					const p = ctx.params || {};
					return ctx.call(p.action, p.params, callOpts(p));
				},
				async capture(ctx) {
					const p = ctx.params || {};
					const t0 = process.hrtime.bigint();
					try {
						const result = await ctx.call(p.action, p.params, callOpts(p));
						return {
							ok: true,
							result,
							resultUndefined: result === undefined,
							meta: ctx.meta,
							elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6
						};
					} catch (err) {
						return {
							ok: false,
							error: plainError(err),
							meta: ctx.meta,
							elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6
						};
					}
				},
				async brokerCapture(ctx) {
					const p = ctx.params || {};
					const t0 = process.hrtime.bigint();
					const opts = callOpts(p);
					// A root call: no parentCtx, so level 1 and no parentID.
					const promise = broker.call(p.action, p.params, opts);
					const metaAfter = () => (promise.ctx ? promise.ctx.meta : opts.meta || {});
					try {
						const result = await promise;
						return {
							ok: true,
							result,
							resultUndefined: result === undefined,
							meta: metaAfter(),
							elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6
						};
					} catch (err) {
						return {
							ok: false,
							error: plainError(err),
							meta: metaAfter(),
							elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6
						};
					}
				},
				async emit(ctx) {
					const p = ctx.params || {};
					const opts = p.groups != null ? { groups: p.groups } : undefined;
					if (p.broadcast) await ctx.broadcast(p.event, p.data, opts);
					else await ctx.emit(p.event, p.data, opts);
					return true;
				},
				received() {
					return received;
				},
				reset() {
					received.length = 0;
					return true;
				},
				nodes() {
					return broker.registry.nodes.toArray().map(n => ({
						id: n.id,
						available: n.available,
						local: n.local,
						instanceID: n.instanceID,
						seq: n.seq,
						cpu: n.cpu,
						client: n.client
					}));
				},
				endpoints(ctx) {
					const list = broker.registry.getActionEndpoints(ctx.params.action);
					if (!list) return [];
					return list.endpoints.filter(ep => ep.isAvailable).map(ep => ep.id);
				},
				async waitFor(ctx) {
					const p = ctx.params || {};
					await broker.waitForServices(p.services, p.timeout);
					return true;
				}
			},
			events: {
				"conformance.**": {
					group: "jspeer",
					context: true,
					handler(ctx) {
						recordEvent(ctx);
					}
				}
			}
		},

		"jspeer-audit": {
			name: "jspeer-audit",
			events: {
				"conformance.**": {
					group: "jspeer-audit",
					context: true,
					handler(ctx) {
						recordEvent(ctx);
					}
				}
			}
		},

		// Services made and destroyed at runtime, for the hot add/remove
		// and dependency tests: create {name, version, actions: [names],
		// dependencies} makes a service whose actions return {nodeID,
		// service, action} (it starts once its dependencies are up);
		// destroy {name, version} is broker.destroyService; lifecycle lists
		// the "started:<fullName>" / "stopped:<fullName>" of those services.
		jsruntime: {
			name: "jsruntime",
			actions: {
				create(ctx) {
					const p = ctx.params || {};
					const schema = { name: p.name, actions: {} };
					if (p.version != null) schema.version = p.version;
					if (p.dependencies) schema.dependencies = p.dependencies;
					for (const a of p.actions || []) {
						schema.actions[a] = function () {
							return { nodeID: broker.nodeID, service: this.fullName, action: a };
						};
					}
					schema.started = function () {
						runtimeLifecycle.push("started:" + this.fullName);
					};
					schema.stopped = function () {
						runtimeLifecycle.push("stopped:" + this.fullName);
					};
					const svc = broker.createService(schema);
					return { fullName: svc.fullName };
				},
				async destroy(ctx) {
					const p = ctx.params || {};
					await broker.destroyService(p.version != null ? { name: p.name, version: p.version } : p.name);
					return true;
				},
				lifecycle() {
					return runtimeLifecycle;
				}
			}
		},

		// Fault tolerance: ft.work is an action that fails on demand
		// (ft.configure, called on one node) and counts its executions.
		ft: {
			name: "ft",
			actions: {
				async work(ctx) {
					ft.calls++;
					ft.inFlight++;
					ft.maxInFlight = Math.max(ft.maxInFlight, ft.inFlight);
					try {
						await sleep((ctx.params || {}).ms || ft.delay);
						if (ft.failures !== 0) {
							if (ft.failures > 0) ft.failures--;
							const e = ft.error || {};
							const classes = {
								MoleculerError: Errors.MoleculerError,
								MoleculerRetryableError: Errors.MoleculerRetryableError
							};
							const Cls = classes[e.name || "MoleculerRetryableError"];
							throw new Cls(e.message || "ft.work failed", e.code, e.type, e.data);
						}
						return { nodeID: broker.nodeID, call: ft.calls };
					} finally {
						ft.inFlight--;
					}
				},
				// {failures: n (-1: every call), error: {name, message, code, type, data},
				// delay: ms} sets how the next calls fail (and how long they take
				// when params.ms does not say) and resets the counters.
				configure(ctx) {
					const p = ctx.params || {};
					ft.failures = Number(p.failures) || 0;
					ft.error = p.error || null;
					ft.delay = Number(p.delay) || 0;
					ft.calls = 0;
					ft.maxInFlight = ft.inFlight;
					ftEvents.handled = 0;
					ftEvents.maxInFlight = ftEvents.inFlight;
					return true;
				},
				stats() {
					return {
						calls: ft.calls,
						inFlight: ft.inFlight,
						maxInFlight: ft.maxInFlight,
						events: { handled: ftEvents.handled, maxInFlight: ftEvents.maxInFlight }
					};
				},
				guarded: {
					handler() {
						throw new Errors.MoleculerError("guarded failed", 500, "GUARDED");
					},
					fallback(ctx, err) {
						return { fallback: true, error: err.name, nodeID: broker.nodeID, params: ctx.params };
					}
				},
				// Blocks the event loop for params.ms, then answers: the node
				// can neither answer nor time out the request meanwhile.
				block(ctx) {
					const end = Date.now() + (Number((ctx.params || {}).ms) || 0);
					while (Date.now() < end) {
						// busy
					}
					return { nodeID: broker.nodeID };
				},
				// A per-action circuit breaker, published in INFO: callers
				// apply it. Every call fails.
				fragile: {
					circuitBreaker: { enabled: true, minRequestCount: 2, threshold: 0.5, halfOpenTime: 60000 },
					handler() {
						ft.calls++;
						throw new Errors.MoleculerError("fragile failed", 500, "FRAGILE");
					}
				},
				// A per-action retry policy, published in INFO: callers apply it.
				retried: {
					retryPolicy: { enabled: true, retries: 2, delay: 50 },
					handler() {
						ft.calls++;
						throw new Errors.MoleculerRetryableError("retried failed", 500, "RETRIED");
					}
				}
			},
			events: {
				// Sleeps data.ms; counts the deliveries that ran.
				"ft.sleepy": {
					context: true,
					async handler(ctx) {
						ftEvents.inFlight++;
						ftEvents.maxInFlight = Math.max(ftEvents.maxInFlight, ftEvents.inFlight);
						try {
							await sleep((ctx.params || {}).ms);
							ftEvents.handled++;
						} finally {
							ftEvents.inFlight--;
						}
					}
				}
			}
		},

		// The caller's side of the fault-tolerance tests.
		ftpeer: {
			name: "ftpeer",
			actions: {
				// {action, params, opts, count}: count concurrent root calls;
				// returns each outcome, in order.
				async burst(ctx) {
					const p = ctx.params || {};
					const one = () =>
						broker.call(p.action, p.params, callOpts(p)).then(
							result => ({ ok: true, result }),
							err => ({ ok: false, error: plainError(err) })
						);
					return Promise.all(Array.from({ length: Number(p.count) || 1 }, one));
				},
				// {event, data, count}: count broadcasts at once.
				async broadcastMany(ctx) {
					const p = ctx.params || {};
					await Promise.all(
						Array.from({ length: Number(p.count) || 1 }, () => broker.broadcast(p.event, p.data))
					);
					return true;
				},
				breakerEvents() {
					return breakerEvents;
				}
			},
			events: {
				"$circuit-breaker.**": {
					context: true,
					handler(ctx) {
						breakerEvents.push({ event: ctx.eventName, data: ctx.params, sender: ctx.nodeID });
					}
				}
			}
		},

		// An action that carries its own strategy (JS's action-level
		// strategy and strategyOptions), for callers to follow.
		sharded: {
			name: "sharded",
			actions: {
				whoami: {
					strategy: "Shard",
					strategyOptions: { shardKey: "key" },
					handler() {
						return { nodeID: broker.nodeID };
					}
				}
			}
		},

		shared: {
			name: "shared",
			actions: {
				whoami() {
					return { nodeID: broker.nodeID };
				},
				async slow(ctx) {
					await sleep(ctx.params.ms);
					return { nodeID: broker.nodeID };
				}
			}
		}
	};
}

// ------------------------------------------------------------ main

async function main() {
	const broker = new ServiceBroker(brokerOptions);
	const hostname = env("NODE_HOSTNAME");
	if (hostname) broker.registry.nodes.localNode.hostname = hostname;
	if (env("FAKE_CPU") !== undefined) {
		const cpu = envNumber(0, "FAKE_CPU");
		broker.getCpuUsage = () => Promise.resolve({ avg: cpu, usages: [] });
	}
	const catalog = makeCatalog(broker);

	const wanted = (env("SERVICES") || "jspeer,jspeer-audit,shared")
		.split(",")
		.map(s => s.trim())
		.filter(Boolean);
	for (const name of wanted) {
		if (!catalog[name])
			throw new Error(`SERVICES: unknown service '${name}' (known: ${Object.keys(catalog).join(", ")})`);
		broker.createService(catalog[name]);
	}

	let stopping = false;
	let ready = false;
	const shutdown = reason => {
		if (stopping) return;
		stopping = true;
		shuttingDown = true;
		process.stderr.write(`jsnode ${nodeID}: stopping (${reason})\n`);
		// Never hang on the way out.
		setTimeout(() => {
			process.stderr.write(`jsnode ${nodeID}: broker.stop() took too long, exiting\n`);
			process.exit(0);
		}, 10000).unref();
		broker
			.stop()
			.catch(err => process.stderr.write(`jsnode ${nodeID}: stop failed: ${err && err.stack}\n`))
			.then(() => process.exit(0));
	};
	process.on("SIGTERM", () => shutdown("SIGTERM"));
	process.on("SIGINT", () => shutdown("SIGINT"));
	if (envBool(true, "EXIT_ON_STDIN_EOF")) {
		// The parent holds the other end of our stdin: when it dies, so do we.
		const why = () =>
			ready ? "stdin closed" : "stdin closed before READY; give it a stdin pipe or set EXIT_ON_STDIN_EOF=false";
		process.stdin.on("end", () => shutdown(why()));
		process.stdin.on("close", () => shutdown(why()));
		process.stdin.on("error", () => shutdown("stdin error"));
		process.stdin.on("data", () => {});
		process.stdin.resume();
	}

	await broker.start();
	if (!stopping) {
		ready = true;
		writeStdout(`READY ${broker.nodeID}\n`);
	}
}

main().catch(fail);
