package objcodec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers/internal/sertest"
)

// The typed INFO writer and reader give what the generic, reflective path
// gives for the same payload.
func TestInfoMatchesGenericPath(t *testing.T) {
	var infos []*packets.Info
	for _, p := range sertest.RoundTrip() {
		if x, ok := p.(*packets.Info); ok {
			infos = append(infos, x)
		}
	}
	infos = append(infos, &packets.Info{}, &packets.Info{Services: []packets.ServiceInfo{{Name: "a", Version: "v1",
		Actions: map[string]packets.ActionInfo{"a.x": packets.NewActionInfo(nil)}, Events: map[string]packets.EventInfo{}}}})
	for _, f := range formats {
		for i, info := range infos {
			typed, err := Marshal(f, info)
			if err != nil {
				t.Fatal(err)
			}
			w := writer{f: f}
			if err := w.reflectStruct(reflect.ValueOf(info).Elem(), 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(typed, w.b) {
				t.Errorf("%s info %d: typed writer\n%x\nreflection\n%x", f.Name(), i, typed, w.b)
			}
			checkInfoDecode(t, f, typed)
		}
		// undefined and null members, unknown keys, an undefined descriptor
		m := map[string]any{"services": []any{nil, map[string]any{"name": "s", "version": nil, "extra": 1.0,
			"actions": map[string]any{"s.a": map[string]any{"name": "s.a"}, "s.b": nil}, "events": nil, "settings": nil}},
			"ipList": nil, "client": map[string]any{"type": "go", "other": []any{}}, "seq": 3.0, "more": "x"}
		b, err := EncodeValue(f, m)
		if err != nil {
			t.Fatal(err)
		}
		checkInfoDecode(t, f, b)
		if f != MsgPack {
			w := writer{f: f}
			w.mapHeader(3)
			w.str("hostname")
			w.undefined()
			w.str("services")
			w.arrayHeader(1)
			w.mapHeader(2)
			w.str("actions")
			w.mapHeader(1)
			w.str("x")
			w.undefined()
			w.str("version")
			w.undefined()
			w.str("config")
			w.undefined()
			checkInfoDecode(t, f, w.b)
		}
	}
}

func checkInfoDecode(t *testing.T, f Format, data []byte) {
	t.Helper()
	typed, errTyped := Unmarshal(f, protocol.Info, data)
	r := reader{f: f, d: data}
	generic, errGeneric := r.generic(protocol.Info)
	if errGeneric != nil {
		t.Fatalf("%s: generic reader: %v", f.Name(), errGeneric)
	}
	if (errTyped == nil) != (errGeneric == nil) {
		t.Fatalf("%s: typed %v, generic %v", f.Name(), errTyped, errGeneric)
	}
	if errTyped != nil {
		return
	}
	// The typed reader keeps settings, metadata and descriptors encoded,
	// the generic one decodes them: compare what they hold.
	a, errA := json.Marshal(typed)
	b, errB := json.Marshal(generic)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("%s: typed reader\n%s (%v)\ngeneric\n%s (%v)", f.Name(), a, errA, b, errB)
	}
}
