#!/usr/bin/env node
/*
 * The JS half of molbridge's demo (scripts/demo.sh; Go half: examples/demo).
 *
 *   node compat/demo.js
 *
 * A plain moleculer node serving `jsgreeter.hello`. Once it sees the Go
 * service `gogreeter` in the cluster it calls `gogreeter.hello` and prints the
 * answer; when the Go node it called leaves, it stops. It also answers any
 * other Go node (e.g. examples/greeter) until Ctrl-C.
 *
 * Environment: TRANSPORTER ("nats://127.0.0.1:4222"), NAMESPACE (""),
 * NODEID ("js-demo"), DEMO_TIMEOUT (seconds before giving up with exit code 1;
 * 0, the default, waits forever).
 */
"use strict";

const { ServiceBroker } = require("moleculer");

const nodeID = process.env.NODEID || "js-demo";
const timeoutSecs = Number(process.env.DEMO_TIMEOUT || 0);

const broker = new ServiceBroker({
	nodeID,
	namespace: process.env.NAMESPACE || "",
	transporter: process.env.TRANSPORTER || "nats://127.0.0.1:4222",
	logger: { type: "Console", options: { level: "warn" } }
});

const say = line => process.stdout.write(`[js] ${line}\n`);

let goNode = null; // the Go node serving gogreeter.hello

broker.createService({
	name: "jsgreeter",
	actions: {
		hello: {
			params: { name: "string" },
			handler(ctx) {
				say(`served jsgreeter.hello for node ${ctx.nodeID}`);
				return `Hello, ${ctx.params.name}! (from JS node ${nodeID}, moleculer ${ServiceBroker.MOLECULER_VERSION})`;
			}
		}
	},
	events: {
		"$node.disconnected"(ctx) {
			if (goNode && ctx.params.node.id === goNode) {
				say(`Go node ${goNode} left; stopping.`);
				stop(0);
			}
		}
	}
});

let stopping = false;
function stop(code) {
	if (stopping) return;
	stopping = true;
	setTimeout(() => process.exit(code), 5000).unref();
	broker.stop().finally(() => process.exit(code));
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

async function main() {
	await broker.start();
	say(`node ${nodeID} started; waiting for the Go service gogreeter...`);
	if (timeoutSecs > 0) {
		setTimeout(() => {
			say(`gave up after ${timeoutSecs}s`);
			stop(1);
		}, timeoutSecs * 1000).unref();
	}
	await broker.waitForServices("gogreeter");
	const list = broker.registry.getActionEndpoints("gogreeter.hello");
	goNode = list && list.endpoints.length ? list.endpoints[0].id : null;
	const res = await broker.call("gogreeter.hello", { name: "JS" });
	say(`JS called Go: gogreeter.hello({name: "JS"}) -> ${JSON.stringify(res)}`);
}

main().catch(err => {
	process.stderr.write(`demo.js: ${err && err.stack ? err.stack : err}\n`);
	stop(1);
});
