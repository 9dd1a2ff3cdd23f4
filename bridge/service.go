package bridge

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"time"

	"github.com/molbridge/molbridge/packets"
)

// Handler serves an action. It returns the result, or an error that reaches
// the caller as a Moleculer error. A nil result is undefined for JS callers;
// return Null for null. Values of any type that encodes as JSON work, and so
// do Value and []byte (a Buffer in JS).
type Handler func(ctx *Context) (any, error)

// EventHandler handles an event. Its error is logged; nothing is sent back.
type EventHandler func(ctx *Context) error

// Value is a value carried in a packet: params, a result, event data. The
// zero Value is undefined.
type Value = packets.Value

// Meta is a context's meta object.
type Meta = map[string]any

// Null is the null result (JS null, as opposed to undefined).
var Null = packets.Null

// Schema is a params schema in fastest-validator's notation:
// {"a": "number", "name": "string|optional", "tags": {"type": "array"}}.
type Schema = map[string]any

// Service is a service definition: a plain value, registered with
// Broker.AddService.
type Service struct {
	// Name is the service name; actions are called as "<name>.<action>".
	Name string
	// Version is an integer (full name "v2.<name>") or a string (full name
	// "<version>.<name>"); nil for an unversioned service.
	Version any
	// Settings are published to other nodes, except the keys listed in
	// settings["$secureSettings"].
	Settings map[string]any
	// Metadata is published in INFO.
	Metadata map[string]any
	// Dependencies are service names (full names for versioned services)
	// that must be available in the cluster before Started runs.
	Dependencies []string
	Actions      []Action
	Events       []Event
	// Hooks run around the service's actions (JS's hooks); see Hook.
	Hooks []Hook
	// Created runs when the service is added; Started after its
	// dependencies are available, before it is announced; Stopped when the
	// broker stops.
	Created func(svc *ServiceHandle) error
	Started func(ctx context.Context, svc *ServiceHandle) error
	Stopped func(ctx context.Context, svc *ServiceHandle) error

	// Methods are the service's own functions, by name, for its handlers
	// (Context.ServiceHandle().Method) and for the broker (a fallback
	// named by a method). A method is any non-nil func; its signature is
	// between the service and its callers. JS's reserved names ("name",
	// "settings", "started", "mergeSchema…", ...) are refused.
	Methods map[string]any
	// Mixins are definitions merged into this one when it is added, by
	// moleculer's rules (see the Mixins example): this definition wins
	// over its mixins and an earlier mixin over a later one, for
	// everything but event handlers and lifecycle handlers, which all
	// run. A mixin may have mixins of its own.
	Mixins []Service
	// Merged runs when the mixins have been merged, with the merged
	// definition, which it may change, before Created. The Merged
	// handlers of mixins run too, first.
	Merged func(def *Service) error
}

// Action is an action definition.
type Action struct {
	// Name is the short name; the full name is "<service fullName>.<Name>".
	Name    string
	Handler Handler
	// Params, when set, is validated before the handler runs and published
	// in INFO.
	Params Schema
	// Timeout overrides the broker's RequestTimeout for calls of this
	// action, on this node and on remote callers.
	Timeout time.Duration
	// Visibility is "published" (default), "public", "protected" or
	// "private". Only published and public actions can be called remotely.
	Visibility string
	// Descriptor holds extra fields published in the action's INFO
	// descriptor, e.g. "rest".
	Descriptor map[string]any

	// RetryPolicy, CircuitBreaker and Bulkhead override the broker's
	// settings for this action; the fields left zero keep the broker's.
	// They are published in INFO, so JS callers apply them too, as Go
	// callers apply a JS action's.
	RetryPolicy    *RetryPolicy
	CircuitBreaker *CircuitBreakerOptions
	Bulkhead       *BulkheadOptions
	// Fallback answers in place of the handler when a call of this action
	// fails on this node. FallbackMethod names a method of the service
	// (a FallbackFunc, or a func(*Context, error) (any, error)) to use
	// instead, as JS's fallback: "methodName".
	Fallback       FallbackFunc
	FallbackMethod string
	// Hooks are the action's own hooks, run inside the service's.
	Hooks ActionHooks
	// Disabled removes the action of this name that a mixin defines
	// (JS's "name: false"); the other fields are then ignored. As in JS,
	// a disabled action is an error when the service has mixins but none
	// defines the action, and is ignored when the service has no mixins.
	Disabled bool
	// Strategy and StrategyOptions, when set, balance the calls of this
	// action instead of the broker's Strategy and StrategyOptions (JS's
	// action strategy and strategyOptions). They are published in INFO,
	// and, as in JS, the first definition of an action that a node learns
	// of, local or remote, sets them for that node.
	Strategy        string
	StrategyOptions map[string]any
}

// Event is an event subscription.
type Event struct {
	// Name is an event name or a pattern ("user.*", "order.**").
	Name string
	// Group defaults to the service name.
	Group   string
	Handler EventHandler
	// Bulkhead overrides the broker's bulkhead settings for this handler.
	Bulkhead *BulkheadOptions
	// Strategy and StrategyOptions balance the event among the group's
	// handlers instead of the broker's settings, as Action's do.
	Strategy        string
	StrategyOptions map[string]any
}

// ServiceHandle is a registered service, as lifecycle handlers see it.
type ServiceHandle struct {
	broker   *Broker
	def      Service
	fullName string
}

// Name returns the service name.
func (s *ServiceHandle) Name() string { return s.def.Name }

// FullName returns the versioned name, e.g. "v2.greeter".
func (s *ServiceHandle) FullName() string { return s.fullName }

// Broker returns the broker the service runs on.
func (s *ServiceHandle) Broker() *Broker { return s.broker }

// Settings returns the service settings (secure ones included).
func (s *ServiceHandle) Settings() map[string]any { return s.def.Settings }

// Typed adapts a handler with typed params and a typed result. Params are
// decoded into P (JSON field names, as encoding/json matches them); an
// undefined params value leaves P zero.
func Typed[P, R any](fn func(ctx *Context, params P) (R, error)) Handler {
	return func(ctx *Context) (any, error) {
		if g, ok := ctx.Params.Go(); ok {
			if p, ok := g.(P); ok {
				return fn(ctx, p)
			}
		}
		var p P
		if !ctx.Params.IsUndefined() {
			if err := ctx.Params.Decode(&p); err != nil {
				return nil, NewValidationError("Parameters can't be decoded: "+err.Error(), "", nil)
			}
		}
		return fn(ctx, p)
	}
}

// versionedName returns the full name JS gives a service.
func versionedName(name string, version any, noPrefix bool) (string, error) {
	if version == nil || noPrefix {
		return name, nil
	}
	switch v := version.(type) {
	case string:
		return v + "." + name, nil
	case float64:
		return "v" + strconv.FormatFloat(v, 'f', -1, 64) + "." + name, nil
	}
	rv := reflect.ValueOf(version)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "v" + strconv.FormatInt(rv.Int(), 10) + "." + name, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "v" + strconv.FormatUint(rv.Uint(), 10) + "." + name, nil
	}
	return "", fmt.Errorf("bridge: service %s: version must be an integer or a string, not %T", name, version)
}

// publicSettings drops the keys listed in $secureSettings, and the list.
func publicSettings(settings map[string]any) map[string]any {
	out := maps.Clone(settings)
	if out == nil {
		return map[string]any{}
	}
	secure := out["$secureSettings"]
	delete(out, "$secureSettings")
	switch list := secure.(type) {
	case []string:
		for _, k := range list {
			delete(out, k)
		}
	case []any:
		for _, k := range list {
			if s, ok := k.(string); ok {
				delete(out, s)
			}
		}
	}
	return out
}
