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
// sends {}.
func (b *Broker) Call(ctx context.Context, action string, params any, opts ...CallOption) (Value, error) {
	o := &noCallOptions
	if len(opts) > 0 {
		o = new(CallOptions)
		for _, f := range opts {
			f(o)
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	parent := parentContext(ctx)
	if parent != nil && b.opts.MaxCallLevel > 0 && parent.Level >= b.opts.MaxCallLevel {
		return Undefined, errMaxCallLevel(b.nodeID, parent.Level)
	}

	// The remaining time of the caller's deadline bounds the call.
	timeout := o.Timeout
	if rem, ok := remaining(ctx); ok {
		if rem <= 0 {
			return Undefined, errRequestSkipped(action, b.nodeID)
		}
		if timeout <= 0 || rem < timeout {
			timeout = rem
		}
	}

	c := &Context{broker: b, Action: action, ID: newID()}
	if params == nil {
		c.Params = emptyParams
	} else {
		c.Params = packets.ValueOf(params)
	}
	c.inherit(parent, o.Meta, o.RequestID)
	if o.Caller != "" {
		c.Caller = o.Caller
	}

	res, err := b.callEndpoint(ctx, c, timeout, o.NodeID)
	if parent != nil {
		maps.Copy(parent.Meta, c.Meta)
	}
	return res, err
}

// inherit sets the fields a new context takes from its parent, as JS's
// Context.create does: a child continues the request chain one level down
// with the parent's meta merged under meta; a root context starts a chain
// (requestID, or its own ID) and uses meta itself, so that the caller sees
// the callee's changes in it.
func (c *Context) inherit(parent *Context, meta Meta, requestID string) {
	if parent != nil {
		c.RequestID, c.ParentID, c.Level = parent.RequestID, parent.ID, parent.Level+1
		c.Caller, c.Tracing = parent.service, parent.Tracing
		c.Meta = make(Meta, len(parent.Meta)+len(meta))
		maps.Copy(c.Meta, parent.Meta)
		maps.Copy(c.Meta, meta)
		return
	}
	c.RequestID, c.Level, c.Meta = requestID, 1, meta
	if c.RequestID == "" {
		c.RequestID = c.ID
	}
	if c.Meta == nil {
		c.Meta = Meta{}
	}
}

// noCallOptions is shared, read-only, by the calls without options, so
// that they allocate none.
var noCallOptions CallOptions

// Undefined is the undefined result.
var Undefined = packets.Undefined

// callEndpoint picks an endpoint for c and runs the call there.
func (b *Broker) callEndpoint(ctx context.Context, c *Context, timeout time.Duration, nodeID string) (Value, error) {
	if b.balanced && nodeID == "" {
		// The message broker balances: any node announcing the action will do.
		l := b.reg.findAction(c.Action)
		if l == nil {
			return Undefined, errServiceNotFound(c.Action, "")
		}
		b.reg.mu.RLock()
		var first *Endpoint
		for _, ep := range l.endpoints {
			if ep.available() {
				first = ep
				break
			}
		}
		b.reg.mu.RUnlock()
		if first == nil {
			return Undefined, errServiceNotAvailable(c.Action, "")
		}
		if timeout <= 0 {
			timeout = b.actionTimeout(first)
		}
		return b.remoteCall(ctx, c, "", timeout)
	}
	ep, err := b.reg.nextAction(c.Action, nodeID, c)
	if err != nil {
		return Undefined, err
	}
	if timeout <= 0 {
		timeout = b.actionTimeout(ep)
	}
	c.NodeID = ep.NodeID
	if ep.Local {
		return b.localCall(ctx, c, ep.action, timeout)
	}
	return b.remoteCall(ctx, c, ep.NodeID, timeout)
}

// actionTimeout is the timeout an action asks for, else RequestTimeout.
func (b *Broker) actionTimeout(ep *Endpoint) time.Duration {
	if ep.action != nil && ep.action.timeout > 0 {
		return ep.action.timeout
	}
	if ms, ok := ep.info["timeout"].(float64); ok && ms > 0 {
		return time.Duration(ms * float64(time.Millisecond))
	}
	return b.opts.RequestTimeout
}

// localCall runs a local action, enforcing the timeout.
func (b *Broker) localCall(ctx context.Context, c *Context, a *localAction, timeout time.Duration) (Value, error) {
	c.service = a.svc.fullName
	if timeout <= 0 {
		c.Context = ctx
		return b.invoke(c, a)
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c.Context = tctx
	type outcome struct {
		v   Value
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		v, err := b.invoke(c, a)
		done <- outcome{v, err}
	}()
	select {
	case o := <-done:
		return o.v, o.err
	case <-tctx.Done():
		if ctx.Err() != nil && tctx.Err() != context.DeadlineExceeded {
			return Undefined, ctx.Err()
		}
		return Undefined, errRequestTimeout(c.Action, c.NodeID)
	}
}

// invoke runs a local action's handler; a panic becomes an error.
func (b *Broker) invoke(c *Context, a *localAction) (v Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("Action handler panicked.", "action", a.name, "panic", r, "stack", string(debug.Stack()))
			v, err = Undefined, NewError(fmt.Sprint(r), 500, "", nil)
		}
	}()
	res, err := a.handler(c)
	if err != nil {
		return Undefined, asError(err, b.nodeID)
	}
	return resultValue(res), nil
}

// resultValue turns a handler's result into a Value: nil is undefined.
func resultValue(res any) Value {
	if res == nil {
		return Undefined
	}
	return packets.ValueOf(res)
}

// remoteCall sends a REQ and waits for its RES. target "" publishes to the
// balanced topic of the action.
func (b *Broker) remoteCall(ctx context.Context, c *Context, target string, timeout time.Duration) (Value, error) {
	p := &pendingCall{nodeID: target, action: c.Action, ch: make(chan callResult, 1)}
	b.pendingMu.Lock()
	if n := len(b.pending); n >= b.opts.MaxQueueSize {
		b.pendingMu.Unlock()
		return Undefined, errQueueIsFull(c.Action, target, n, b.opts.MaxQueueSize)
	}
	b.pending[c.ID] = p
	b.pendingMu.Unlock()

	req := &packets.Request{
		ID: c.ID, Action: c.Action, Params: c.Params, Meta: c.Meta,
		Timeout: float64(timeout) / float64(time.Millisecond), Level: c.Level,
		Tracing: c.Tracing, ParentID: packets.NullString(c.ParentID), RequestID: c.RequestID,
		Caller: packets.NullString(c.Caller),
	}
	topic := protocol.TargetedTopic(protocol.Request, target)
	if target == "" {
		topic = protocol.BalancedRequestTopic(c.Action)
	}
	// The timeout covers the whole call, a slow publish included.
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	if err := b.send(topic, req); err != nil {
		b.dropPending(c.ID)
		return Undefined, err
	}
	select {
	case r := <-p.ch:
		if r.err != nil {
			return Undefined, r.err
		}
		return b.settle(c, r.res)
	case <-timer:
		b.dropPending(c.ID)
		return Undefined, errRequestTimeout(c.Action, target)
	case <-ctx.Done():
		b.dropPending(c.ID)
		if ctx.Err() == context.DeadlineExceeded {
			return Undefined, errRequestTimeout(c.Action, target)
		}
		return Undefined, ctx.Err()
	}
}

// settle merges the response's meta into the caller's and returns the
// result or the rebuilt error.
func (b *Broker) settle(c *Context, res *packets.Response) (Value, error) {
	c.NodeID = res.Sender
	maps.Copy(c.Meta, res.Meta)
	if !res.Success {
		if res.Error == nil {
			return Undefined, &Error{Name: "MoleculerError", Message: "Unknown error", Code: 500, NodeID: res.Sender}
		}
		return Undefined, errorFromPayload(res.Error, res.Sender)
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
	if res.Meta == nil {
		res.Meta = Meta{}
	}
	v, err := b.runRequest(req)
	if err != nil {
		res.Error, res.Data = asError(err, b.nodeID).toPayload(), packets.Null
	} else {
		res.Success, res.Data = true, v
	}
	_ = b.send(protocol.TargetedTopic(protocol.Response, req.Sender), res)
}

func (b *Broker) runRequest(req *packets.Request) (Value, error) {
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
	if req.Meta == nil {
		req.Meta = Meta{}
	}
	c := &Context{
		broker: b, ID: req.ID, Action: req.Action, Params: req.Params, Meta: req.Meta,
		Level: req.Level, RequestID: req.RequestID, ParentID: string(req.ParentID),
		Caller: string(req.Caller), Tracing: req.Tracing, NodeID: req.Sender,
	}
	timeout := time.Duration(req.Timeout * float64(time.Millisecond))
	v, err := b.localCall(context.Background(), c, ep.action, timeout)
	return v, err
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
