#!/usr/bin/env node
/*
 * Node.js reference figures for molbridge's benchmark comparison.
 *
 *   node compat/bench.js [--transporter nats://127.0.0.1:4222] [--seconds 3] [--namespace X]
 *
 * Prints one JSON object on stdout:
 *   {localCallsPerSec, localCallsNoFeaturesPerSec, localCallsAllFeaturesPerSec,
 *    natsCallsPerSec1, natsCallsPerSec64, node, moleculer}
 *
 * localCallsPerSec:  one broker without transporter, sequential
 *                    `await broker.call("bench.noop", params)` for N seconds.
 * localCallsNoFeaturesPerSec, localCallsAllFeaturesPerSec: the same with
 *                    "benchmw.add" {a: 1, b: 2}, first with no built-in
 *                    feature at work, then with all of them (params
 *                    validation, bulkhead, circuit breaker, a request
 *                    timeout, retry policy, a fallback), as bridge's
 *                    BenchmarkLocalCallMiddlewares.
 * natsCallsPerSec1:  calls from this process to a server broker in a SEPARATE
 *                    child process (this script run with --serve), over the
 *                    transporter with the JSON serializer, 1 call in flight.
 * natsCallsPerSec64: the same with 64 calls in flight.
 *
 * Loggers are off. The child is stopped on every way out (it also exits by
 * itself when our end of its stdin closes), and a watchdog ends everything
 * if something hangs.
 */
"use strict";

const { spawn } = require("child_process");
const { ServiceBroker } = require("moleculer");

const PARAMS = { a: 1, b: "bench" };
const WARMUP_MS = 300;

function parseArgs(argv) {
	const o = { transporter: "nats://127.0.0.1:4222", seconds: 3, namespace: "", serve: false, nodeID: "" };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const val = () => {
			if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
			return argv[++i];
		};
		if (a === "--transporter") o.transporter = val();
		else if (a === "--seconds") o.seconds = Number(val());
		else if (a === "--namespace") o.namespace = val();
		else if (a === "--serve") o.serve = true;
		else if (a === "--node-id") o.nodeID = val();
		else if (a === "-h" || a === "--help") {
			process.stdout.write(
				"usage: node compat/bench.js [--transporter URL] [--seconds N] [--namespace NS]\n"
			);
			process.exit(0);
		} else throw new Error(`unknown argument ${a}`);
	}
	if (!(o.seconds > 0)) throw new Error("--seconds must be a positive number");
	return o;
}

const benchService = {
	name: "bench",
	actions: {
		noop(ctx) {
			return ctx.params;
		}
	}
};

function newBroker(opts) {
	return new ServiceBroker(
		Object.assign({ logger: false, skipProcessEventRegistration: true }, opts)
	);
}

// Run `inFlight` loops of sequential calls for `ms`; returns calls per second.
async function measure(broker, inFlight, ms, action = "bench.noop", params = PARAMS) {
	let count = 0;
	const t0 = process.hrtime.bigint();
	const end = Date.now() + ms;
	const loop = async () => {
		while (Date.now() < end) {
			await broker.call(action, params);
			count++;
		}
	};
	await Promise.all(Array.from({ length: inFlight }, loop));
	const secs = Number(process.hrtime.bigint() - t0) / 1e9;
	return Math.round(count / secs);
}

// ---------------------------------------------------------------- server child

async function serve(o) {
	const broker = newBroker({
		nodeID: o.nodeID || `bench-server-${process.pid}`,
		namespace: o.namespace,
		transporter: o.transporter,
		serializer: "JSON"
	});
	broker.createService(benchService);
	let stopping = false;
	const stop = () => {
		if (stopping) return;
		stopping = true;
		setTimeout(() => process.exit(0), 5000).unref();
		broker.stop().finally(() => process.exit(0));
	};
	process.on("SIGTERM", stop);
	process.on("SIGINT", stop);
	process.stdin.on("end", stop);
	process.stdin.on("close", stop);
	process.stdin.on("error", stop);
	process.stdin.resume();
	await broker.start();
	process.stdout.write(`READY ${broker.nodeID}\n`);
}

// ---------------------------------------------------------------- main

function startServer(o, namespace) {
	const child = spawn(
		process.execPath,
		[
			__filename,
			"--serve",
			"--transporter",
			o.transporter,
			"--namespace",
			namespace,
			"--node-id",
			`bench-server-${process.pid}`
		],
		{ stdio: ["pipe", "pipe", "inherit"] }
	);
	const ready = new Promise((resolve, reject) => {
		let out = "";
		child.stdout.on("data", d => {
			out += d;
			if (out.includes("\n")) resolve(out.trim());
		});
		child.on("exit", (code, sig) =>
			reject(new Error(`bench server exited (code ${code}, signal ${sig}) before it was ready`))
		);
		setTimeout(() => reject(new Error("bench server not ready after 20 s")), 20000).unref();
	});
	const exited = new Promise(resolve => child.on("exit", resolve));
	return { child, ready, exited };
}

async function main(o) {
	const ms = o.seconds * 1000;
	const namespace = o.namespace || `bench-${process.pid}`;
	const result = {};

	// Watchdog: the whole run must not take much longer than planned.
	const budget = 3 * (ms + WARMUP_MS) + 40000;
	setTimeout(() => {
		process.stderr.write(`bench.js: gave up after ${budget} ms\n`);
		process.exit(1);
	}, budget).unref();

	// 1. local calls
	{
		const broker = newBroker({ nodeID: `bench-local-${process.pid}`, transporter: null });
		broker.createService(benchService);
		await broker.start();
		await measure(broker, 1, WARMUP_MS);
		result.localCallsPerSec = await measure(broker, 1, ms);
		await broker.stop();
	}

	// 1b. local calls with no built-in feature at work, then with all
	for (const [key, opts, action] of [
		["localCallsNoFeaturesPerSec", {}, { handler: () => 3 }],
		[
			"localCallsAllFeaturesPerSec",
			{
				requestTimeout: 5000,
				circuitBreaker: { enabled: true },
				retryPolicy: { enabled: true },
				bulkhead: { enabled: true, concurrency: 100 }
			},
			{ params: { a: "number", b: "number" }, fallback: () => 0, handler: () => 3 }
		]
	]) {
		const broker = newBroker({ nodeID: `bench-mw-${process.pid}`, transporter: null, ...opts });
		broker.createService({ name: "benchmw", actions: { add: action } });
		await broker.start();
		await measure(broker, 1, WARMUP_MS, "benchmw.add", { a: 1, b: 2 });
		result[key] = await measure(broker, 1, ms, "benchmw.add", { a: 1, b: 2 });
		await broker.stop();
	}

	// 2. remote calls: client here, server in a child process
	const server = startServer(o, namespace);
	process.on("exit", () => {
		if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGKILL");
	});
	let client;
	try {
		await server.ready;
		client = newBroker({
			nodeID: `bench-client-${process.pid}`,
			namespace,
			transporter: o.transporter,
			serializer: "JSON"
		});
		await client.start();
		await client.waitForServices("bench", 20000);
		await measure(client, 1, WARMUP_MS);
		result.natsCallsPerSec1 = await measure(client, 1, ms);
		await measure(client, 64, WARMUP_MS);
		result.natsCallsPerSec64 = await measure(client, 64, ms);
	} finally {
		if (client) await client.stop().catch(() => {});
		server.child.stdin.end();
		server.child.kill("SIGTERM");
		await Promise.race([server.exited, new Promise(r => setTimeout(r, 6000).unref())]);
	}

	result.node = process.version;
	result.moleculer = ServiceBroker.MOLECULER_VERSION;
	process.stdout.write(JSON.stringify(result) + "\n");
}

let opts;
try {
	opts = parseArgs(process.argv.slice(2));
} catch (err) {
	process.stderr.write(`bench.js: ${err.message}\n`);
	process.exit(2);
}
(opts.serve ? serve(opts) : main(opts).then(() => process.exit(0))).catch(err => {
	process.stderr.write(`bench.js: ${err && err.stack ? err.stack : err}\n`);
	process.exit(1);
});
