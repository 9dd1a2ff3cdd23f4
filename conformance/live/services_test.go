package live

import (
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/molbridge/molbridge/bridge"
)

// nullable turns "" into nil, as JS reports a missing caller or parentID.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// echoReport is what the Go echo action returns: jspeer.echo's shape plus
// the context's own ID.
func echoReport(ctx *bridge.Context) (map[string]any, error) {
	params, err := ctx.Params.Interface()
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"params":    params,
		"meta":      maps.Clone(ctx.Meta()),
		"nodeID":    ctx.Broker().NodeID(),
		"caller":    nullable(ctx.Caller),
		"level":     ctx.Level,
		"requestID": ctx.RequestID,
		"parentID":  nullable(ctx.ParentID),
		"id":        ctx.ID,
	}, nil
}

// paramMap reads object params.
func paramMap(ctx *bridge.Context) map[string]any {
	x, _ := ctx.Params.Interface()
	m, _ := x.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

func msParam(m map[string]any, key string) time.Duration {
	f, _ := m[key].(float64)
	return time.Duration(f * float64(time.Millisecond))
}

// innerCall is the outcome of a nested call made by a Go action, reported
// to the test through goecho's channel.
type innerCall struct {
	err     error
	elapsed time.Duration
	result  bridge.Value
}

// goEcho is the Go counterpart of jspeer: an echo, undefined and null
// results, errors, slow actions and nested calls.
type goEcho struct {
	inner chan innerCall
}

func newGoEcho() *goEcho { return &goEcho{inner: make(chan innerCall, 16)} }

func (g *goEcho) service() bridge.Service {
	return bridge.Service{
		Name: "goecho",
		Actions: []bridge.Action{
			{Name: "echo", Handler: func(ctx *bridge.Context) (any, error) {
				r, err := echoReport(ctx)
				ctx.Meta()["echoed"] = true
				return r, err
			}},
			{Name: "raw", Handler: func(ctx *bridge.Context) (any, error) {
				// The params as they came, null included.
				if ctx.Params.IsNull() {
					return bridge.Null, nil
				}
				return ctx.Params.Interface()
			}},
			{Name: "undef", Handler: func(*bridge.Context) (any, error) { return nil, nil }},
			{Name: "nul", Handler: func(*bridge.Context) (any, error) { return bridge.Null, nil }},
			{Name: "fail", Handler: func(ctx *bridge.Context) (any, error) {
				// As jspeer.fail: the class by name, then retryable if given.
				p := paramMap(ctx)
				name, _ := p["name"].(string)
				msg, _ := p["message"].(string)
				typ, _ := p["type"].(string)
				code, _ := p["code"].(float64)
				var e *bridge.Error
				switch name {
				case "MoleculerError":
					e = bridge.NewError(msg, int(code), typ, p["data"])
				case "MoleculerClientError":
					e = bridge.NewClientError(msg, int(code), typ, p["data"])
				case "MoleculerRetryableError":
					e = bridge.NewRetryableError(msg, int(code), typ, p["data"])
				default:
					e = &bridge.Error{Name: name, Message: msg, Code: int(code), Type: typ, Data: p["data"]}
				}
				if r, ok := p["retryable"].(bool); ok {
					e.Retryable = r
				}
				return nil, e
			}},
			{Name: "add", Params: bridge.Schema{"a": "number", "b": "number"}, Handler: func(ctx *bridge.Context) (any, error) {
				p := paramMap(ctx)
				return p["a"].(float64) + p["b"].(float64), nil
			}},
			{Name: "failPlain", Handler: func(*bridge.Context) (any, error) {
				return nil, errors.New("plain go failure")
			}},
			{Name: "relay", Handler: func(ctx *bridge.Context) (any, error) {
				// Calls p.action with p.params (and p.meta, p.nodeID) as a
				// child call; the error, if any, is returned unchanged.
				p := paramMap(ctx)
				var opts []bridge.CallOption
				if m, ok := p["meta"].(map[string]any); ok {
					opts = append(opts, bridge.WithMeta(m))
				}
				if n, ok := p["nodeID"].(string); ok {
					opts = append(opts, bridge.WithNodeID(n))
				}
				action, _ := p["action"].(string)
				v, err := ctx.Call(action, p["params"], opts...)
				if err != nil {
					return nil, err
				}
				res, err := v.Interface()
				if err != nil {
					return nil, err
				}
				return map[string]any{"result": res, "resultUndefined": v.IsUndefined(),
					"meta": ctx.Meta(), "id": ctx.ID, "requestID": ctx.RequestID, "level": ctx.Level}, nil
			}},
			{Name: "slow", Handler: func(ctx *bridge.Context) (any, error) {
				time.Sleep(msParam(paramMap(ctx), "ms"))
				return map[string]any{"slept": true}, nil
			}},
			{Name: "slowT", Timeout: 300 * time.Millisecond, Handler: func(ctx *bridge.Context) (any, error) {
				// An action with its own timeout, published in INFO.
				time.Sleep(msParam(paramMap(ctx), "ms"))
				return map[string]any{"slept": true}, nil
			}},
			{Name: "metaFail", Handler: func(ctx *bridge.Context) (any, error) {
				ctx.Meta()["failed"] = true
				return nil, bridge.NewClientError("failed after setting meta", 400, "META_FAIL", nil)
			}},
			{Name: "deadline", Handler: func(ctx *bridge.Context) (any, error) {
				d, ok := ctx.Deadline()
				if !ok {
					return map[string]any{"hasDeadline": false}, nil
				}
				return map[string]any{"hasDeadline": true, "remainingMs": float64(time.Until(d)) / float64(time.Millisecond)}, nil
			}},
			{Name: "sleepThenCall", Handler: func(ctx *bridge.Context) (any, error) {
				// Sleeps p.sleepMs, then calls p.action; the outcome of the
				// nested call goes to the test through g.inner.
				p := paramMap(ctx)
				time.Sleep(msParam(p, "sleepMs"))
				action, _ := p["action"].(string)
				t0 := time.Now()
				v, err := ctx.Call(action, p["params"])
				g.inner <- innerCall{err: err, elapsed: time.Since(t0), result: v}
				if err != nil {
					return nil, err
				}
				return v, nil
			}},
		},
	}
}

// versioned is a versioned Go service.
var versionedService = bridge.Service{
	Name:     "greeter",
	Version:  2,
	Settings: map[string]any{"a": 1.0, "secret": "s", "$secureSettings": []any{"secret"}},
	Metadata: map[string]any{"scalable": true},
	Actions: []bridge.Action{
		{Name: "hello", Params: bridge.Schema{"name": "string"}, Handler: func(ctx *bridge.Context) (any, error) {
			return "Hello " + paramMap(ctx)["name"].(string), nil
		}},
	},
	Events: []bridge.Event{
		{Name: "greeter.said", Handler: func(*bridge.Context) error { return nil }},
		{Name: "greeter.*", Group: "greeters", Handler: func(*bridge.Context) error { return nil }},
	},
}

// sharedService is the Go twin of jsnode's shared service.
func sharedService(nodeID string) bridge.Service {
	return bridge.Service{
		Name: "shared",
		Actions: []bridge.Action{
			{Name: "whoami", Handler: func(*bridge.Context) (any, error) { return map[string]any{"nodeID": nodeID}, nil }},
		},
	}
}

// ---------------------------------------------------------------- events

// delivery is one call of a Go event handler.
type delivery struct {
	Node, Service, Group, Event, Type, Sender string
	Groups                                    []string
	Data                                      any
}

// recorder collects the deliveries of Go event handlers. The broker's own
// "$" events, which reach "*"-style patterns as they do in JS, are left out:
// the tests check the events they send.
type recorder struct {
	mu   sync.Mutex
	list []delivery
}

func (r *recorder) handler(node, service, group string) bridge.EventHandler {
	return func(ctx *bridge.Context) error {
		if strings.HasPrefix(ctx.EventName, "$") {
			return nil
		}
		data, _ := ctx.Params.Interface()
		r.mu.Lock()
		r.list = append(r.list, delivery{Node: node, Service: service, Group: group, Event: ctx.EventName,
			Type: ctx.EventType, Sender: ctx.NodeID, Groups: ctx.EventGroups, Data: data})
		r.mu.Unlock()
		return nil
	}
}

func (r *recorder) all() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.list...)
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.list = nil
	r.mu.Unlock()
}

// eventService is a Go service listening to events: each sub is a
// (pattern, group) pair; group "" is the service's name.
func (r *recorder) eventService(node, name string, subs ...[2]string) bridge.Service {
	s := bridge.Service{Name: name}
	for _, sub := range subs {
		group := sub[1]
		if group == "" {
			group = name
		}
		s.Events = append(s.Events, bridge.Event{Name: sub[0], Group: sub[1], Handler: r.handler(node, name, group)})
	}
	return s
}

// settle waits until cond holds for the recorded deliveries, then a little
// longer, to catch duplicates that arrive late.
func settle(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventually(t, 10*time.Second, what, cond)
	time.Sleep(400 * time.Millisecond)
}
