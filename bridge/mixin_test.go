package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/molbridge/molbridge/packets"
)

// mixinCases are service definitions in compat/mixins.js's notation
// (markers for functions). TestMixinsMatchJS runs each through Go's merge
// and through moleculer's createService, and compares what they make.
var mixinCases = []struct{ name, def string }{
	{"name and version: the service's name, the mixin's version", `{
		"name": "svc", "actions": [{"name": "a", "handler": "S"}],
		"mixins": [{"name": "mix", "version": 2}]}`},
	{"version: the service's wins", `{
		"name": "svc", "version": "staging",
		"mixins": [{"version": 2}, {"version": 3}]}`},
	{"name: a nameless service takes the mixin's", `{
		"mixins": [{"name": "fromMixin", "actions": [{"name": "a", "handler": "M"}]}]}`},
	{"name and version: the first mixin wins over the second", `{
		"mixins": [{"name": "first"}, {"name": "second", "version": 7}]}`},
	{"settings: deep defaults, the service wins", `{
		"name": "svc",
		"settings": {"a": 1, "nested": {"x": 1, "deep": {"k": "svc"}}, "list": [1], "objs": [{"x": 1}],
			"nul": null, "str": "s", "obj": {"b": 1}},
		"mixins": [{"settings": {"a": 2, "b": 2, "nested": {"x": 2, "y": 2, "deep": {"k": "mix", "l": "mix"}},
			"list": [9, 8, 7], "objs": [{"y": 2}, {"z": 3}], "nul": {"q": 1}, "str": {"o": 1}, "obj": [5, 6]}}]}`},
	{"settings: a service without settings takes the mixins'", `{
		"name": "svc",
		"mixins": [{"settings": {"a": 1, "shared": "first"}}, {"settings": {"b": 2, "shared": "second"}}]}`},
	{"settings: $secureSettings are united", `{
		"name": "svc", "settings": {"$secureSettings": ["password"], "password": "p", "user": "u"},
		"mixins": [{"settings": {"$secureSettings": ["token", "password"], "token": "t", "url": "x"}}]}`},
	{"settings: a mixin's $secureSettings hold for the service", `{
		"name": "svc", "settings": {"user": "u", "apiKey": "k"},
		"mixins": [{"settings": {"$secureSettings": ["apiKey"]}}]}`},
	{"settings: $noVersionPrefix from a mixin", `{
		"name": "svc", "version": 3,
		"mixins": [{"settings": {"$noVersionPrefix": true}}]}`},
	{"metadata: deep defaults", `{
		"name": "svc", "metadata": {"region": "eu", "tags": ["a"], "owner": {"team": "core"}},
		"mixins": [{"metadata": {"region": "us", "tags": ["x", "y"], "owner": {"team": "x", "mail": "m"}, "tier": 1}}]}`},
	{"dependencies: the service's first, then the mixins', once each", `{
		"name": "svc", "dependencies": ["a", "b"],
		"mixins": [{"dependencies": ["b", "c", ""]}, {"dependencies": ["d", "a"]}]}`},
	{"actions: overridden by name, the mixin's order first", `{
		"name": "svc",
		"actions": [{"name": "own", "handler": "S"}, {"name": "shared", "handler": "S"}],
		"mixins": [{"actions": [{"name": "shared", "handler": "A"}, {"name": "fromA", "handler": "A"}]},
			{"actions": [{"name": "fromB", "handler": "B"}, {"name": "shared", "handler": "B"}, {"name": "fromA", "handler": "B"}]}]}`},
	{"actions: merged field by field", `{
		"name": "svc",
		"actions": [
			{"name": "params", "params": {"x": "number", "deep": {"type": "object", "props": {"a": "string"}}}},
			{"name": "handler", "handler": "S", "visibility": "public"},
			{"name": "rest", "handler": "S", "rest": {"path": "/svc"}}],
		"mixins": [{"actions": [
			{"name": "params", "handler": "M", "params": {"y": "string", "deep": {"type": "any", "optional": true}}, "timeout": 500},
			{"name": "handler", "handler": "M", "visibility": "protected", "timeout": 100, "params": {"z": "number"}},
			{"name": "rest", "handler": "M", "rest": {"method": "GET", "path": "/mix"}}]}]}`},
	{"actions: disabled removes the mixin's action", `{
		"name": "svc",
		"actions": [{"name": "drop", "disabled": true}, {"name": "keep", "handler": "S"}],
		"mixins": [{"actions": [{"name": "drop", "handler": "M"}, {"name": "keep", "handler": "M"}, {"name": "other", "handler": "M"}]}]}`},
	{"actions: disabled with no mixin action is an error", `{
		"name": "svc", "actions": [{"name": "ghost", "disabled": true}],
		"mixins": [{"actions": [{"name": "real", "handler": "M"}]}]}`},
	{"actions: disabled over a disabled mixin action is an error", `{
		"name": "svc", "actions": [{"name": "x", "disabled": true}],
		"mixins": [{"actions": [{"name": "x", "disabled": true}]}]}`},
	{"actions: disabled without mixins is ignored", `{
		"name": "svc", "actions": [{"name": "ghost", "disabled": true}, {"name": "real", "handler": "S"}]}`},
	{"actions: disabled between mixins", `{
		"name": "svc",
		"actions": [{"name": "revived", "handler": "S"}],
		"mixins": [
			{"actions": [{"name": "dropped", "disabled": true}, {"name": "overrides", "handler": "A"}]},
			{"actions": [{"name": "dropped", "handler": "B"}, {"name": "overrides", "disabled": true},
				{"name": "revived", "disabled": true}, {"name": "unused", "disabled": true}]}]}`},
	{"events: every handler runs, the mixins' first", `{
		"name": "svc",
		"events": [{"name": "user.created", "handler": "S"}, {"name": "own", "handler": "S", "group": "own"}],
		"mixins": [
			{"events": [{"name": "user.created", "handler": "A", "group": "fromA"}, {"name": "a.only", "handler": "A"}]},
			{"events": [{"name": "user.created", "handler": "B", "group": "fromB"}]}]}`},
	{"events: the service's group wins", `{
		"name": "svc",
		"events": [{"name": "e", "handler": "S", "group": "svcGroup"}],
		"mixins": [{"events": [{"name": "e", "handler": "M", "group": "mixGroup"}]}]}`},
	{"events: a handler-less service event keeps the mixin's handler", `{
		"name": "svc",
		"events": [{"name": "e", "group": "regrouped"}],
		"mixins": [{"events": [{"name": "e", "handler": "M"}]}]}`},
	{"lifecycle: the mixins' first, stopped in reverse", `{
		"name": "svc", "merged": "S", "created": "S", "started": "S", "stopped": "S",
		"mixins": [
			{"merged": "A", "created": "A", "started": "A", "stopped": "A"},
			{"created": "B", "started": "B", "stopped": "B"},
			{"merged": "C", "started": "C"}]}`},
	{"nested mixins", `{
		"name": "svc", "created": "S", "stopped": "S",
		"settings": {"level": "svc"},
		"events": [{"name": "e", "handler": "S"}],
		"actions": [{"name": "a", "handler": "S"}],
		"mixins": [
			{"created": "A", "stopped": "A", "settings": {"level": "A", "a": 1},
				"events": [{"name": "e", "handler": "A"}],
				"actions": [{"name": "fromA", "handler": "A"}, {"name": "deep", "handler": "A"}],
				"mixins": [
					{"created": "A1", "stopped": "A1", "settings": {"level": "A1", "a": 11, "a1": true},
						"events": [{"name": "e", "handler": "A1"}], "actions": [{"name": "deep", "handler": "A1"}]},
					{"created": "A2", "stopped": "A2", "settings": {"a2": true}, "dependencies": ["x"],
						"events": [{"name": "e", "handler": "A2"}], "actions": [{"name": "fromA2", "handler": "A2"}]}]},
			{"created": "B", "stopped": "B", "settings": {"b": 2, "level": "B"}, "dependencies": ["y", "x"],
				"events": [{"name": "e", "handler": "B"}], "actions": [{"name": "deep", "handler": "B"}]}]}`},
	{"methods: the service's win", `{
		"name": "svc", "methods": {"format": "S", "own": "S"},
		"mixins": [{"methods": {"format": "A", "fromA": "A"}}, {"methods": {"format": "B", "fromA": "B", "fromB": "B"}}]}`},
	{"methods: a reserved name is an error", `{
		"name": "svc", "mixins": [{"methods": {"settings": "M"}}]}`},
	{"a mixin's merged handler sees the merged schema", `{
		"name": "svc", "settings": {"x": 1}, "merged": "S",
		"mixins": [{"merged": "M", "settings": {"y": 2}}]}`},
}

// mixSpec is a definition of compat/mixins.js's notation.
type mixSpec struct {
	Name         string            `json:"name"`
	Version      any               `json:"version"`
	Settings     map[string]any    `json:"settings"`
	Metadata     map[string]any    `json:"metadata"`
	Dependencies []string          `json:"dependencies"`
	Actions      []mixAction       `json:"actions"`
	Events       []mixEvent        `json:"events"`
	Methods      map[string]string `json:"methods"`
	Merged       string            `json:"merged"`
	Created      string            `json:"created"`
	Started      string            `json:"started"`
	Stopped      string            `json:"stopped"`
	Mixins       []mixSpec         `json:"mixins"`
}

type mixAction struct {
	Name       string         `json:"name"`
	Handler    string         `json:"handler"`
	Params     map[string]any `json:"params"`
	Visibility string         `json:"visibility"`
	Timeout    float64        `json:"timeout"`
	Rest       any            `json:"rest"`
	Disabled   bool           `json:"disabled"`
}

type mixEvent struct {
	Name    string `json:"name"`
	Group   string `json:"group"`
	Handler string `json:"handler"`
}

// mixLog records event and lifecycle handler calls.
type mixLog struct{ entries []string }

func (l *mixLog) add(kind, marker string) { l.entries = append(l.entries, kind+":"+marker) }

// service builds the Go definition: handlers return or record markers.
func (s mixSpec) service(log *mixLog) Service {
	def := Service{Name: s.Name, Version: s.Version, Settings: s.Settings, Metadata: s.Metadata, Dependencies: s.Dependencies}
	for _, a := range s.Actions {
		act := Action{Name: a.Name, Params: a.Params, Visibility: a.Visibility, Disabled: a.Disabled,
			Timeout: time.Duration(a.Timeout * float64(time.Millisecond))}
		if a.Handler != "" {
			marker := a.Handler
			act.Handler = func(*Context) (any, error) { return marker, nil }
		}
		if a.Rest != nil {
			act.Descriptor = map[string]any{"rest": a.Rest}
		}
		def.Actions = append(def.Actions, act)
	}
	for _, e := range s.Events {
		ev := Event{Name: e.Name, Group: e.Group}
		if e.Handler != "" {
			marker := e.Handler
			ev.Handler = func(*Context) error { log.add("event", marker); return nil }
		}
		def.Events = append(def.Events, ev)
	}
	if s.Methods != nil {
		def.Methods = map[string]any{}
		for name, marker := range s.Methods {
			def.Methods[name] = func() string { return marker }
		}
	}
	if m := s.Merged; m != "" {
		def.Merged = func(d *Service) error {
			log.add("merged", m)
			if d.Settings == nil {
				d.Settings = map[string]any{}
			}
			d.Settings["merged_"+m] = true
			return nil
		}
	}
	if m := s.Created; m != "" {
		def.Created = func(*ServiceHandle) error { log.add("created", m); return nil }
	}
	if m := s.Started; m != "" {
		def.Started = func(context.Context, *ServiceHandle) error { log.add("started", m); return nil }
	}
	if m := s.Stopped; m != "" {
		def.Stopped = func(context.Context, *ServiceHandle) error { log.add("stopped", m); return nil }
	}
	for _, m := range s.Mixins {
		def.Mixins = append(def.Mixins, m.service(log))
	}
	return def
}

// orNull is JS's undefined-as-null of compat/mixins.js's report.
func orNull[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// goMixinReport is compat/mixins.js's report of a case, made with Go.
func goMixinReport(t *testing.T, name string, spec mixSpec) map[string]any {
	t.Helper()
	log := &mixLog{}
	b, err := New(Options{NodeID: "mixins", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddService(spec.service(log)); err != nil {
		return map[string]any{"name": name, "error": err.Error()}
	}
	b.mu.Lock()
	svc := b.services[len(b.services)-1]
	b.mu.Unlock()
	for _, dep := range svc.def.Dependencies {
		// A stand-in, so that the service starts.
		if err := b.AddService(Service{Name: dep}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("%s: Start: %v", name, err)
	}
	def := svc.def
	var actions, events []any
	for _, a := range svc.actions {
		res, err := a.def.Handler(&Context{Context: ctx, broker: b})
		if err != nil {
			t.Fatalf("%s: action %s: %v", name, a.def.Name, err)
		}
		var timeout any
		if a.def.Timeout != 0 {
			timeout = float64(a.def.Timeout.Milliseconds())
		}
		actions = append(actions, map[string]any{"name": a.def.Name, "handler": res, "params": a.def.Params,
			"visibility": orNull(a.def.Visibility), "timeout": timeout, "rest": a.def.Descriptor["rest"]})
	}
	for _, e := range svc.events {
		before := len(log.entries)
		if err := e.def.Handler(&Context{Context: ctx, broker: b, EventName: e.def.Name}); err != nil {
			t.Fatalf("%s: event %s: %v", name, e.def.Name, err)
		}
		var handlers []any
		for _, x := range log.entries[before:] {
			handlers = append(handlers, strings.TrimPrefix(x, "event:"))
		}
		log.entries = log.entries[:before]
		events = append(events, map[string]any{"name": e.def.Name, "group": orNull(e.def.Group), "handlers": handlers})
	}
	methods := map[string]any{}
	for k := range def.Methods {
		methods[k] = svc.handle.Method(k).(func() string)()
	}
	if err := b.Stop(ctx); err != nil {
		t.Fatalf("%s: Stop: %v", name, err)
	}
	deps := def.Dependencies
	if deps == nil {
		deps = []string{}
	}
	return map[string]any{
		"name": name, "fullName": svc.fullName, "version": def.Version,
		"settings": orEmpty(def.Settings), "publicSettings": svc.info.Settings, "metadata": orEmpty(def.Metadata),
		"dependencies": deps, "actions": orEmptyList(actions), "events": orEmptyList(events),
		"methods": methods, "lifecycle": orEmptyList(log.entries),
	}
}

func orEmptyList[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// jsMixinReports runs compat/mixins.js once for every case.
func jsMixinReports(t *testing.T, cases []map[string]any) []map[string]any {
	t.Helper()
	compat, err := filepath.Abs(filepath.Join("..", "compat"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("the mixin test compares with moleculer and needs Node.js on PATH (run scripts/deps.sh): %v", err)
	}
	if _, err := os.Stat(filepath.Join(compat, "node_modules", "moleculer", "package.json")); err != nil {
		t.Fatalf("the mixin test needs moleculer in compat/node_modules (run scripts/deps.sh): %v", err)
	}
	data, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(compat, "mixins.js"), file)
	cmd.Dir = compat
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node mixins.js: %v\n%s", err, stderr.String())
	}
	var reports []map[string]any
	if err := json.Unmarshal(out, &reports); err != nil {
		t.Fatalf("node mixins.js output: %v\n%s", err, out)
	}
	if len(reports) != len(cases) {
		t.Fatalf("node mixins.js: %d reports for %d cases", len(reports), len(cases))
	}
	return reports
}

// asJSON passes a value through JSON, so that Go and JS reports compare.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMixinsMatchJS(t *testing.T) {
	var input []map[string]any
	specs := make([]mixSpec, len(mixinCases))
	for i, c := range mixinCases {
		var raw map[string]any
		if err := json.Unmarshal([]byte(c.def), &raw); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := json.Unmarshal([]byte(c.def), &specs[i]); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		input = append(input, map[string]any{"name": c.name, "service": raw})
	}
	js := jsMixinReports(t, input)
	for i, c := range mixinCases {
		t.Run(c.name, func(t *testing.T) {
			want := js[i]
			got := asJSON(t, goMixinReport(t, c.name, specs[i])).(map[string]any)
			jsErr, jsFailed := want["error"]
			goErr, goFailed := got["error"]
			switch {
			case jsFailed && goFailed:
				t.Logf("both refuse the definition: JS %q, Go %q", jsErr, goErr)
			case jsFailed:
				t.Errorf("JS refuses the definition (%v); Go makes\n%s", jsErr, indent(got))
			case goFailed:
				t.Errorf("Go refuses the definition (%v); JS makes\n%s", goErr, indent(want))
			default:
				for _, k := range slices.Sorted(maps.Keys(want)) {
					if !reflect.DeepEqual(got[k], want[k]) {
						t.Errorf("%s:\n Go %s\n JS %s", k, compact(got[k]), compact(want[k]))
					}
				}
			}
		})
	}
}

func indent(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDefaultsDeep(t *testing.T) {
	tests := []struct {
		name     string
		dst, src any
		want     any
	}{
		{"dst wins", map[string]any{"a": 1}, map[string]any{"a": 2, "b": 3}, map[string]any{"a": 1, "b": 3}},
		{"arrays by index", []any{1}, []any{2, 3}, []any{1, 3}},
		{"typed slices keep their type", []string{"a"}, []string{"b", "c"}, []string{"a", "c"}},
		{"typed maps keep their type", map[string]int{"a": 1}, map[string]int{"b": 2}, map[string]int{"a": 1, "b": 2}},
		{"mixed types become generic", map[string]int{"a": 1}, map[string]any{"b": "x"}, map[string]any{"a": 1, "b": "x"}},
		{"a map takes a slice's indexes", map[string]any{"b": 1}, []any{5, 6}, map[string]any{"0": 5, "1": 6, "b": 1}},
		{"a slice ignores a map's other keys", []any{1}, map[string]any{"x": 5, "2": 9}, []any{1, nil, 9}},
		{"null wins", nil, map[string]any{"a": 1}, nil},
		{"a nil map is null", map[string]any(nil), map[string]any{"a": 1}, map[string]any(nil)},
		{"a scalar wins over an object", "s", map[string]any{"a": 1}, "s"},
		{"an object wins over a scalar", map[string]any{"a": 1}, "s", map[string]any{"a": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultsDeep(tt.dst, tt.src); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("defaultsDeep(%#v, %#v) = %#v, want %#v", tt.dst, tt.src, got, tt.want)
			}
		})
	}
}

// Merging must not change the definitions: a mixin is shared by services.
func TestMixinsLeaveDefinitionsAlone(t *testing.T) {
	mixin := Service{
		Settings: map[string]any{"nested": map[string]any{"a": 1}, "list": []any{1, 2}},
		Actions:  []Action{{Name: "a", Handler: func(*Context) (any, error) { return "M", nil }, Params: Schema{"x": "number"}}},
		Events:   []Event{{Name: "e", Handler: func(*Context) error { return nil }}},
		Methods:  map[string]any{"m": func() {}},
	}
	before := fmt.Sprintf("%v %v %v", mixin.Settings, mixin.Actions[0].Params, len(mixin.Methods))
	for _, name := range []string{"one", "two"} {
		def, err := applyMixins(Service{
			Name:     name,
			Settings: map[string]any{"nested": map[string]any{"b": 2}, "list": []any{9}},
			Actions:  []Action{{Name: "a", Params: Schema{"y": "string"}}},
			Methods:  map[string]any{"n": func() {}},
			Mixins:   []Service{mixin},
		})
		if err != nil {
			t.Fatal(err)
		}
		def.Settings["nested"].(map[string]any)["c"] = 3
		def.Settings["list"].([]any)[1] = "changed"
		def.Actions[0].Params["z"] = "any"
		def.Methods["o"] = func() {}
	}
	if after := fmt.Sprintf("%v %v %v", mixin.Settings, mixin.Actions[0].Params, len(mixin.Methods)); after != before {
		t.Errorf("the mixin changed: %s, was %s", after, before)
	}
}

// A combined event handler runs every handler and returns their errors.
func TestMixinEventHandlersAllRun(t *testing.T) {
	var ran []string
	errA, errS := errors.New("a failed"), errors.New("s failed")
	def, err := applyMixins(Service{
		Name:   "svc",
		Events: []Event{{Name: "e", Handler: func(*Context) error { ran = append(ran, "S"); return errS }}},
		Mixins: []Service{{Events: []Event{{Name: "e", Handler: func(*Context) error { ran = append(ran, "A"); return errA }}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = def.Events[0].Handler(&Context{})
	if !errors.Is(err, errA) || !errors.Is(err, errS) || strings.Join(ran, ",") != "A,S" {
		t.Errorf("ran %v, error %v; want A,S and both errors", ran, err)
	}
}

// Handlers reach their service's methods and merged settings through the
// context.
func TestContextServiceHandle(t *testing.T) {
	b, err := New(Options{NodeID: "handle", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	greeting := Service{
		Settings: map[string]any{"greeting": "Hello"},
		Methods:  map[string]any{"greet": func(greeting, name string) string { return greeting + ", " + name }},
		Actions: []Action{{Name: "hello", Handler: func(ctx *Context) (any, error) {
			svc := ctx.ServiceHandle()
			greet := svc.Method("greet").(func(string, string) string)
			return greet(svc.Settings()["greeting"].(string), svc.Name()), nil
		}}},
	}
	if err := b.AddService(Service{Name: "ada", Mixins: []Service{greeting}}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddService(Service{Name: "bob", Settings: map[string]any{"greeting": "Hi"}, Mixins: []Service{greeting}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Stop(ctx)
	for action, want := range map[string]string{"ada.hello": "Hello, ada", "bob.hello": "Hi, bob"} {
		got, err := Call[string](ctx, b, action, nil)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", action, got, err, want)
		}
	}
	if h := (&Context{}).ServiceHandle(); h != nil {
		t.Errorf("a bare context has a service handle: %v", h)
	}
}

func TestMethodChecks(t *testing.T) {
	tests := []struct {
		name    string
		methods map[string]any
		want    string
	}{
		{"reserved", map[string]any{"started": func() {}}, "invalid method name 'started'"},
		{"mergeSchema prefix", map[string]any{"mergeSchemaFoo": func() {}}, "invalid method name 'mergeSchemaFoo'"},
		{"not a func", map[string]any{"x": 42}, "missing method handler on 'x'"},
		{"nil func", map[string]any{"x": (func())(nil)}, "missing method handler on 'x'"},
		{"fine", map[string]any{"x": func() {}, "fallback": func(*Context, error) (any, error) { return nil, nil }}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(Options{NodeID: "methods", Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			err = b.AddService(Service{Name: "svc", Methods: tt.methods})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("AddService: %v; want %q", err, tt.want)
			}
		})
	}
}

// An action's fault-tolerance settings merge field by field over a
// mixin's, as JS's defaultsDeep merges the objects, and show so in INFO.
func TestMixinFaultToleranceSettings(t *testing.T) {
	h := func(*Context) (any, error) { return nil, nil }
	fb := func(*Context, error) (any, error) { return "fb", nil }
	mixin := Service{Actions: []Action{{Name: "get", Handler: h,
		RetryPolicy:    &RetryPolicy{Enabled: true, Retries: 3},
		CircuitBreaker: &CircuitBreakerOptions{Enabled: true},
		Fallback:       fb,
	}}, Events: []Event{{Name: "ev", Handler: func(*Context) error { return nil }, Bulkhead: &BulkheadOptions{Enabled: true, Concurrency: 2}}}}
	svc := Service{Name: "svc", Mixins: []Service{mixin}, Actions: []Action{{Name: "get",
		RetryPolicy:    &RetryPolicy{Delay: 50 * time.Millisecond},
		CircuitBreaker: &CircuitBreakerOptions{Disabled: true},
	}}, Events: []Event{{Name: "ev", Handler: func(*Context) error { return nil }, Bulkhead: &BulkheadOptions{MaxQueueSize: 5}}}}
	b := startBroker(t, Options{}, nil, svc)
	info := b.localInfo(false)
	var desc packets.ActionInfo
	for _, s := range info.Services {
		if s.Name == "svc" {
			desc = s.Actions["svc.get"]
			if got, want := fmt.Sprint(s.Events["ev"].Field("bulkhead")), `{"concurrency":2,"enabled":true,"maxQueueSize":5}`; got != want {
				t.Errorf("event bulkhead = %s, want %s", got, want)
			}
		}
	}
	if got, want := fmt.Sprint(desc.Field("retryPolicy")), `{"delay":50,"enabled":true,"retries":3}`; got != want {
		t.Errorf("retryPolicy = %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(desc.Field("circuitBreaker")), `{"enabled":false}`; got != want {
		t.Errorf("circuitBreaker = %s, want %s", got, want)
	}
	if v, err := b.Call(context.Background(), "svc.get", nil); err != nil || !v.IsUndefined() {
		t.Errorf("call = %v, %v", v, err)
	}
}
