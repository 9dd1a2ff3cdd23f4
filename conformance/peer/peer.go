// Package peer is the catalog of services that molbridge's conformance peer
// runs: the Go counterpart of the jspeer services of compat/jsnode.js, so
// that the conformance suite can drive a Go node and a JS node the same way.
//
// `molbridge peer` hosts it in its own process; tests can host it in-process:
//
//	p := peer.New()
//	for _, svc := range p.Services() {
//		broker.AddService(svc)
//	}
//
// Services:
//
//   - gopeer: echo, add, fail, sleep, call, emit, received, reset, and a
//     handler for the events "conformance.**" in group "gopeer";
//   - gopeer-audit: a handler for "conformance.**" in group "gopeer-audit";
//   - v2.gopeer: echo, which returns {version: 2}.
package peer

import (
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/molbridge/molbridge/bridge"
)

// EventPattern is the event pattern the catalog's event handlers listen to.
const EventPattern = "conformance.**"

// Received is an event that one of the catalog's handlers got.
type Received struct {
	Event string `json:"event"`
	// Data is the event's data as received; undefined data is left out,
	// as JSON.stringify leaves out an undefined property.
	Data bridge.Value `json:"data,omitzero"`
	// Group is the event group of the handler that got it.
	Group string `json:"group"`
	// Sender is the ID of the node that emitted it.
	Sender string `json:"sender"`
}

// Peer is one instance of the catalog, with its list of received events.
// The services of one Peer share that list; give each broker its own Peer.
type Peer struct {
	mu       sync.Mutex
	received []Received
}

// New returns a Peer with an empty list of received events.
func New() *Peer { return &Peer{} }

// Received returns a copy of the events received since the last Reset, in
// arrival order.
func (p *Peer) Received() []Received {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Received, len(p.received))
	copy(out, p.received)
	return out
}

// Reset clears the list of received events.
func (p *Peer) Reset() {
	p.mu.Lock()
	p.received = nil
	p.mu.Unlock()
}

func (p *Peer) record(group string) bridge.EventHandler {
	return func(ctx *bridge.Context) error {
		p.mu.Lock()
		p.received = append(p.received, Received{Event: ctx.EventName, Data: ctx.Params, Group: group, Sender: ctx.NodeID})
		p.mu.Unlock()
		return nil
	}
}

// Register adds the catalog's services to a broker that has not started
// yet (or is running: they start at once).
func (p *Peer) Register(b *bridge.Broker) error {
	for _, svc := range p.Services() {
		if err := b.AddService(svc); err != nil {
			return err
		}
	}
	return nil
}

// Services returns the catalog's service definitions: gopeer, gopeer-audit
// and v2.gopeer.
func (p *Peer) Services() []bridge.Service {
	return []bridge.Service{
		{
			Name: "gopeer",
			Actions: []bridge.Action{
				{Name: "echo", Handler: echo},
				{Name: "add", Params: bridge.Schema{"a": "number", "b": "number"}, Handler: bridge.Typed(add)},
				{Name: "fail", Handler: fail},
				{Name: "sleep", Handler: sleep},
				{Name: "call", Handler: call},
				{Name: "emit", Handler: emit},
				{Name: "received", Handler: func(*bridge.Context) (any, error) { return p.Received(), nil }},
				{Name: "reset", Handler: func(*bridge.Context) (any, error) { p.Reset(); return true, nil }},
			},
			Events: []bridge.Event{{Name: EventPattern, Group: "gopeer", Handler: p.record("gopeer")}},
		},
		{
			Name:   "gopeer-audit",
			Events: []bridge.Event{{Name: EventPattern, Group: "gopeer-audit", Handler: p.record("gopeer-audit")}},
		},
		{
			Name:    "gopeer",
			Version: 2,
			Actions: []bridge.Action{{Name: "echo", Handler: func(*bridge.Context) (any, error) {
				return map[string]any{"version": 2}, nil
			}}},
		},
	}
}

// nullable gives nil (JSON null) for "", as JS sends null for an absent
// caller or parentID.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// echo returns what the call brought, and sets meta.echoed so that the
// caller sees the meta merged back.
func echo(ctx *bridge.Context) (any, error) {
	meta := maps.Clone(ctx.Meta()) // taken before echoed is set
	res := map[string]any{
		"meta":      meta,
		"nodeID":    ctx.Broker().NodeID(),
		"caller":    nullable(ctx.Caller),
		"level":     ctx.Level,
		"requestID": ctx.RequestID,
		"parentID":  nullable(ctx.ParentID),
	}
	if !ctx.Params.IsUndefined() {
		res["params"] = ctx.Params // the Value marshals as it was received
	}
	ctx.Meta()["echoed"] = true
	return res, nil
}

type addParams struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

func add(_ *bridge.Context, p addParams) (float64, error) { return p.A + p.B, nil }

type failParams struct {
	Name      string `json:"name"`
	Message   string `json:"message"`
	Code      int    `json:"code"`
	Type      string `json:"type"`
	Data      any    `json:"data"`
	Retryable *bool  `json:"retryable"`
}

// fail fails with the error its params describe.
func fail(ctx *bridge.Context) (any, error) {
	var p failParams
	if err := decodeParams(ctx, &p); err != nil {
		return nil, err
	}
	var e *bridge.Error
	switch p.Name {
	case "", "MoleculerError":
		e = bridge.NewError(p.Message, p.Code, p.Type, p.Data)
	case "MoleculerClientError":
		e = bridge.NewClientError(p.Message, p.Code, p.Type, p.Data)
	case "MoleculerRetryableError":
		e = bridge.NewRetryableError(p.Message, p.Code, p.Type, p.Data)
	default:
		// As jspeer.fail answers an unknown name.
		return nil, bridge.NewClientError("fail: unknown error name "+p.Name, 422, "BAD_NAME", nil)
	}
	if p.Retryable != nil {
		e.Retryable = *p.Retryable
	}
	return nil, e
}

// sleep waits params.ms milliseconds, or until the call is abandoned.
func sleep(ctx *bridge.Context) (any, error) {
	var p struct {
		MS float64 `json:"ms"`
	}
	if err := decodeParams(ctx, &p); err != nil {
		return nil, err
	}
	t := time.NewTimer(time.Duration(p.MS * float64(time.Millisecond)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return map[string]any{"slept": p.MS}, nil
}

type callParams struct {
	Action string       `json:"action"`
	Params bridge.Value `json:"params"`
	Meta   bridge.Meta  `json:"meta"`
	Opts   struct {
		Timeout float64     `json:"timeout"`
		Retries float64     `json:"retries"`
		NodeID  string      `json:"nodeID"`
		Meta    bridge.Meta `json:"meta"`
	} `json:"opts"`
}

// call calls an action from Go within the current context and returns its
// result or its error unchanged. meta wins over opts.meta, as in jspeer.call.
func call(ctx *bridge.Context) (any, error) {
	var p callParams
	if err := decodeParams(ctx, &p); err != nil {
		return nil, err
	}
	var opts []bridge.CallOption
	if p.Opts.Timeout > 0 {
		opts = append(opts, bridge.WithTimeout(time.Duration(p.Opts.Timeout*float64(time.Millisecond))))
	}
	if p.Opts.NodeID != "" {
		opts = append(opts, bridge.WithNodeID(p.Opts.NodeID))
	}
	meta := p.Opts.Meta
	if p.Meta != nil {
		meta = p.Meta
	}
	if meta != nil {
		opts = append(opts, bridge.WithMeta(meta))
	}
	// opts.retries is accepted but not applied: the bridge has no retry
	// policy yet.
	var params any
	if !p.Params.IsUndefined() && !p.Params.IsNull() {
		params = p.Params
	}
	return ctx.Call(p.Action, params, opts...)
}

type emitParams struct {
	Event     string       `json:"event"`
	Data      bridge.Value `json:"data"`
	Groups    any          `json:"groups"`
	Broadcast bool         `json:"broadcast"`
}

// emit emits or broadcasts an event within the current context.
func emit(ctx *bridge.Context) (any, error) {
	var p emitParams
	if err := decodeParams(ctx, &p); err != nil {
		return nil, err
	}
	var opts []bridge.EmitOption
	switch g := p.Groups.(type) {
	case nil:
	case string:
		opts = append(opts, bridge.WithGroups(g))
	case []any:
		groups := make([]string, 0, len(g))
		for _, x := range g {
			s, ok := x.(string)
			if !ok {
				return nil, bridge.NewValidationError(fmt.Sprintf("emit: a group must be a string, not %v", x), "", nil)
			}
			groups = append(groups, s)
		}
		opts = append(opts, bridge.WithGroups(groups...))
	default:
		return nil, bridge.NewValidationError("emit: groups must be a string or an array of strings", "", nil)
	}
	var data any
	if !p.Data.IsUndefined() {
		data = p.Data
	}
	var err error
	if p.Broadcast {
		err = ctx.Broadcast(p.Event, data, opts...)
	} else {
		err = ctx.Emit(p.Event, data, opts...)
	}
	if err != nil {
		return nil, err
	}
	return true, nil
}

// decodeParams decodes the params object; undefined or null params leave
// into as it is, as JS reads them with `ctx.params || {}`.
func decodeParams(ctx *bridge.Context, into any) error {
	if ctx.Params.IsUndefined() || ctx.Params.IsNull() {
		return nil
	}
	if err := ctx.Params.Decode(into); err != nil {
		return bridge.NewValidationError("Parameters can't be decoded: "+err.Error(), "", nil)
	}
	return nil
}
