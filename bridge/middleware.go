package bridge

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

// Middleware hooks into the broker as a JS middleware object does. Every
// field is optional.
//
// The wrapping hooks take the next function and return the one to run in
// its place, as net/http middleware wraps a Handler. Middlewares wrap in
// the order they are registered: the user's middlewares (Options.Middlewares)
// first, then the built-in ones in JS's order (ActionHook, Validator, Bulkhead,
// CircuitBreaker, Timeout, Retry, Fallback, ErrorHandler), so the last one
// registered runs first. The lifecycle hooks run in registration order, the
// stopping ones in reverse.
type Middleware struct {
	// Name identifies the middleware in logs.
	Name string

	// LocalAction wraps the handler of each action of this node.
	LocalAction func(next Handler, action *ActionSpec) Handler
	// RemoteAction wraps the request sent for each action of other nodes.
	RemoteAction func(next Handler, action *ActionSpec) Handler
	// LocalEvent wraps each event handler of this node.
	LocalEvent func(next EventHandler, event *EventSpec) EventHandler

	// Call wraps Broker.Call (and so Context.Call).
	Call func(next CallFunc) CallFunc
	// Emit, Broadcast and BroadcastLocal wrap the broker's methods.
	Emit           func(next EmitFunc) EmitFunc
	Broadcast      func(next EmitFunc) EmitFunc
	BroadcastLocal func(next EmitFunc) EmitFunc

	// TransporterSend wraps the publishing of every packet's bytes.
	TransporterSend func(next SendFunc) SendFunc
	// TransporterReceive wraps the handling of every packet's bytes.
	TransporterReceive func(next ReceiveFunc) ReceiveFunc

	// Created runs at the end of New.
	Created func(b *Broker)
	// Starting runs when Start begins, Started when the broker is started.
	Starting func(ctx context.Context, b *Broker) error
	Started  func(ctx context.Context, b *Broker) error
	// Stopping runs when Stop begins, Stopped when the broker is stopped.
	Stopping func(ctx context.Context, b *Broker) error
	Stopped  func(ctx context.Context, b *Broker) error

	// ServiceCreated runs after a service's Created handler.
	ServiceCreated func(svc *ServiceHandle)
	// ServiceStarting and ServiceStarted run before and after a service's
	// Started handler; ServiceStopping and ServiceStopped around Stopped.
	ServiceStarting func(ctx context.Context, svc *ServiceHandle) error
	ServiceStarted  func(ctx context.Context, svc *ServiceHandle) error
	ServiceStopping func(ctx context.Context, svc *ServiceHandle) error
	ServiceStopped  func(ctx context.Context, svc *ServiceHandle) error
}

// CallFunc is Broker.Call as a Call middleware sees it.
type CallFunc func(ctx context.Context, action string, params any, opts CallOptions) (Value, error)

// EmitFunc is Broker.Emit, Broadcast or BroadcastLocal as a middleware sees
// it.
type EmitFunc func(ctx context.Context, event string, data any, opts EmitOptions) error

// SendFunc publishes a packet's bytes; p is the packet they encode.
type SendFunc func(ctx context.Context, topic protocol.Topic, data []byte, p packets.Payload) error

// ReceiveFunc handles the bytes of a packet of type t.
type ReceiveFunc func(t protocol.PacketType, data []byte)

// ActionSpec describes the action a LocalAction or RemoteAction hook wraps.
type ActionSpec struct {
	// Name is the full action name ("v2.posts.get"), RawName the name
	// within its service ("get").
	Name    string
	RawName string
	// Service is the full name of the service.
	Service string
	// NodeID is the node serving the action.
	NodeID string
	// Local reports whether the action runs on this node.
	Local bool
	// Def is the definition of a local action; nil for remote ones.
	Def *Action
	// Info is the descriptor a remote node announced for the action (its
	// timeout, retryPolicy, circuitBreaker, ... as JS sends them); nil for
	// zero ActionInfo for local actions.
	Info packets.ActionInfo

	handle *ServiceHandle // local actions
	valid  *validator     // local actions with params
}

// EventSpec describes the event handler a LocalEvent hook wraps.
type EventSpec struct {
	// Name is the event name or pattern, Group the handler's group.
	Name  string
	Group string
	// Service is the full name of the handler's service.
	Service string
	// Def is the handler's definition.
	Def *Event
}

// internalMiddlewares returns the built-in middlewares in JS's order.
func (b *Broker) internalMiddlewares() []Middleware {
	return []Middleware{
		actionHookMiddleware(),
		validatorMiddleware(),
		bulkheadMiddleware(b),
		circuitBreakerMiddleware(b),
		timeoutMiddleware(b),
		retryMiddleware(b),
		fallbackMiddleware(b),
		errorHandlerMiddleware(b),
	}
}

// wrapLocalAction runs the LocalAction hooks over h.
func (b *Broker) wrapLocalAction(h Handler, spec *ActionSpec) Handler {
	for i := range b.mws {
		if f := b.mws[i].LocalAction; f != nil {
			h = f(h, spec)
		}
	}
	return h
}

// wrapRemoteAction runs the RemoteAction hooks over h.
func (b *Broker) wrapRemoteAction(h Handler, spec *ActionSpec) Handler {
	for i := range b.mws {
		if f := b.mws[i].RemoteAction; f != nil {
			h = f(h, spec)
		}
	}
	return h
}

// wrapLocalEvent runs the LocalEvent hooks over h.
func (b *Broker) wrapLocalEvent(h EventHandler, spec *EventSpec) EventHandler {
	for i := range b.mws {
		if f := b.mws[i].LocalEvent; f != nil {
			h = f(h, spec)
		}
	}
	return h
}

// buildChains wraps the broker's methods with the middlewares' hooks.
func (b *Broker) buildChains() {
	b.callFn = b.doCall
	b.emitFn, b.broadcastFn, b.broadcastLocalFn = b.doEmit, b.doBroadcast, b.doBroadcastLocal
	b.sendFn, b.receiveFn = b.publish, b.receive
	for i := range b.mws {
		m := &b.mws[i]
		if m.Call != nil {
			b.callFn = m.Call(b.callFn)
		}
		if m.Emit != nil {
			b.emitFn = m.Emit(b.emitFn)
		}
		if m.Broadcast != nil {
			b.broadcastFn = m.Broadcast(b.broadcastFn)
		}
		if m.BroadcastLocal != nil {
			b.broadcastLocalFn = m.BroadcastLocal(b.broadcastLocalFn)
		}
		if m.TransporterSend != nil {
			b.sendFn = m.TransporterSend(b.sendFn)
		}
		if m.TransporterReceive != nil {
			b.receiveFn = m.TransporterReceive(b.receiveFn)
		}
	}
}

// brokerHook runs a broker lifecycle hook of every middleware, in
// registration order or in reverse.
func (b *Broker) brokerHook(ctx context.Context, pick func(*Middleware) func(context.Context, *Broker) error, reverse bool) error {
	mws := b.mws
	if reverse {
		mws = slices.Clone(mws)
		slices.Reverse(mws)
	}
	var errs []error
	for i := range mws {
		if f := pick(&mws[i]); f != nil {
			if err := f(ctx, b); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// serviceHook runs a service lifecycle hook of every middleware.
func (b *Broker) serviceHook(ctx context.Context, svc *ServiceHandle, pick func(*Middleware) func(context.Context, *ServiceHandle) error, reverse bool) error {
	mws := b.mws
	if reverse {
		mws = slices.Clone(mws)
		slices.Reverse(mws)
	}
	for i := range mws {
		if f := pick(&mws[i]); f != nil {
			if err := f(ctx, svc); err != nil {
				return err
			}
		}
	}
	return nil
}

// validatorMiddleware checks params against the action's schema before
// the handler runs (JS's Validator middleware).
func validatorMiddleware() Middleware {
	return Middleware{
		Name: "Validator",
		LocalAction: func(next Handler, a *ActionSpec) Handler {
			if a.valid == nil {
				return next
			}
			return validating(a.valid, next)
		},
	}
}

// errorHandlerMiddleware turns whatever a handler returns as an error into
// a Moleculer error, as JS's ErrorHandler does, and logs failed events.
func errorHandlerMiddleware(b *Broker) Middleware {
	return Middleware{
		Name: "ErrorHandler",
		LocalAction: func(next Handler, a *ActionSpec) Handler {
			return func(c *Context) (any, error) {
				res, err := next(c)
				if err != nil {
					return nil, asError(err, b.nodeID)
				}
				return res, nil
			}
		},
		RemoteAction: func(next Handler, a *ActionSpec) Handler {
			return func(c *Context) (any, error) {
				res, err := next(c)
				if err != nil {
					return nil, asError(err, "")
				}
				return res, nil
			}
		},
		LocalEvent: func(next EventHandler, e *EventSpec) EventHandler {
			return func(c *Context) error {
				if err := next(c); err != nil {
					b.log.Error("Event '"+c.EventName+"' handler failed.", "service", e.Service, "err", err)
					return err
				}
				return nil
			}
		},
	}
}

// infoMap reads an object setting of a remote action's descriptor, nil
// when it has none.
func (a *ActionSpec) infoMap(key string) map[string]any {
	m, _ := a.Info.Field(key).Map()
	return m
}

// durationMS reads a JS millisecond count.
func durationMS(v any) (time.Duration, bool) {
	f, ok := v.(float64)
	if !ok {
		return 0, false
	}
	return time.Duration(f * float64(time.Millisecond)), true
}
