#!/usr/bin/env node
/*
 * What moleculer's own ServiceBroker.createService makes of service
 * definitions with mixins, for molbridge's mixin merge test
 * (bridge/mixin_test.go).
 *
 * Usage: node mixins.js cases.json   (or the cases on stdin)
 *
 * The input is a JSON array of {name, service}. A service definition is
 * plain JSON, with markers (strings) where JS has functions:
 *
 *   {
 *     "name": "svc", "version": 2, "settings": {...}, "metadata": {...},
 *     "dependencies": ["a", "v2.b"],
 *     "actions": [{"name": "a", "handler": "M", "params": {...},
 *                  "visibility": "public", "timeout": 500, "rest": ...,
 *                  "disabled": true}],
 *     "events": [{"name": "e", "group": "g", "handler": "M"}],
 *     "methods": {"m": "M"},
 *     "merged": "M", "created": "M", "started": "M", "stopped": "M",
 *     "mixins": [ ...definitions ]
 *   }
 *
 * An action or event whose only field besides its name is "handler" becomes
 * a bare function, the others an object; "disabled" becomes false. A
 * handler or method returns its marker; an event handler and a lifecycle
 * handler append "<kind>:<marker>" to the case's log. A merged handler also
 * sets settings["merged_<marker>"] = true, to show that it sees (and may
 * change) the merged schema.
 *
 * For each case it prints (one JSON array on stdout) either {name, error}
 * or what the created, started and stopped service holds:
 *
 *   {name, fullName, version, settings, publicSettings, metadata,
 *    dependencies, actions: [{name, handler, params, visibility, timeout,
 *    rest}], events: [{name, group, handlers}], methods: {name: marker},
 *    lifecycle: ["merged:M", "created:M", "started:M", "stopped:M", ...]}
 *
 * actions and events are in the service's order; handler is the marker the
 * action returns; handlers are the markers of one emit, in call order.
 */
"use strict";

const fs = require("fs");
const { ServiceBroker } = require("moleculer");

function schemaOf(def, log) {
	const s = {};
	for (const k of ["name", "version", "settings", "metadata", "dependencies"]) {
		if (def[k] !== undefined) s[k] = def[k];
	}
	if (def.actions) {
		s.actions = {};
		for (const a of def.actions) {
			if (a.disabled) {
				s.actions[a.name] = false;
				continue;
			}
			const marker = a.handler;
			const handler = marker == null ? undefined : () => marker;
			const extra = Object.keys(a).filter(k => k !== "name" && k !== "handler");
			if (extra.length === 0 && handler) {
				s.actions[a.name] = handler;
				continue;
			}
			const o = {};
			for (const k of extra) o[k] = a[k];
			if (handler) o.handler = handler;
			s.actions[a.name] = o;
		}
	}
	if (def.events) {
		s.events = {};
		for (const e of def.events) {
			const marker = e.handler;
			const handler =
				marker == null
					? undefined
					: function (ctx) {
							log.push("event:" + marker);
					  };
			if (e.group === undefined && handler) {
				s.events[e.name] = handler;
				continue;
			}
			const o = {};
			if (e.group !== undefined) o.group = e.group;
			if (handler) o.handler = handler;
			s.events[e.name] = o;
		}
	}
	if (def.methods) {
		s.methods = {};
		for (const [name, marker] of Object.entries(def.methods)) s.methods[name] = () => marker;
	}
	if (def.merged) {
		const marker = def.merged;
		s.merged = schema => {
			log.push("merged:" + marker);
			schema.settings = schema.settings || {};
			schema.settings["merged_" + marker] = true;
		};
	}
	for (const kind of ["created", "started", "stopped"]) {
		if (def[kind]) {
			const marker = def[kind];
			s[kind] = () => {
				log.push(kind + ":" + marker);
			};
		}
	}
	if (def.mixins) s.mixins = def.mixins.map(m => schemaOf(m, log));
	return s;
}

async function runCase(c) {
	const log = [];
	const broker = new ServiceBroker({ nodeID: "mixins", logger: false, transporter: null, validator: false });
	let svc;
	try {
		svc = broker.createService(schemaOf(c.service, log));
	} catch (err) {
		return { name: c.name, error: err.message };
	}
	// Stand-ins for the dependencies, so that the service starts.
	for (const dep of svc.schema.dependencies || []) broker.createService({ name: dep });
	await broker.start();
	const spec = svc._serviceSpecification;
	const out = {
		name: c.name,
		fullName: svc.fullName,
		version: svc.version === undefined ? null : svc.version,
		settings: svc.settings,
		publicSettings: spec.settings,
		metadata: svc.metadata,
		dependencies: svc.schema.dependencies || [],
		actions: [],
		events: [],
		methods: {},
		lifecycle: null
	};
	for (const [name, call] of Object.entries(svc.actions)) {
		const a = Object.values(spec.actions).find(x => x.rawName === name);
		out.actions.push({
			name,
			handler: await call({}),
			params: a.params === undefined ? null : a.params,
			visibility: a.visibility === undefined ? null : a.visibility,
			timeout: a.timeout === undefined ? null : a.timeout,
			rest: a.rest === undefined ? null : a.rest
		});
	}
	for (const name of Object.keys(svc.events)) {
		const before = log.length;
		await svc.emitLocalEventHandler(name, {});
		const e = spec.events[name];
		out.events.push({
			name,
			group: e.group === undefined ? null : e.group,
			handlers: log.splice(before).map(x => x.slice("event:".length))
		});
	}
	for (const name of Object.keys(svc.schema.methods || {})) out.methods[name] = svc[name]();
	await broker.stop();
	out.lifecycle = log;
	return out;
}

async function main() {
	const input = fs.readFileSync(process.argv[2] || 0, "utf8");
	const cases = JSON.parse(input);
	const out = [];
	for (const c of cases) out.push(await runCase(c));
	process.stdout.write(JSON.stringify(out, null, 1) + "\n");
}

main().catch(err => {
	process.stderr.write(`mixins.js: ${err && err.stack ? err.stack : String(err)}\n`);
	process.exit(1);
});
