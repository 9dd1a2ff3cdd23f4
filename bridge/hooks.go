package bridge

import (
	"slices"
	"strings"
)

// BeforeHook runs before an action's handler; an error stops the call.
type BeforeHook func(ctx *Context) error

// AfterHook runs after an action's handler succeeded and returns the
// result to pass on, res itself or another.
type AfterHook func(ctx *Context, res any) (any, error)

// ErrorHook runs when an action failed: it returns a result in place of
// the error, or an error (err itself or another) for the next error hook.
type ErrorHook func(ctx *Context, err error) (any, error)

// Hook is a service-level action hook (an entry of JS's hooks.before,
// hooks.after or hooks.error): it applies to the actions Actions names:
// "*" for every action, otherwise names within the service, "|"-separated,
// with the event wildcards ("get*", "create|update"). Set any of Before,
// After and Error.
//
// For every call, the hooks run as in JS: the "*" Before hooks, the other
// matching Before hooks in the order listed, the action's own Before
// hooks; the handler; the action's own After hooks, the matching After
// hooks, the "*" After hooks; and, when something failed, the Error hooks
// in that same order until one returns a result.
type Hook struct {
	Actions string
	Before  BeforeHook
	After   AfterHook
	Error   ErrorHook
}

// ActionHooks are an action's own hooks (JS's action.hooks).
type ActionHooks struct {
	Before []BeforeHook
	After  []AfterHook
	Error  []ErrorHook
}

func (h ActionHooks) empty() bool {
	return len(h.Before) == 0 && len(h.After) == 0 && len(h.Error) == 0
}

// hooksFor returns, in the order they run, the hooks of a service that
// apply to the action rawName, with the action's own.
func hooksFor(service []Hook, own ActionHooks, rawName string) (before []BeforeHook, after []AfterHook, onErr []ErrorHook) {
	matches := func(h Hook) bool {
		if h.Actions == "*" {
			return false
		}
		for p := range strings.SplitSeq(h.Actions, "|") {
			if matchEvent(rawName, p) {
				return true
			}
		}
		return false
	}
	var allBefore []BeforeHook
	var allAfter []AfterHook
	var allError []ErrorHook
	var named []Hook
	for _, h := range service {
		if h.Actions == "*" {
			if h.Before != nil {
				allBefore = append(allBefore, h.Before)
			}
			if h.After != nil {
				allAfter = append(allAfter, h.After)
			}
			if h.Error != nil {
				allError = append(allError, h.Error)
			}
		} else if matches(h) {
			named = append(named, h)
		}
	}
	before = append(before, allBefore...)
	for _, h := range named {
		if h.Before != nil {
			before = append(before, h.Before)
		}
	}
	before = append(before, own.Before...)
	after = append(after, own.After...)
	for _, h := range named {
		if h.After != nil {
			after = append(after, h.After)
		}
	}
	after = append(after, allAfter...)
	onErr = append(onErr, own.Error...)
	for _, h := range named {
		if h.Error != nil {
			onErr = append(onErr, h.Error)
		}
	}
	onErr = append(onErr, allError...)
	return before, after, onErr
}

// actionHookMiddleware runs the services' and actions' hooks around local
// actions, as JS's ActionHook middleware does.
func actionHookMiddleware() Middleware {
	return Middleware{
		Name: "ActionHook",
		LocalAction: func(next Handler, a *ActionSpec) Handler {
			if a.Def == nil || a.handle == nil {
				return next
			}
			before, after, onErr := hooksFor(a.handle.def.Hooks, a.Def.Hooks, a.RawName)
			if len(before) == 0 && len(after) == 0 && len(onErr) == 0 {
				return next
			}
			return func(c *Context) (any, error) {
				res, err := runHooks(c, next, before, after)
				for _, h := range onErr {
					if err == nil {
						break
					}
					res, err = h(c, err)
				}
				return res, err
			}
		},
	}
}

func runHooks(c *Context, next Handler, before []BeforeHook, after []AfterHook) (any, error) {
	for _, h := range before {
		if err := h(c); err != nil {
			return nil, err
		}
	}
	res, err := next(c)
	if err != nil {
		return nil, err
	}
	for _, h := range after {
		if res, err = h(c, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// mergeHooks merges a service's hooks over a mixin's as JS's
// mergeSchemaHooks: per action key, in the mixin's key order then the
// service's new keys, the mixin's Before hooks run before the service's,
// and the service's After and Error hooks before the mixin's.
func mergeHooks(svc, mixin []Hook) []Hook {
	if len(svc) == 0 {
		return mixin
	}
	if len(mixin) == 0 {
		return svc
	}
	type kind int
	const (
		before kind = iota
		after
		onErr
	)
	has := func(h Hook, k kind) bool {
		switch k {
		case before:
			return h.Before != nil
		case after:
			return h.After != nil
		}
		return h.Error != nil
	}
	only := func(h Hook, k kind) Hook {
		out := Hook{Actions: h.Actions}
		switch k {
		case before:
			out.Before = h.Before
		case after:
			out.After = h.After
		default:
			out.Error = h.Error
		}
		return out
	}
	var out []Hook
	for _, k := range []kind{before, after, onErr} {
		var keys []string
		for _, l := range [][]Hook{mixin, svc} {
			for _, h := range l {
				if has(h, k) && !slices.Contains(keys, h.Actions) {
					keys = append(keys, h.Actions)
				}
			}
		}
		first, second := svc, mixin
		if k == before {
			first, second = mixin, svc
		}
		for _, key := range keys {
			for _, l := range [][]Hook{first, second} {
				for _, h := range l {
					if h.Actions == key && has(h, k) {
						out = append(out, only(h, k))
					}
				}
			}
		}
	}
	return out
}

// mergeActionHooks merges an action's own hooks over a mixin action's, as
// JS's mergeSchemaActions does when both have hooks.
func mergeActionHooks(a, m ActionHooks) ActionHooks {
	if a.empty() {
		return m
	}
	if m.empty() {
		return a
	}
	return ActionHooks{
		Before: append(slices.Clone(m.Before), a.Before...),
		After:  append(slices.Clone(a.After), m.After...),
		Error:  append(slices.Clone(a.Error), m.Error...),
	}
}
