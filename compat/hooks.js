#!/usr/bin/env node
/*
 * Prints, as JSON, the order in which moleculer 0.14.36 runs action hooks
 * (service-level "*" and named ones, a mixin's and the service's, and an
 * action's own) and what each call returns, for bridge's
 * TestActionHooksMatchJS, which builds the same service in Go.
 */
"use strict";

const { ServiceBroker } = require("moleculer");

let seq = [];
const before = name => () => void seq.push(name);
const after = name => (ctx, res) => (seq.push(name), `${res}|${name}`);
const rethrow = name => (ctx, err) => {
	seq.push(name);
	throw new Error(`${err.message}|${name}`);
};
const recover = name => (ctx, err) => (seq.push(name), `recovered:${err.message}`);

const mixin = {
	hooks: {
		before: { "*": before("mixin.before.*"), get: before("mixin.before.get") },
		after: { "*": after("mixin.after.*"), get: after("mixin.after.get") },
		error: { "*": rethrow("mixin.error.*") }
	}
};

const schema = {
	name: "svc",
	mixins: [mixin],
	hooks: {
		before: { "get|fail": before("svc.before.get|fail"), "*": before("svc.before.*"), "o*": before("svc.before.o*") },
		after: { get: after("svc.after.get"), "*": after("svc.after.*") },
		error: { fail: rethrow("svc.error.fail"), "*": recover("svc.error.*") }
	},
	actions: {
		get: {
			hooks: { before: before("action.before"), after: [after("action.after.1"), after("action.after.2")] },
			handler: () => (seq.push("handler"), "r")
		},
		fail: {
			hooks: { error: rethrow("action.error") },
			handler: () => {
				seq.push("handler");
				throw new Error("boom");
			}
		},
		other: () => (seq.push("handler"), "o")
	}
};

async function main() {
	const broker = new ServiceBroker({ logger: false, nodeID: "hooks" });
	broker.createService(schema);
	await broker.start();
	const out = {};
	for (const a of ["get", "fail", "other"]) {
		seq = [];
		try {
			out[a] = { result: await broker.call(`svc.${a}`), seq };
		} catch (err) {
			out[a] = { error: err.message, seq };
		}
	}
	await broker.stop();
	process.stdout.write(JSON.stringify(out));
}

main().catch(err => {
	process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
	process.exit(1);
});
