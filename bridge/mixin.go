package bridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// This file merges a service definition with its mixins by the rules of
// moleculer 0.14's Service.applyMixins and mergeSchemas. Each part of a
// definition has its own rule; mergeServices documents them.

// applyMixins returns def merged with its mixins (recursively), as JS
// merges a schema's mixins: the mixins are merged among themselves from
// the last to the first, so that an earlier mixin wins over a later one,
// and def is merged over the result. Merged handlers are not run here.
func applyMixins(def Service) (Service, error) {
	if len(def.Mixins) == 0 {
		return def, nil
	}
	var mixed *Service
	for _, m := range slices.Backward(def.Mixins) {
		if len(m.Mixins) > 0 {
			var err error
			if m, err = applyMixins(m); err != nil {
				return Service{}, err
			}
		}
		if mixed == nil {
			mixed = &m
			continue
		}
		merged, err := mergeServices(*mixed, m)
		if err != nil {
			return Service{}, err
		}
		mixed = &merged
	}
	return mergeServices(*mixed, def)
}

// mergeServices merges svc over mixin, part by part as JS's mergeSchemas:
//
//   - Name and Version: svc's when set, else the mixin's.
//   - Settings and Metadata: deep defaults (lodash's defaultsDeep): svc's
//     values win, the mixin fills what svc lacks, objects merge key by key
//     and arrays index by index. Settings' $secureSettings lists are united.
//   - Dependencies: svc's then the mixin's, without duplicates or "".
//   - Actions, by name: svc's action over the mixin's, field by field with
//     deep defaults (a Handler-less action takes the mixin's handler). A
//     Disabled action removes the mixin's action of that name.
//   - Events, by name: both handlers run, the mixin's first; svc's Group
//     when set.
//   - Methods: svc's win by name.
//   - Merged, Created, Started: the mixin's first, then svc's. Stopped:
//     svc's first, then the mixin's.
func mergeServices(mixin, svc Service) (Service, error) {
	res := mixin
	res.Mixins = nil
	if svc.Name != "" {
		res.Name = svc.Name
	}
	if svc.Version != nil {
		res.Version = svc.Version
	}
	res.Settings = mergeSettings(svc.Settings, mixin.Settings)
	res.Metadata = mergeMetadata(svc.Metadata, mixin.Metadata)
	res.Dependencies = uniqStrings(svc.Dependencies, mixin.Dependencies)
	actions, err := mergeActions(svc.Actions, mixin.Actions, res.Name)
	if err != nil {
		return Service{}, err
	}
	res.Actions = actions
	res.Events = mergeEvents(svc.Events, mixin.Events)
	res.Hooks = mergeHooks(svc.Hooks, mixin.Hooks)
	if svc.Methods != nil || mixin.Methods != nil {
		res.Methods = maps.Clone(mixin.Methods)
		if res.Methods == nil {
			res.Methods = map[string]any{}
		}
		maps.Copy(res.Methods, svc.Methods)
	}
	res.Merged = inOrder(mixin.Merged, svc.Merged)
	res.Created = inOrder(mixin.Created, svc.Created)
	res.Started = inOrderCtx(mixin.Started, svc.Started)
	res.Stopped = inOrderCtx(svc.Stopped, mixin.Stopped)
	return res, nil
}

func mergeSettings(svc, mixin map[string]any) map[string]any {
	if svc == nil {
		return cloneMap(mixin)
	}
	mixin = cloneMap(mixin)
	ss, ms := svc["$secureSettings"], mixin["$secureSettings"]
	if ss != nil || ms != nil {
		if mixin == nil {
			mixin = map[string]any{}
		}
		mixin["$secureSettings"] = uniqValues(ss, ms)
	}
	return defaultsDeep(svc, mixin).(map[string]any)
}

func mergeMetadata(svc, mixin map[string]any) map[string]any {
	if svc == nil {
		return cloneMap(mixin)
	}
	return defaultsDeep(svc, mixin).(map[string]any)
}

// mergeActions merges svc's actions over the mixin's, keeping the mixin's
// order and adding svc's new actions after them.
func mergeActions(svc, mixin []Action, service string) ([]Action, error) {
	if svc == nil && mixin == nil {
		return nil, nil
	}
	out := slices.Clone(mixin)
	for _, a := range svc {
		i := slices.IndexFunc(out, func(m Action) bool { return m.Name == a.Name })
		switch {
		case a.Disabled && i >= 0 && !out[i].Disabled:
			out = slices.Delete(out, i, i+1)
		case a.Disabled:
			// JS turns the false into an object without a handler here
			// and fails to create the service.
			return nil, fmt.Errorf("bridge: service %s: action %s is disabled but no mixin defines it", service, a.Name)
		case i >= 0 && !out[i].Disabled:
			out[i] = mergeAction(a, out[i])
		case i >= 0:
			out[i] = a
		default:
			out = append(out, a)
		}
	}
	return out, nil
}

func mergeAction(a, m Action) Action {
	if a.Handler == nil {
		a.Handler = m.Handler
	}
	if a.Timeout == 0 {
		a.Timeout = m.Timeout
	}
	if a.Visibility == "" {
		a.Visibility = m.Visibility
	}
	if a.Params == nil {
		a.Params = cloneMap(m.Params)
	} else if m.Params != nil {
		a.Params = defaultsDeep(a.Params, m.Params).(map[string]any)
	}
	if a.Descriptor == nil {
		a.Descriptor = cloneMap(m.Descriptor)
	} else if m.Descriptor != nil {
		a.Descriptor = defaultsDeep(a.Descriptor, m.Descriptor).(map[string]any)
	}
	a.RetryPolicy = overlay(a.RetryPolicy, m.RetryPolicy, func(r, o *RetryPolicy) {
		*r = r.merge(o)
		r.Disabled = !r.Enabled && (o.Disabled || r.Disabled)
	})
	a.CircuitBreaker = overlay(a.CircuitBreaker, m.CircuitBreaker, func(r, o *CircuitBreakerOptions) {
		*r = r.merge(o)
		r.Disabled = !r.Enabled && (o.Disabled || r.Disabled)
	})
	a.Bulkhead = overlay(a.Bulkhead, m.Bulkhead, func(r, o *BulkheadOptions) {
		*r = r.merge(o)
		r.Disabled = !r.Enabled && (o.Disabled || r.Disabled)
	})
	if a.Fallback == nil && a.FallbackMethod == "" {
		a.Fallback, a.FallbackMethod = m.Fallback, m.FallbackMethod
	}
	a.Hooks = mergeActionHooks(a.Hooks, m.Hooks)
	if a.Strategy == "" {
		a.Strategy = m.Strategy
	}
	if a.StrategyOptions == nil {
		a.StrategyOptions = cloneMap(m.StrategyOptions)
	} else if m.StrategyOptions != nil {
		a.StrategyOptions = defaultsDeep(a.StrategyOptions, m.StrategyOptions).(map[string]any)
	}
	return a
}

// overlay deep-merges the service's settings object over the mixin's, as
// defaultsDeep does for JS's retryPolicy, circuitBreaker and bulkhead: the
// fields the service sets win.
func overlay[T any](svc, mixin *T, merge func(r, over *T)) *T {
	switch {
	case svc == nil:
		return mixin
	case mixin == nil:
		return svc
	}
	r := *mixin
	merge(&r, svc)
	return &r
}

// mergeEvents merges svc's event subscriptions over the mixin's: the
// handlers of one event name are chained, the mixin's first.
func mergeEvents(svc, mixin []Event) []Event {
	if svc == nil && mixin == nil {
		return nil
	}
	out := slices.Clone(mixin)
	for _, e := range svc {
		i := slices.IndexFunc(out, func(m Event) bool { return m.Name == e.Name })
		if i < 0 {
			out = append(out, e)
			continue
		}
		m := out[i]
		if e.Group == "" {
			e.Group = m.Group
		}
		if e.Strategy == "" {
			e.Strategy, e.StrategyOptions = m.Strategy, m.StrategyOptions
		}
		e.Bulkhead = overlay(e.Bulkhead, m.Bulkhead, func(r, o *BulkheadOptions) {
			*r = r.merge(o)
			r.Disabled = !r.Enabled && (o.Disabled || r.Disabled)
		})
		e.Handler = chainEventHandlers(m.Handler, e.Handler)
		out[i] = e
	}
	return out
}

// chainEventHandlers runs a then b, both whatever the other returns, as JS
// runs the handlers of a merged event (Promise.all).
func chainEventHandlers(a, b EventHandler) EventHandler {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(ctx *Context) error {
		errA := a(ctx)
		errB := b(ctx)
		return errors.Join(errA, errB)
	}
}

// inOrder chains two lifecycle handlers: b runs after a, unless a fails.
func inOrder[T any](a, b func(T) error) func(T) error {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(x T) error {
		if err := a(x); err != nil {
			return err
		}
		return b(x)
	}
}

func inOrderCtx(a, b func(context.Context, *ServiceHandle) error) func(context.Context, *ServiceHandle) error {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(ctx context.Context, s *ServiceHandle) error {
		if err := a(ctx, s); err != nil {
			return err
		}
		return b(ctx, s)
	}
}

// uniqStrings concatenates lists, dropping "" and repeated names.
func uniqStrings(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// uniqValues unites two $secureSettings lists, a's items first. The result
// is a []string when every item is a string.
func uniqValues(a, b any) any {
	var items []any
	for _, l := range []any{a, b} {
		rv := reflect.ValueOf(l)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			continue
		}
		for i := range rv.Len() {
			x := rv.Index(i).Interface()
			if !slices.ContainsFunc(items, func(y any) bool { return sameValue(x, y) }) {
				items = append(items, x)
			}
		}
	}
	strs := make([]string, 0, len(items))
	for _, x := range items {
		s, ok := x.(string)
		if !ok {
			return items
		}
		strs = append(strs, s)
	}
	return strs
}

// sameValue is JS's === for the values a definition holds: equal
// comparable values; objects are never the same after cloning.
func sameValue(x, y any) bool {
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	tx := reflect.TypeOf(x)
	return tx == reflect.TypeOf(y) && tx.Comparable() && x == y
}

// defaultsDeep returns dst with what it lacks taken from src, as lodash's
// defaultsDeep(dst, src) does, without modifying either: dst's values win,
// maps and slices merge recursively (a slice as a map of its indexes), a
// value of any other kind (a nil map or slice is JS null) stays as it is.
// Merged maps are map[string]any; a merged slice keeps its type when both
// sides have it.
func defaultsDeep(dst, src any) any {
	dk, sk := objectKind(dst), objectKind(src)
	if dk == reflect.Invalid || sk == reflect.Invalid {
		return cloneValue(dst)
	}
	if dk == reflect.Map {
		out := map[string]any{}
		dv := reflect.ValueOf(dst)
		for it := dv.MapRange(); it.Next(); {
			out[it.Key().String()] = cloneValue(it.Value().Interface())
		}
		eachEntry(src, func(k string, v any) {
			if cur, ok := out[k]; ok {
				out[k] = defaultsDeep(cur, v)
			} else {
				out[k] = cloneValue(v)
			}
		})
		return convertBack(out, dst, src)
	}
	dv := reflect.ValueOf(dst)
	out := make([]any, dv.Len())
	for i := range out {
		out[i] = cloneValue(dv.Index(i).Interface())
	}
	eachEntry(src, func(k string, v any) {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || strconv.Itoa(i) != k {
			return // not an index: JS sets a property JSON never shows
		}
		if i < len(out) {
			out[i] = defaultsDeep(out[i], v)
			return
		}
		for len(out) < i {
			out = append(out, nil) // a hole: null in JSON
		}
		out = append(out, cloneValue(v))
	})
	return convertBack(out, dst, src)
}

// objectKind is reflect.Map for a non-nil map with string keys,
// reflect.Slice for a non-nil slice, and reflect.Invalid for any other
// value.
func objectKind(v any) reflect.Kind {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if !rv.IsNil() && rv.Type().Key().Kind() == reflect.String {
			return reflect.Map
		}
	case reflect.Slice:
		if !rv.IsNil() {
			return reflect.Slice
		}
	}
	return reflect.Invalid
}

// eachEntry calls f for every key of a map, or every index of a slice.
func eachEntry(v any, f func(k string, v any)) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map {
		for it := rv.MapRange(); it.Next(); {
			f(it.Key().String(), it.Value().Interface())
		}
		return
	}
	for i := range rv.Len() {
		f(strconv.Itoa(i), rv.Index(i).Interface())
	}
}

// convertBack gives a merged map or slice the type both of its sources
// had, when its values fit.
func convertBack(merged, dst, src any) any {
	t := reflect.TypeOf(dst)
	if t != reflect.TypeOf(src) || t == reflect.TypeOf(merged) {
		return merged
	}
	mv := reflect.ValueOf(merged)
	switch t.Kind() {
	case reflect.Map:
		out := reflect.MakeMapWithSize(t, mv.Len())
		for it := mv.MapRange(); it.Next(); {
			v, ok := fitValue(it.Value(), t.Elem())
			if !ok {
				return merged
			}
			out.SetMapIndex(reflect.ValueOf(it.Key().String()).Convert(t.Key()), v)
		}
		return out.Interface()
	case reflect.Slice:
		out := reflect.MakeSlice(t, mv.Len(), mv.Len())
		for i := range mv.Len() {
			v, ok := fitValue(mv.Index(i), t.Elem())
			if !ok {
				return merged
			}
			out.Index(i).Set(v)
		}
		return out.Interface()
	}
	return merged
}

func fitValue(v reflect.Value, t reflect.Type) (reflect.Value, bool) {
	x := v.Interface() // v holds an interface value
	if x == nil {
		return reflect.Zero(t), t.Kind() == reflect.Interface || t.Kind() == reflect.Map ||
			t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer
	}
	xv := reflect.ValueOf(x)
	if !xv.Type().AssignableTo(t) {
		return reflect.Value{}, false
	}
	return xv, true
}

// cloneValue copies maps and slices deeply, as JS clones a schema before
// merging it; other values are shared.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(rv.Type(), rv.Len())
		for it := rv.MapRange(); it.Next(); {
			e := it.Value()
			if c := cloneValue(e.Interface()); c != nil {
				e = reflect.ValueOf(c)
			}
			out.SetMapIndex(it.Key(), e)
		}
		return out.Interface()
	case reflect.Slice:
		if rv.IsNil() {
			return v
		}
		out := reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
		reflect.Copy(out, rv)
		return out.Interface()
	}
	return v
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

// reservedMethodNames are the names JS refuses for methods: they would
// shadow the service's own members.
var reservedMethodNames = []string{"name", "version", "settings", "metadata", "dependencies", "schema",
	"broker", "actions", "logger", "created", "started", "stopped", "_start", "_stop", "_init", "applyMixins"}

// checkMethods checks the methods of a merged service as JS does when it
// creates the service.
func checkMethods(name string, methods map[string]any) error {
	for _, k := range slices.Sorted(maps.Keys(methods)) {
		if slices.Contains(reservedMethodNames, k) || strings.HasPrefix(k, "mergeSchema") {
			return fmt.Errorf("bridge: invalid method name '%s' in '%s' service", k, name)
		}
		m := methods[k]
		if m == nil || reflect.TypeOf(m).Kind() != reflect.Func || reflect.ValueOf(m).IsNil() {
			return fmt.Errorf("bridge: missing method handler on '%s' method in '%s' service: a method is a non-nil func, not %T", k, name, m)
		}
	}
	return nil
}

// resolveService merges a definition with its mixins and runs its Merged
// handlers, as JS does before it creates a service.
func resolveService(def Service) (Service, error) {
	def, err := applyMixins(def)
	if err != nil {
		return Service{}, err
	}
	if def.Merged != nil {
		if err := def.Merged(&def); err != nil {
			return Service{}, fmt.Errorf("bridge: service %s: merged: %w", def.Name, err)
		}
	}
	return def, nil
}
