package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/molbridge/molbridge/bridge"
	"github.com/molbridge/molbridge/conformance/jsnode"
)

type hookRun struct {
	Result any      `json:"result,omitempty"`
	Error  string   `json:"error,omitempty"`
	Seq    []string `json:"seq"`
}

// The service of compat/hooks.js, in Go.
func hookedService(seq *[]string) bridge.Service {
	before := func(name string) bridge.BeforeHook {
		return func(*bridge.Context) error { *seq = append(*seq, name); return nil }
	}
	after := func(name string) bridge.AfterHook {
		return func(_ *bridge.Context, res any) (any, error) {
			*seq = append(*seq, name)
			return fmt.Sprintf("%v|%s", res, name), nil
		}
	}
	rethrow := func(name string) bridge.ErrorHook {
		return func(_ *bridge.Context, err error) (any, error) {
			*seq = append(*seq, name)
			return nil, errors.New(message(err) + "|" + name)
		}
	}
	recover := func(name string) bridge.ErrorHook {
		return func(_ *bridge.Context, err error) (any, error) {
			*seq = append(*seq, name)
			return "recovered:" + message(err), nil
		}
	}
	mixin := bridge.Service{Hooks: []bridge.Hook{
		{Actions: "*", Before: before("mixin.before.*")},
		{Actions: "get", Before: before("mixin.before.get")},
		{Actions: "*", After: after("mixin.after.*")},
		{Actions: "get", After: after("mixin.after.get")},
		{Actions: "*", Error: rethrow("mixin.error.*")},
	}}
	return bridge.Service{
		Name:   "svc",
		Mixins: []bridge.Service{mixin},
		Hooks: []bridge.Hook{
			{Actions: "get|fail", Before: before("svc.before.get|fail")},
			{Actions: "*", Before: before("svc.before.*")},
			{Actions: "o*", Before: before("svc.before.o*")},
			{Actions: "get", After: after("svc.after.get")},
			{Actions: "*", After: after("svc.after.*")},
			{Actions: "fail", Error: rethrow("svc.error.fail")},
			{Actions: "*", Error: recover("svc.error.*")},
		},
		Actions: []bridge.Action{
			{Name: "get", Hooks: bridge.ActionHooks{
				Before: []bridge.BeforeHook{before("action.before")},
				After:  []bridge.AfterHook{after("action.after.1"), after("action.after.2")},
			}, Handler: func(*bridge.Context) (any, error) { *seq = append(*seq, "handler"); return "r", nil }},
			{Name: "fail", Hooks: bridge.ActionHooks{Error: []bridge.ErrorHook{rethrow("action.error")}},
				Handler: func(*bridge.Context) (any, error) {
					*seq = append(*seq, "handler")
					return nil, errors.New("boom")
				}},
			{Name: "other", Handler: func(*bridge.Context) (any, error) { *seq = append(*seq, "handler"); return "o", nil }},
		},
	}
}

// message is an error's message as JS's err.message: without the class
// name that bridge.Error's Error() puts first.
func message(err error) string {
	var e *bridge.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// Action hooks run in the order JS runs them, with a mixin's merged in.
func TestActionHooksMatchJS(t *testing.T) {
	script, err := jsnode.Script()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "hooks.js")
	cmd.Dir = filepath.Dir(script)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node compat/hooks.js: %v", err)
	}
	var want map[string]hookRun
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}

	var seq []string
	ctx := context.Background()
	b, err := bridge.New(bridge.Options{NodeID: "hooks", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddService(hookedService(&seq)); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Stop(ctx)
	for _, action := range []string{"get", "fail", "other"} {
		seq = nil
		var got hookRun
		v, err := b.Call(ctx, "svc."+action, nil)
		if err != nil {
			got.Error = message(err)
		} else {
			got.Result, _ = v.Interface()
		}
		got.Seq = seq
		if !reflect.DeepEqual(got, want[action]) {
			t.Errorf("svc.%s:\n got  %+v\n want %+v", action, got, want[action])
		}
	}
}
