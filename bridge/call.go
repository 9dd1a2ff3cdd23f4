package bridge

import (
	"context"
	"fmt"
	"maps"
	"runtime/debug"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

// emptyParams is what a call without params sends, as JS turns undefined
// params into {}.
var emptyParams = packets.RawValue(packets.JSON, []byte("{}"))

// Call calls an action somewhere in the cluster and returns its result.
//
// When ctx is a *Context (or derives from one), the call is its child: see
// Context.Call. A deadline on ctx limits the call like a distributed
// timeout. params may be any value that encodes as JSON, or a Value; nil
// sends {}. The Call hooks of the middlewares run first.
func (b *Broker) Call(ctx context.Context, action string, params any, opts ...CallOption) (Value, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if len(opts) == 0 {
		return b.callFn(ctx, action, params, CallOptions{})
	}
	return b.callFn(ctx, action, params, collectCallOptions(opts))
}

// collectCallOptions applies opts; apart from Call so that the options of
// a call without any stay off the heap.
func collectCallOptions(opts []CallOption) CallOptions {
	var o CallOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// doCall is Call without the middlewares' Call hooks: it makes the context,
// picks an endpoint and runs the endpoint's handler chain.
func (b *Broker) doCall(ctx context.Context, action string, params any, o CallOptions) (Value, error) {
	parent := parentContext(ctx)
	if parent != nil && b.opts.MaxCallLevel > 0 && parent.Level >= b.opts.MaxCallLevel {
		return Undefined, errMaxCallLevel(b.nodeID, parent.Level)
	}
	// The remaining time of the caller's deadline bounds the call.
	if rem, ok := remaining(ctx); ok {
		if rem <= 0 {
			return Undefined, errRequestSkipped(action, b.nodeID)
		}
		if o.Timeout <= 0 || rem < o.Timeout {
			o.Timeout = rem
		}
	}

	c := &Context{Context: ctx, broker: b, Action: action, ID: newID(), opts: o}
	if params == nil {
		c.Params = emptyParams
	} else {
		c.Params = packets.ValueOf(params)
	}
	c.inherit(parent, o.Meta, o.RequestID)
	if o.Caller != "" {
		c.Caller = o.Caller
	}

	res, err := b.dispatch(c)
	if parent != nil && len(c.meta) > 0 {
		maps.Copy(parent.Meta(), c.meta)
	}
	return res, err
}

// inherit sets the fields a new context takes from its parent, as JS's
// Context.create does: a child continues the request chain one level down
// with the parent's meta merged under meta; a root context starts a chain
// (requestID, or its own ID) and uses meta itself, so that the caller sees
// the callee's changes in it. Without any meta the context's stays nil
// until something asks for it.
func (c *Context) inherit(parent *Context, meta Meta, requestID string) {
	if parent != nil {
		c.RequestID, c.ParentID, c.Level = parent.RequestID, parent.ID, parent.Level+1
		c.Caller, c.Tracing = parent.service, parent.Tracing
		pm := parent.meta
		if pm == nil && parent.rawMeta != nil {
			pm = parent.Meta()
		}
		if len(pm)+len(meta) > 0 {
			c.meta = make(Meta, len(pm)+len(meta))
			maps.Copy(c.meta, pm)
			maps.Copy(c.meta, meta)
		}
		return
	}
	c.RequestID, c.Level, c.meta = requestID, 1, meta
	if c.RequestID == "" {
		c.RequestID = c.ID
	}
}

// Undefined is the undefined result.
var Undefined = packets.Undefined

// dispatch picks an endpoint for c and runs its handler chain: the local
// action's, or the request to the remote node. The Retry middleware
// dispatches a copy of c again.
func (b *Broker) dispatch(c *Context) (Value, error) {
	var h Handler
	if b.balanced && c.opts.NodeID == "" {
		// The message broker balances: any node announcing the action
		// will do, this one included, and the request goes to the
		// action's queue.
		ep, err := b.reg.firstAction(c.Action)
		if err != nil {
			return Undefined, err
		}
		c.Endpoint, c.NodeID = ep, ""
		h = ep.remoteHandler()
	} else {
		ep, err := b.reg.nextAction(c.Action, c.opts.NodeID, c)
		if err != nil {
			return Undefined, err
		}
		c.Endpoint, c.NodeID = ep, ep.NodeID
		if ep.Local {
			c.service = ep.action.svc.fullName
			h = ep.action.handler
		} else {
			h = ep.handler
		}
	}
	res, err := h(c)
	if err != nil {
		return Undefined, err
	}
	return resultValue(res), nil
}

// actionTimeout is the timeout an action asks for: its definition's for a
// local action, its descriptor's for a remote one.
func (a *ActionSpec) actionTimeout() time.Duration {
	if a.Def != nil {
		return a.Def.Timeout
	}
	v, _ := a.Info.Field("timeout").Interface()
	d, _ := durationMS(v)
	return d
}

// invoke adapts a local action's handler: a panic becomes an error, as a
// thrown exception does in JS.
func (b *Broker) invoke(a *localAction) Handler {
	return func(c *Context) (res any, err error) {
		defer func() {
			if r := recover(); r != nil {
				b.log.Error("Action handler panicked.", "action", a.name, "panic", r, "stack", string(debug.Stack()))
				res, err = nil, NewError(fmt.Sprint(r), 500, "", nil)
			}
		}()
		return a.def.Handler(c)
	}
}

// resultValue turns a handler's result into a Value: nil is undefined.
func resultValue(res any) Value {
	switch v := res.(type) {
	case nil:
		return Undefined
	case Value:
		return v
	}
	return packets.ValueOf(res)
}

// request sends c as a REQ to c.NodeID ("" publishes to the action's
// balanced queue) and waits for the RES, for at most c's timeout. It is
// the innermost handler of every remote action.
func (b *Broker) request(c *Context) (any, error) {
	target := c.NodeID
	timeout := c.opts.Timeout
	p := b.newPendingCall(target, c.Action)
	b.pendingMu.Lock()
	if n := len(b.pending); n >= b.opts.MaxQueueSize {
		b.pendingMu.Unlock()
		b.callPool.Put(p)
		return nil, errQueueIsFull(c.Action, target, n, b.opts.MaxQueueSize)
	}
	b.pending[c.ID] = p
	b.pendingMu.Unlock()

	req := &packets.Request{
		ID: c.ID, Action: c.Action, Params: c.Params, Meta: c.metaValue(),
		Level: c.Level, Tracing: c.Tracing, ParentID: packets.NullString(c.ParentID),
		RequestID: c.RequestID, Caller: packets.NullString(c.Caller),
	}
	if timeout > 0 {
		req.Timeout = float64(timeout) / float64(time.Millisecond)
	}
	topic := protocol.TargetedTopic(protocol.Request, target)
	if target == "" {
		topic = protocol.BalancedRequestTopic(c.Action)
	}
	// The timeout covers the whole call, a slow publish included.
	var timer <-chan time.Time
	if timeout > 0 {
		p.timer.Reset(timeout)
		timer = p.timer.C
	}
	// p.timer is stopped on every way out; not deferred, because p may be
	// back in the pool and someone else's by then.
	if err := b.send(topic, req); err != nil {
		p.timer.Stop()
		b.dropPending(c.ID)
		return nil, err
	}
	select {
	case r := <-p.ch:
		// The one sender has sent: nobody else holds p any more.
		p.timer.Stop()
		b.callPool.Put(p)
		if r.err != nil {
			return nil, r.err
		}
		return b.settle(c, r.res)
	case <-timer:
		b.dropPending(c.ID)
		return nil, errRequestTimeout(c.Action, target)
	case <-c.Done():
		p.timer.Stop()
		b.dropPending(c.ID)
		if c.Err() == context.DeadlineExceeded {
			return nil, errRequestTimeout(c.Action, target)
		}
		return nil, c.Err()
	}
}

// newPendingCall returns a pending call for a request to nodeID, from the
// pool when it has one. Only a call whose result was taken goes back to the
// pool: after a timeout or a failed send, a sender may still hold it.
func (b *Broker) newPendingCall(nodeID, action string) *pendingCall {
	p, _ := b.callPool.Get().(*pendingCall)
	if p == nil {
		p = &pendingCall{ch: make(chan callResult, 1), timer: time.NewTimer(time.Hour)}
		p.timer.Stop()
	}
	p.nodeID, p.action = nodeID, action
	return p
}

// settle merges the response's meta into the caller's and returns the
// result or the rebuilt error.
func (b *Broker) settle(c *Context, res *packets.Response) (any, error) {
	c.NodeID = res.Sender
	// Most responses bring {}: nothing to decode or merge.
	if m := res.Meta; !m.IsUndefined() && !m.IsNull() && !m.IsEmptyObject() {
		if m, err := res.Meta.Map(); err != nil {
			b.log.Warn("The meta of a response could not be decoded.", "nodeID", res.Sender, "action", c.Action, "error", err)
		} else if len(m) > 0 {
			maps.Copy(c.Meta(), m)
		}
	}
	if !res.Success {
		if res.Error == nil {
			return nil, &Error{Name: "MoleculerError", Message: "Unknown error", Code: 500, NodeID: res.Sender}
		}
		return nil, errorFromPayload(res.Error, res.Sender)
	}
	return res.Data, nil
}

func (b *Broker) dropPending(id string) {
	b.pendingMu.Lock()
	delete(b.pending, id)
	b.pendingMu.Unlock()
}

// failPending rejects the pending calls that match.
func (b *Broker) failPending(match func(*pendingCall) bool, reason func(*pendingCall) error) {
	b.pendingMu.Lock()
	var failed []*pendingCall
	for id, p := range b.pending {
		if match(p) {
			failed = append(failed, p)
			delete(b.pending, id)
		}
	}
	b.pendingMu.Unlock()
	for _, p := range failed {
		p.ch <- callResult{err: reason(p)}
	}
}

// onResponse settles the pending call a RES answers.
func (b *Broker) onResponse(res *packets.Response) {
	b.pendingMu.Lock()
	p := b.pending[res.ID]
	delete(b.pending, res.ID)
	b.pendingMu.Unlock()
	if p == nil {
		b.log.Debug("Orphan response.", "id", res.ID, "sender", res.Sender)
		return
	}
	p.ch <- callResult{res: res}
}

// serveRequest runs a REQ from another node and answers with a RES.
func (b *Broker) serveRequest(req *packets.Request) {
	res := &packets.Response{ID: req.ID, Meta: req.Meta}
	v, err := b.runRequest(req, res)
	if err != nil {
		res.Error, res.Data = asError(err, b.nodeID).toPayload(), packets.Null
	} else {
		res.Success, res.Data = true, v
	}
	_ = b.send(protocol.TargetedTopic(protocol.Response, req.Sender), res)
}

// runRequest runs req's handler; the handler's meta goes to res.
func (b *Broker) runRequest(req *packets.Request, res *packets.Response) (Value, error) {
	if b.stopping.Load() {
		return Undefined, errServiceNotAvailable(req.Action, b.nodeID)
	}
	b.reg.mu.RLock()
	l := b.reg.actions[req.Action]
	var ep *Endpoint
	if l != nil {
		ep = l.nextLocal(nil)
	}
	hasLocal := l != nil && len(l.local) > 0
	b.reg.mu.RUnlock()
	if ep == nil {
		if hasLocal {
			return Undefined, errServiceNotAvailable(req.Action, b.nodeID)
		}
		return Undefined, errServiceNotFound(req.Action, b.nodeID)
	}
	c := &Context{
		Context: context.Background(), broker: b, ID: req.ID, Action: req.Action, Params: req.Params,
		rawMeta: &req.Meta, Level: req.Level, RequestID: req.RequestID, ParentID: string(req.ParentID),
		Caller: string(req.Caller), Tracing: req.Tracing, NodeID: req.Sender, Endpoint: ep,
		service: ep.action.svc.fullName,
	}
	// The caller's remaining budget; 0 is none, even where the action has
	// a timeout of its own.
	c.opts.Timeout = time.Duration(req.Timeout * float64(time.Millisecond))
	if c.opts.Timeout <= 0 {
		c.opts.Timeout = -1
	}
	v, err := ep.action.handler(c)
	res.Meta = c.metaValue()
	if err != nil {
		return Undefined, err
	}
	return resultValue(v), nil
}

// Call calls an action and decodes its result into T.
func Call[T any](ctx context.Context, b *Broker, action string, params any, opts ...CallOption) (T, error) {
	var out T
	v, err := b.Call(ctx, action, params, opts...)
	if err != nil {
		return out, err
	}
	if v.IsUndefined() {
		return out, nil
	}
	return out, v.Decode(&out)
}
