package bridge

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

// eventContext builds the context of a new event, a child of ctx's
// Moleculer context when it has one.
func (b *Broker) eventContext(ctx context.Context, event string, data any, eventType string, o *EmitOptions) *Context {
	if ctx == nil {
		ctx = context.Background()
	}
	c := &Context{Context: ctx, broker: b, ID: newID(), EventName: event, EventType: eventType,
		EventGroups: o.Groups, Params: resultValue(data), NodeID: b.nodeID}
	c.inherit(parentContext(ctx), o.Meta, "")
	c.Meta() // the copies each handler gets share one meta, as in JS
	return c
}

// Emit sends an event to one handler of every group that listens to it
// (or of the given groups), wherever they run. Local handlers run before
// Emit returns; their errors are logged, not returned.
func (b *Broker) Emit(ctx context.Context, event string, data any, opts ...EmitOption) error {
	var o EmitOptions
	for _, f := range opts {
		f(&o)
	}
	return b.emitFn(ctx, event, data, o)
}

// doEmit is Emit without the middlewares' Emit hooks.
func (b *Broker) doEmit(ctx context.Context, event string, data any, o EmitOptions) error {
	if len(event) > 0 && event[0] == '$' {
		b.publishLocal(event, data)
	}
	c := b.eventContext(ctx, event, data, "emit", &o)
	if b.balanced {
		groups := o.Groups
		if len(groups) == 0 {
			groups = b.reg.eventGroups(event)
		}
		for _, g := range groups {
			p := b.eventPacket(c, []string{g}, false)
			if err := b.send(protocol.BalancedEventTopic(g, event), p); err != nil {
				return err
			}
		}
		return nil
	}
	perNode := map[string][]string{}
	var order []string
	for _, ge := range b.reg.balancedEventEndpoints(event, o.Groups, c) {
		if ge.ep.Local {
			b.callEventHandler(c, ge.ep.event, c.EventType)
			continue
		}
		if _, seen := perNode[ge.ep.NodeID]; !seen {
			order = append(order, ge.ep.NodeID)
		}
		perNode[ge.ep.NodeID] = append(perNode[ge.ep.NodeID], ge.group)
	}
	var firstErr error
	for _, node := range order {
		if err := b.send(protocol.TargetedTopic(protocol.Event, node), b.eventPacket(c, perNode[node], false)); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// Broadcast sends an event to every handler that listens to it, on every
// node (limited to the given groups).
func (b *Broker) Broadcast(ctx context.Context, event string, data any, opts ...EmitOption) error {
	var o EmitOptions
	for _, f := range opts {
		f(&o)
	}
	return b.broadcastFn(ctx, event, data, o)
}

// doBroadcast is Broadcast without the middlewares' Broadcast hooks.
func (b *Broker) doBroadcast(ctx context.Context, event string, data any, o EmitOptions) error {
	c := b.eventContext(ctx, event, data, "broadcast", &o)
	var firstErr error
	if b.tr != nil {
		if b.balanced {
			groups := o.Groups
			if len(groups) == 0 {
				groups = b.reg.eventGroups(event)
			}
			if len(groups) == 0 {
				return nil
			}
			// Every node, this one included, gets its copy through the
			// message broker.
			for _, ep := range b.reg.allEventEndpoints(event, groups) {
				if err := b.send(protocol.TargetedTopic(protocol.Event, ep.NodeID), b.eventPacket(c, groups, true)); err != nil && firstErr == nil {
					firstErr = err
				}
			}
			return firstErr
		}
		for _, ep := range b.reg.allEventEndpoints(event, o.Groups) {
			if ep.Local {
				continue
			}
			if err := b.send(protocol.TargetedTopic(protocol.Event, ep.NodeID), b.eventPacket(c, o.Groups, true)); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	// The local handlers get theirs through BroadcastLocal, as in JS.
	if err := b.broadcastLocalFn(ctx, event, data, o); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

// BroadcastLocal sends an event to every local handler that listens to it.
func (b *Broker) BroadcastLocal(ctx context.Context, event string, data any, opts ...EmitOption) error {
	var o EmitOptions
	for _, f := range opts {
		f(&o)
	}
	return b.broadcastLocalFn(ctx, event, data, o)
}

// doBroadcastLocal is BroadcastLocal without the middlewares' hooks.
func (b *Broker) doBroadcastLocal(ctx context.Context, event string, data any, o EmitOptions) error {
	if len(event) > 0 && event[0] == '$' {
		b.publishLocal(event, data)
	}
	b.broadcastLocal(b.eventContext(ctx, event, data, "broadcastLocal", &o))
	return nil
}

func (b *Broker) broadcastLocal(c *Context) {
	for _, ep := range b.reg.localEventTargets(c.EventName, c.EventGroups, true, c) {
		b.callEventHandler(c, ep.event, "broadcastLocal")
	}
}

func (b *Broker) eventPacket(c *Context, groups []string, broadcast bool) *packets.Event {
	return &packets.Event{
		ID: newID(), Event: c.EventName, Data: c.Params, Groups: groups, Broadcast: broadcast,
		Meta: c.metaValue(), Level: c.Level, Tracing: c.Tracing, ParentID: packets.NullString(c.ParentID),
		RequestID: c.RequestID, Caller: packets.NullString(c.Caller),
	}
}

// callEventHandler runs one handler with a copy of the event's context, as
// JS runs each handler with ctx.copy: a fresh ID, the handler's service as
// the context's service.
func (b *Broker) callEventHandler(c *Context, e *localEvent, eventType string) {
	cc := *c
	cc.ID = newID()
	cc.EventType = eventType
	cc.service = e.svc.fullName
	if cc.Context == nil {
		cc.Context = context.Background()
	}
	_ = e.handler(&cc) // the ErrorHandler middleware logs errors
}

// invokeEvent adapts an event handler: a panic becomes an error.
func (b *Broker) invokeEvent(e *localEvent) EventHandler {
	return func(c *Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				b.log.Error("Event handler panicked.", "event", c.EventName, "panic", r, "stack", string(debug.Stack()))
				err = NewError(fmt.Sprint(r), 500, "", nil)
			}
		}()
		return e.def.Handler(c)
	}
}

// onEvent delivers an EVENT from another node to the local handlers.
func (b *Broker) onEvent(p *packets.Event) {
	if b.stopping.Load() {
		return
	}
	eventType := "emit"
	if p.Broadcast {
		eventType = "broadcast"
	}
	c := &Context{
		Context: context.Background(), broker: b, ID: p.ID, EventName: p.Event, EventType: eventType,
		EventGroups: p.Groups, Params: p.Data, rawMeta: &p.Meta, Level: p.Level, RequestID: p.RequestID,
		ParentID: string(p.ParentID), Caller: string(p.Caller), Tracing: p.Tracing, NodeID: p.Sender,
	}
	targets := b.reg.localEventTargets(p.Event, p.Groups, p.Broadcast, c)
	if len(targets) > 1 {
		c.Meta() // the handlers share one meta, as in JS
	}
	for _, ep := range targets {
		b.callEventHandler(c, ep.event, eventType)
	}
}
