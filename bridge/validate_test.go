package bridge

import (
	"errors"
	"testing"

	"github.com/molbridge/molbridge/packets"
)

func TestValidatorMessages(t *testing.T) {
	tests := []struct {
		schema Schema
		params string
		want   []map[string]any // type, field, message (and actual when given)
	}{
		{Schema{"a": "number", "b": "number"}, `{"a":"x"}`, []map[string]any{
			{"type": "number", "field": "a", "message": "The 'a' field must be a number.", "actual": "x"},
			{"type": "required", "field": "b", "message": "The 'b' field is required."}}},
		{Schema{"a": "number", "b": "number"}, `{"a":1,"b":2}`, nil},
		{Schema{"s": "string|min:3"}, `{"s":"ab"}`, []map[string]any{
			{"type": "stringMin", "field": "s", "message": "The 's' field length must be greater than or equal to 3 characters long.", "actual": 2.0}}},
		{Schema{"n": map[string]any{"type": "number", "optional": true, "min": 1.0}}, `{}`, nil},
		{Schema{"n": map[string]any{"type": "number", "optional": true, "min": 1.0}}, `{"n":0.5}`, []map[string]any{
			{"type": "numberMin", "field": "n", "message": "The 'n' field must be greater than or equal to 1."}}},
		{Schema{"o": "object"}, `{"o":[]}`, []map[string]any{{"type": "object", "field": "o", "message": "The 'o' must be an Object."}}},
		{Schema{"arr": "string[]"}, `{"arr":["a",1]}`, []map[string]any{{"type": "string", "field": "arr[1]", "message": "The 'arr[1]' field must be a string."}}},
		{Schema{"en": map[string]any{"type": "enum", "values": []any{"x", "y"}}}, `{"en":"z"}`, []map[string]any{
			{"type": "enumValue", "field": "en", "message": "The 'en' field value 'x, y' does not match any of the allowed values."}}},
		{Schema{"a": "number", "$$strict": true}, `{"a":1,"x":2}`, []map[string]any{
			{"type": "objectStrict", "message": "The object '' contains forbidden keys: 'x'."}}},
		{Schema{"p": map[string]any{"type": "object", "props": map[string]any{"q": "boolean"}}}, `{"p":{"q":1}}`, []map[string]any{
			{"type": "boolean", "field": "p.q", "message": "The 'p.q' field must be a boolean."}}},
	}
	for _, tt := range tests {
		v, err := compileSchema(tt.schema)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.validate(packets.RawValue(packets.JSON, []byte(tt.params)), "caller", "svc.act")
		if tt.want == nil {
			if err != nil {
				t.Errorf("%v %s: %v", tt.schema, tt.params, err)
			}
			continue
		}
		var merr *Error
		if !errors.As(err, &merr) || merr.Name != "ValidationError" || merr.Message != "Parameters validation error!" {
			t.Fatalf("%v %s: %v", tt.schema, tt.params, err)
		}
		items := merr.Data.([]any)
		if len(items) != len(tt.want) {
			t.Fatalf("%v %s: %d items: %v", tt.schema, tt.params, len(items), items)
		}
		for i, w := range tt.want {
			got := items[i].(map[string]any)
			for k, wv := range w {
				if got[k] != wv {
					t.Errorf("%s item %d: %s = %v, want %v", tt.params, i, k, got[k], wv)
				}
			}
			if _, has := w["field"]; !has && got["field"] != nil {
				t.Errorf("%s item %d has a field", tt.params, i)
			}
			if got["nodeID"] != "caller" || got["action"] != "svc.act" {
				t.Errorf("item %d lacks nodeID/action: %v", i, got)
			}
		}
	}
}

func TestValidatorDefaultsAndUnknownTypes(t *testing.T) {
	v, err := compileSchema(Schema{"c": map[string]any{"type": "string", "default": "dflt"}, "n": "number|convert:true"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := v.validate(packets.RawValue(packets.JSON, []byte(`{"n":"5"}`)), "", "")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := out.Interface()
	if mm := m.(map[string]any); mm["c"] != "dflt" || mm["n"] != 5.0 {
		t.Errorf("defaults/convert not applied: %v", mm)
	}
	if out, err := v.validate(packets.Null, "", ""); err == nil || !out.IsNull() {
		// required fields are missing; JS checks {} and leaves params null
		if err == nil {
			t.Error("null params passed a schema with a required field")
		}
	}
	if _, err := compileSchema(Schema{"x": "nosuchtype"}); err == nil {
		t.Error("unknown type accepted")
	}
}

// Params built in Go (ints, nested Go maps) are checked as their JSON
// form, as a remote node would see them.
func TestValidatorTakesGoValues(t *testing.T) {
	v, err := compileSchema(Schema{"a": "number", "tags": "array", "inner": Schema{"type": "object", "props": Schema{"n": "number"}}})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"a": 1, "tags": []string{"x"}, "inner": map[string]any{"n": int64(2)}}
	if _, err := v.validate(packets.ValueOf(params), "node", "svc.act"); err != nil {
		t.Fatalf("Go params rejected: %v", err)
	}
}
