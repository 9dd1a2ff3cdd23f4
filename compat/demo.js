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
 * Environment: TRANSPORTER (default: TCP on loopback, see below), NAMESPACE (""),
 * NODEID ("js-demo"), DEMO_TIMEOUT (seconds before giving up with exit code 1;
 * 0, the default, waits forever).
 */
"use strict";

const net = require("net");
const { ServiceBroker } = require("moleculer");

// Without TRANSPORTER the demo runs on the TCP transporter with a static node
// list and no UDP discovery (examples/demo/main.go has the same list), bound
// to loopback: moleculer's TCP server has no bind option, so listen() is
// told the address.
const tcpURLs = ["127.0.0.1:4501/go-demo", "127.0.0.1:4502/js-demo"];
if (!process.env.TRANSPORTER) {
	const listen = net.Server.prototype.listen;
	net.Server.prototype.listen = function (...args) {
		if (args[0] !== null && typeof args[0] === "object" && !args[0].host && !args[0].path)
			args[0] = Object.assign({}, args[0], { host: "127.0.0.1" });
		else if (typeof args[0] === "number" && typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
		return listen.apply(this, args);
	};
}

const nodeID = process.env.NODEID || "js-demo";
const timeoutSecs = Number(process.env.DEMO_TIMEOUT || 0);

const broker = new ServiceBroker({
	nodeID,
	namespace: process.env.NAMESPACE || "",
	transporter: process.env.TRANSPORTER || {
		type: "TCP",
		options: { udpDiscovery: false, urls: tcpURLs }
	},
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
