#!/usr/bin/env node
/*
 * Prints, as JSON, the order in which moleculer 0.14.36 fires the hooks of
 * two user middlewares ("A" registered before "B") through a fixed scenario:
 * broker created, a local service created and started, a local call, a call
 * to a service of a second node, emit, broadcast, broadcastLocal, stop.
 * bridge's TestMiddlewareOrderMatchesJS runs the same scenario in Go and
 * compares. Hooks fired for "$" services, actions and events, and the
 * transporter hooks (which fire for every heartbeat), are left out of the
 * sequence; "transporter" says whether each transporter hook fired at all.
 */
"use strict";

const { ServiceBroker } = require("moleculer");

const seq = [];
const transporter = {};
const internal = name => typeof name === "string" && name.startsWith("$");

function recorder(mw) {
	const rec = (hook, name) => {
		if (!internal(name)) seq.push(name ? `${hook}:${mw}:${name}` : `${hook}:${mw}`);
	};
	const lifecycle = hook => () => rec(hook);
	const svcHook = hook => svc => rec(hook, svc.fullName);
	return {
		name: mw,
		created: lifecycle("created"),
		starting: lifecycle("starting"),
		started: lifecycle("started"),
		stopping: lifecycle("stopping"),
		stopped: lifecycle("stopped"),
		serviceCreated: svcHook("serviceCreated"),
		serviceStarting: svcHook("serviceStarting"),
		serviceStarted: svcHook("serviceStarted"),
		serviceStopping: svcHook("serviceStopping"),
		serviceStopped: svcHook("serviceStopped"),
		localAction: (next, action) => ctx => (rec("localAction", action.name), next(ctx)),
		remoteAction: (next, action) => ctx => (rec("remoteAction", action.name), next(ctx)),
		localEvent: (next, event) => ctx => (rec("localEvent", event.name), next(ctx)),
		call: next => (name, params, opts) => (rec("call", name), next(name, params, opts)),
		emit: next => (name, payload, opts) => (rec("emit", name), next(name, payload, opts)),
		broadcast: next => (name, payload, opts) => (rec("broadcast", name), next(name, payload, opts)),
		broadcastLocal: next => (name, payload, opts) => (rec("broadcastLocal", name), next(name, payload, opts)),
		transporterSend: next => (topic, data, meta) => ((transporter[`send:${mw}`] = true), next(topic, data, meta)),
		transporterReceive: next => (cmd, data, s) => ((transporter[`receive:${mw}`] = true), next(cmd, data, s))
	};
}

async function main() {
	const common = { namespace: `mworder-${process.pid}`, transporter: "Fake", logger: false };
	const remote = new ServiceBroker({ ...common, nodeID: "n2" });
	remote.createService({ name: "remote", actions: { act: () => "remote" } });
	await remote.start();

	const broker = new ServiceBroker({ ...common, nodeID: "n1", middlewares: [recorder("A"), recorder("B")] });
	broker.createService({
		name: "svc",
		actions: { act: () => (seq.push("handler:svc.act"), "local") },
		events: { ev: () => seq.push("handler:ev") }
	});
	await broker.start();
	await broker.waitForServices(["remote"]);

	seq.push("-- call local");
	await broker.call("svc.act");
	seq.push("-- call remote");
	await broker.call("remote.act");
	seq.push("-- emit");
	await broker.emit("ev");
	seq.push("-- broadcast");
	await broker.broadcast("ev");
	seq.push("-- broadcastLocal");
	await broker.broadcastLocal("ev");
	seq.push("-- stop");
	await broker.stop();
	await remote.stop();
	process.stdout.write(JSON.stringify({ sequence: seq, transporter }));
}

main().catch(err => {
	process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
	process.exit(1);
});
