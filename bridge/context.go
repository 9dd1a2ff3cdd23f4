package bridge

import (
	"context"
	"time"

	"github.com/molbridge/molbridge/packets"
)

// Context is the Moleculer context of one action call or event delivery.
// It is also a context.Context: its deadline is the call's distributed
// timeout, and it is done when the call is abandoned.
//
// A Context belongs to the goroutine running the handler; do not keep it
// after the handler returns.
type Context struct {
	context.Context

	// ID is this call's or event copy's unique ID.
	ID string
	// RequestID is shared by every call in one request chain.
	RequestID string
	// ParentID is the ID of the calling context, "" for a root call.
	ParentID string
	// Caller is the full name of the calling service, "" when none.
	Caller string
	// Level is the call depth: 1 for a root call.
	Level int
	// NodeID is the node the call or event came from.
	NodeID string
	// Tracing is the caller's sampling decision, nil when undecided.
	Tracing *bool

	// Action is the full action name, "" for events.
	Action string
	// Params are the call's params or the event's data.
	Params Value
	// meta travels with the call (see Meta). It stays nil until it is
	// needed; Meta then makes it from rawMeta, the meta another node sent
	// (in the packet's payload, which lives as long as the context), or
	// empty.
	meta    Meta
	rawMeta *packets.Value

	// EventName is the concrete event name, for events.
	EventName string
	// EventType is "emit", "broadcast" or "broadcastLocal", for events.
	EventType string
	// EventGroups are the groups the event was sent to, when limited.
	EventGroups []string

	// Endpoint is the endpoint the call was sent to: the local action, or
	// the remote node's. Nil for events.
	Endpoint *Endpoint

	broker  *Broker
	service string      // full name of the service whose handler runs
	opts    CallOptions // the call's options, as the middlewares resolve them

	retryAttempts  int
	fallbackResult bool
}

// Meta returns the call's or event's meta, never nil. A handler's changes
// reach the caller, and a child call or event passes it on. Meta from
// another node is decoded on the first call; until then a served request
// sends it back as it came, unread. Like the Context, the map belongs to
// the goroutine running the handler.
func (c *Context) Meta() Meta {
	if c.meta == nil {
		c.meta = c.decodeMeta()
	}
	return c.meta
}

func (c *Context) decodeMeta() Meta {
	var m Meta
	if c.rawMeta != nil {
		var err error
		if m, err = c.rawMeta.Map(); err != nil && c.broker != nil {
			c.broker.log.Warn("Meta from another node could not be decoded; the handler sees none.",
				"nodeID", c.NodeID, "requestID", c.RequestID, "error", err)
		}
		c.rawMeta = nil
	}
	if m == nil {
		m = Meta{}
	}
	return m
}

// emptyMeta is the meta of a packet when the context has none. Nothing
// changes it: it only goes into packets.
var emptyMeta = packets.ValueOf(Meta{})

// metaValue is the meta to send in a packet: as it came when nothing has
// read it, and {} for none, as JS's meta is `payload.meta || {}`.
func (c *Context) metaValue() packets.Value {
	if c.meta == nil {
		if c.rawMeta == nil || c.rawMeta.IsUndefined() || c.rawMeta.IsNull() {
			return emptyMeta
		}
		return *c.rawMeta
	}
	return packets.ValueOf(c.meta)
}

// Options returns the call's options. Middlewares may change them: the
// Timeout middleware, for one, fills in the timeout the call runs with.
func (c *Context) Options() *CallOptions { return &c.opts }

// FallbackResult reports whether the result came from a fallback.
func (c *Context) FallbackResult() bool { return c.fallbackResult }

// Broker returns the broker that runs the handler.
func (c *Context) Broker() *Broker { return c.broker }

// Service returns the full name of the service whose handler runs.
func (c *Context) Service() string { return c.service }

// Call calls an action as a child of this context: the level grows by one,
// the request ID and meta are passed on, the remaining time of the
// distributed timeout limits the call, and the callee's meta changes merge
// into c.Meta().
func (c *Context) Call(action string, params any, opts ...CallOption) (Value, error) {
	return c.broker.Call(c, action, params, opts...)
}

// Emit emits an event as a child of this context.
func (c *Context) Emit(event string, data any, opts ...EmitOption) error {
	return c.broker.Emit(c, event, data, opts...)
}

// Broadcast broadcasts an event as a child of this context.
func (c *Context) Broadcast(event string, data any, opts ...EmitOption) error {
	return c.broker.Broadcast(c, event, data, opts...)
}

// remaining returns the time left before the context's deadline, and
// whether it has one.
func remaining(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return time.Until(d), true
}

type ctxKey struct{}

// parentContext finds the Moleculer context a Go context was derived from.
func parentContext(ctx context.Context) *Context {
	if c, ok := ctx.(*Context); ok {
		return c
	}
	if ctx == nil {
		return nil
	}
	c, _ := ctx.Value(ctxKey{}).(*Context)
	return c
}

// Value returns the Context itself for its own key, so that Go contexts
// derived from it (context.WithTimeout(ctx, ...)) still make child calls.
func (c *Context) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// CallOptions tune one call.
type CallOptions struct {
	// Timeout limits the call; 0 uses the action's or the broker's, a
	// negative one none.
	Timeout time.Duration
	// Retries overrides the retry policy's count for this call; 0 keeps
	// the policy's, NoRetries makes none.
	Retries int
	// FallbackResponse answers in place of a failed call: a FallbackFunc,
	// or any other value, returned as the result.
	FallbackResponse any
	// NodeID sends the call to that node only.
	NodeID string
	// Meta is the call's meta. On a root call the map itself becomes the
	// context's meta, so the callee's changes show in it afterwards, as in
	// JS; on a child call it is merged over the parent's meta.
	Meta Meta
	// RequestID sets the request ID of a root call.
	RequestID string
	// Caller overrides the caller service name.
	Caller string
}

// NoRetries is the CallOptions.Retries of a call that must not be retried.
const NoRetries = -1

// FallbackFunc computes a result in place of a failed call.
type FallbackFunc func(ctx *Context, err error) (any, error)

// CallOption sets call options.
type CallOption func(*CallOptions)

// WithTimeout limits a call.
func WithTimeout(d time.Duration) CallOption { return func(o *CallOptions) { o.Timeout = d } }

// WithNodeID sends a call to one node.
func WithNodeID(id string) CallOption { return func(o *CallOptions) { o.NodeID = id } }

// WithRetries sets how many times a failed call is retried (with the retry
// policy enabled); 0 makes none.
func WithRetries(n int) CallOption {
	return func(o *CallOptions) {
		o.Retries = n
		if n == 0 {
			o.Retries = NoRetries
		}
	}
}

// WithFallback answers a failed call with fn's result.
func WithFallback(fn FallbackFunc) CallOption {
	return func(o *CallOptions) { o.FallbackResponse = fn }
}

// WithFallbackValue answers a failed call with v.
func WithFallbackValue(v any) CallOption {
	return func(o *CallOptions) { o.FallbackResponse = v }
}

// WithMeta sets a call's meta (see CallOptions.Meta).
func WithMeta(m Meta) CallOption { return func(o *CallOptions) { o.Meta = m } }

// WithCallOptions sets every call option at once.
func WithCallOptions(c CallOptions) CallOption { return func(o *CallOptions) { *o = c } }

// EmitOptions tune an emitted or broadcast event.
type EmitOptions struct {
	// Groups limits delivery to these event groups.
	Groups []string
	// Meta is the event's meta, merged over the parent's.
	Meta Meta
}

// EmitOption sets emit options.
type EmitOption func(*EmitOptions)

// WithGroups limits an event to some groups.
func WithGroups(groups ...string) EmitOption { return func(o *EmitOptions) { o.Groups = groups } }

// WithEventMeta sets an event's meta.
func WithEventMeta(m Meta) EmitOption { return func(o *EmitOptions) { o.Meta = m } }
