package packets

import (
	"encoding/json"
	"testing"
	"unsafe"
)

func TestValueField(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    Value
		key  string
		want string // the field in JSON; "undefined" when absent
	}{
		{"go map", ValueOf(map[string]any{"a": 1.0, "n": nil}), "a", "1"},
		{"go map null field", ValueOf(map[string]any{"n": nil}), "n", "null"},
		{"go map missing", ValueOf(map[string]any{"a": 1.0}), "b", "undefined"},
		{"go non-map", ValueOf([]any{1.0}), "a", "undefined"},
		{"raw JSON without FieldFinder", RawValue(JSON, []byte(`{"a":{"b":[1,2]}}`)), "a", `{"b":[1,2]}`},
		{"raw JSON missing", RawValue(JSON, []byte(`{"a":1}`)), "b", "undefined"},
		{"raw JSON array", RawValue(JSON, []byte(`[1]`)), "a", "undefined"},
		{"null", Null, "a", "undefined"},
		{"undefined", Undefined, "a", "undefined"},
	} {
		if got := tc.v.Field(tc.key).String(); got != tc.want {
			t.Errorf("%s: Field(%q) = %s, want %s", tc.name, tc.key, got, tc.want)
		}
	}
}

func TestValueMap(t *testing.T) {
	m, err := RawValue(JSON, []byte(`{"a":1}`)).Map()
	if err != nil || m["a"] != 1.0 {
		t.Errorf("raw object: %v %v", m, err)
	}
	if m, err := Null.Map(); m != nil || err != nil {
		t.Errorf("null: %v %v", m, err)
	}
	if _, err := RawValue(JSON, []byte(`[1]`)).Map(); err == nil {
		t.Error("an array read as a map")
	}
}

func TestDescriptors(t *testing.T) {
	a := NewActionInfo(map[string]any{"name": "v2.math.add", "rawName": "add", "visibility": "public", "timeout": 500.0})
	if a.Name() != "v2.math.add" || a.RawName() != "add" || a.Visibility() != "public" {
		t.Errorf("action fields %q %q %q", a.Name(), a.RawName(), a.Visibility())
	}
	if got := a.Field("timeout").String(); got != "500" {
		t.Errorf("timeout field %s", got)
	}
	e := NewEventInfo(map[string]any{"name": "user.*", "group": "mail", "bulkhead": map[string]any{"enabled": true}})
	if e.Name() != "user.*" || e.Group() != "mail" {
		t.Errorf("event fields %q %q", e.Name(), e.Group())
	}
	if n := NewActionInfo(nil); !n.Object().IsNull() || n.Name() != "" {
		t.Error("a nil map is not a null descriptor")
	}
	// Through JSON and back: the fields are read again.
	b, err := json.Marshal(map[string]ActionInfo{"x": a, "nil": NewActionInfo(nil)})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]ActionInfo
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["x"].RawName() != "add" || back["x"].Visibility() != "public" || !back["nil"].Object().IsNull() {
		t.Errorf("after JSON: %s → %+v", b, back)
	}
	var ev EventInfo
	if err := json.Unmarshal([]byte(`{"name":5,"group":"g"}`), &ev); err != nil || ev.Name() != "" || ev.Group() != "g" {
		t.Errorf("a non-string name: %+v %v", ev, err)
	}
	if err := json.Unmarshal([]byte(`[1]`), &ev); err == nil {
		t.Error("an array read as a descriptor")
	}
	d := DecodedActionInfo(RawValue(JSON, []byte(`{"name":"a","params":{}}`)), "a", "", "")
	if m, err := d.Map(); err != nil || m["name"] != "a" {
		t.Errorf("decoded descriptor map %v %v", m, err)
	}
}

func TestObjectOf(t *testing.T) {
	m := map[string]any{"b": 1.0, "a": map[string]any{"z": true, "y": []any{map[string]any{"k": "v"}, 2.0}}, "c": nil}
	o := ObjectOf(m)
	if len(o) != 3 || o[0].Key != "a" || o[1].Key != "b" || o[2].Key != "c" {
		t.Fatalf("fields not sorted: %v", o)
	}
	inner, ok := o[0].Value.(Object)
	if !ok || inner[0].Key != "y" {
		t.Fatalf("nested map not an Object: %#v", o[0].Value)
	}
	if _, ok := inner[0].Value.([]any)[0].(Object); !ok {
		t.Errorf("map in an array not an Object: %#v", inner[0].Value)
	}
	b, err := json.Marshal(o)
	if want := `{"a":{"y":[{"k":"v"},2],"z":true},"b":1,"c":null}`; err != nil || string(b) != want {
		t.Errorf("JSON %s %v, want %s", b, err, want)
	}
	if a := NewActionInfo(map[string]any{"name": "x"}); len(a.Fields()) != 1 {
		t.Error("a local descriptor has no Fields")
	}
	if d := DecodedActionInfo(RawValue(JSON, []byte(`{}`)), "", "", ""); d.Fields() != nil {
		t.Error("a decoded descriptor has Fields")
	}
}

// Descriptors are references: INFO's maps of them stay small.
func TestDescriptorSize(t *testing.T) {
	if n := unsafe.Sizeof(ActionInfo{}) + unsafe.Sizeof(EventInfo{}); n != 2*unsafe.Sizeof(uintptr(0)) {
		t.Errorf("ActionInfo and EventInfo are %d bytes", n)
	}
	var zero ActionInfo
	if zero.Name() != "" || !zero.Object().IsUndefined() || zero.Fields() != nil || zero.Field("x").String() != "undefined" {
		t.Error("the zero ActionInfo is not empty")
	}
}
