// Package sertest holds what the tests of the schema-less binary serializers
// (MsgPack, Notepack, CBOR) share: payloads of every packet type for round
// trips, the JSON view JS would give of a payload, the checks of the
// vectors JS encoded, and the body of the FuzzUnmarshal targets. (The
// benchmark payloads, the same for every serializer, are serializertest's.)
package sertest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
)

// infoPayload is an INFO with 3 services of 4 actions each.
func infoPayload() *packets.Info {
	info := &packets.Info{IPList: []string{"192.0.2.2"}, Hostname: "vm",
		Client: packets.ClientInfo{Type: "go", Version: "0.1.0", LangVersion: "go1.26"},
		Config: map[string]any{}, InstanceID: "6cedca0c-1342-4b98-8e45-ed33882beb6f",
		Metadata: map[string]any{"region": "eu"}, Seq: 2, Envelope: packets.Envelope{Ver: "4", Sender: "node-1"}}
	for _, svc := range []string{"greeter", "math", "users"} {
		s := packets.ServiceInfo{Name: svc, Version: 2.0, FullName: "v2." + svc, Settings: packets.ValueOf(map[string]any{"a": 1.0}),
			Metadata: packets.ValueOf(map[string]any{}), Actions: map[string]packets.ActionInfo{},
			Events: map[string]packets.EventInfo{svc + ".changed": packets.NewEventInfo(map[string]any{"name": svc + ".changed"})}}
		for _, a := range []string{"get", "list", "create", "remove"} {
			name := s.FullName + "." + a
			s.Actions[name] = packets.NewActionInfo(map[string]any{"name": name, "rawName": a, "timeout": 500.0,
				"params": map[string]any{"id": "string", "limit": map[string]any{"type": "number", "optional": true}}})
		}
		info.Services = append(info.Services, s)
	}
	return info
}

func ptr[T any](v T) *T { return &v }

// RoundTrip lists payloads of all twelve packet types, with undefined and
// null values, binary data, unicode, large and negative integers, floats,
// dates and nesting.
func RoundTrip() []packets.Payload {
	env := packets.Envelope{Ver: "4", Sender: "node-ü"}
	params := map[string]any{
		"a": 5.0, "neg": -7.0, "f": 0.1, "f32": 1500.5, "max": 9007199254740991.0, "min": -9007199254740991.0,
		"big": 1e21, "tiny": 5e-324, "u32": 4294967295.0, "u32b": 4294967296.0, "q": -214748365.0,
		"s": "héllo, 世界 😀", "nil": nil, "yes": true, "no": false, "bin": []byte{0, 1, 254, 255},
		"list":  []any{1.0, "two", []any{3.0}, map[string]any{"four": 4.0}, nil, []byte("x")},
		"empty": map[string]any{}, "none": []any{}, "long": string(bytes.Repeat([]byte("é"), 200)),
		"nested": map[string]any{"a": map[string]any{"b": map[string]any{"c": []any{1.5, -2.25}}}},
		"when":   time.UnixMilli(1700000000123).UTC(),
	}
	info := infoPayload()
	info.Metadata = map[string]any{"region": "eu", "weights": []any{1.0, 2.5, -3.0}, "limits": map[string]any{"mem": 4294967296.0}}
	info.Services[0].Version = "staging"
	info.Services[0].FullName = "staging.greeter"
	return []packets.Payload{
		&packets.Discover{Envelope: env},
		info,
		&packets.Heartbeat{CPU: 12.5, Envelope: env},
		&packets.Heartbeat{CPU: 33.333333333333336, Envelope: env},
		&packets.Request{ID: "r1", Action: "math.add", Params: packets.ValueOf(params), Meta: packets.ValueOf(packets.Meta{"user": "u1", "n": 1.5, "bin": []byte("m")}),
			Timeout: 2987.4415, Level: 2, Tracing: ptr(true), ParentID: "p", RequestID: "r0", Caller: "v2.svc", Envelope: env},
		&packets.Request{ID: "r2", Action: "a", Meta: packets.ValueOf(packets.Meta{}), Level: 1, RequestID: "r2", Envelope: env}, // undefined params
		&packets.Request{ID: "r3", Action: "a", Params: packets.Null, Meta: packets.ValueOf(packets.Meta{"$streamObjectMode": false}), Level: 1,
			RequestID: "r3", Stream: true, Seq: ptr(int64(0)), Envelope: env},
		&packets.Request{ID: "r3", Action: "a", Params: packets.ValueOf([]byte{1, 2, 3}), Meta: packets.ValueOf(packets.Meta{}), Level: 1,
			RequestID: "r3", Stream: true, Seq: ptr(int64(1)), Envelope: env},
		&packets.Response{ID: "r1", Meta: packets.ValueOf(packets.Meta{"resMeta": "yes"}), Success: true, Envelope: env}, // undefined data
		&packets.Response{ID: "r1", Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: packets.Null, Envelope: env},
		&packets.Response{ID: "r1", Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: packets.ValueOf(-9007199254740991), Envelope: env},
		&packets.Response{ID: "r1", Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: packets.ValueOf([]byte("chunk")),
			Stream: ptr(true), Seq: ptr(int64(2)), Envelope: env},
		&packets.Response{ID: "r1", Meta: packets.ValueOf(packets.Meta{}), Data: packets.Null,
			Error: &packets.ErrorPayload{Name: "MoleculerClientError", Message: "Bad thing", NodeID: "n", Code: 422, Type: "BAD",
				Stack: "Error: Bad thing\n    at x", Data: map[string]any{"x": 1.0, "list": []any{"a"}}}, Envelope: env},
		&packets.Event{ID: "e1", Event: "user.created", Data: packets.ValueOf(map[string]any{"id": 1.0}), Groups: []string{"mail", "audit"},
			Meta: packets.ValueOf(packets.Meta{}), Level: 1, RequestID: "e1", Envelope: env},
		&packets.Event{ID: "e2", Event: "tick", Broadcast: true, Meta: packets.ValueOf(packets.Meta{}), Level: 1, RequestID: "e2",
			Tracing: ptr(false), NeedAck: ptr(true), Envelope: env}, // undefined data, no groups
		&packets.Event{ID: "e3", Event: "x", Data: packets.Null, Meta: packets.ValueOf(packets.Meta{"a": []any{}}), Level: 3, Envelope: env},
		&packets.Disconnect{Envelope: env},
		&packets.Ping{Time: 1700000000123, ID: "p1", Envelope: env},
		&packets.Pong{Time: 1700000000123, ID: "p1", Arrived: 1700000000200, Envelope: env},
		&packets.Ping{Time: -1, ID: "", Envelope: env},
		&packets.GossipHello{Host: "h1", Port: 4000, Envelope: env},
		&packets.GossipReq{Online: map[string][]any{"n1": {2.0, 1.0, 12.0}}, Offline: map[string]int64{"n9": 3}, Envelope: env},
		&packets.GossipReq{Envelope: env},
		&packets.GossipRes{Online: map[string][]any{"n2": {map[string]any{"ipList": []any{"10.0.0.1"}, "port": 4001.0, "seq": 3.0}, 2.0, 12.0},
			"n3": {3.0, 0.5}}, Offline: map[string]int64{"n8": 9007199254740991}, Envelope: env},
	}
}

// JSView is the JSON JS would show for a payload (JSON.stringify), parsed
// into Go data: binary data as a serialized Buffer, dates as ISO strings,
// -0 as 0, NaN and infinities as null.
func JSView(p packets.Payload) (any, error) {
	var c any = p
	switch x := p.(type) {
	case *packets.Request:
		y := *x
		y.Params, y.Meta = jsValue(x.Params), jsValue(x.Meta)
		c = &y
	case *packets.Response:
		y := *x
		y.Data, y.Meta = jsValue(x.Data), jsValue(x.Meta)
		if x.Error != nil {
			e := *x.Error
			e.Data = jsData(e.Data)
			y.Error = &e
		}
		c = &y
	case *packets.Event:
		y := *x
		y.Data, y.Meta = jsValue(x.Data), jsValue(x.Meta)
		c = &y
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return jsData(out), nil
}

func jsValue(v packets.Value) packets.Value {
	if v.IsUndefined() || v.IsNull() {
		return v
	}
	x, err := v.Interface()
	if err != nil {
		return packets.ValueOf(fmt.Sprintf("<undecodable: %v>", err))
	}
	return packets.ValueOf(jsData(x))
}

// jsData maps JSON-like data to what JSON.stringify writes for it.
func jsData(v any) any {
	switch x := v.(type) {
	case []byte:
		data := make([]any, len(x))
		for i, c := range x {
			data[i] = float64(c)
		}
		return map[string]any{"type": "Buffer", "data": data}
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		if x == 0 {
			return 0.0
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsData(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = jsData(e)
		}
		return a
	}
	return v
}

// ParseJSON parses JSON text into Go data.
func ParseJSON(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %s: %v", s, err)
	}
	return v
}

// Show renders data for a failure message.
func Show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// CheckRoundTrips encodes every RoundTrip payload, decodes it and checks
// that JS would see the same payload.
func CheckRoundTrips(t *testing.T, s serializers.Serializer) {
	for _, p := range RoundTrip() {
		b, err := s.Marshal(p)
		if err != nil {
			t.Fatalf("%s: marshal: %v", p.Type(), err)
		}
		back, err := s.Unmarshal(p.Type(), b)
		if err != nil {
			t.Fatalf("%s: unmarshal %x: %v", p.Type(), b, err)
		}
		want, err := JSView(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := JSView(back)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s changed in a round trip:\n got %s\nwant %s", p.Type(), Show(got), Show(want))
		}
		again, err := s.Marshal(back)
		if err != nil || !bytes.Equal(again, b) {
			t.Errorf("%s: encoding the decoded payload gave other bytes (%v):\n%x\n%x", p.Type(), err, again, b)
		}
	}
}

// Fuzz is the body of a FuzzUnmarshal target: no input may crash the
// decoder, and what it accepts must encode, decode again and look the same
// to JS, and encode to the same bytes again.
func Fuzz(t *testing.T, s serializers.Serializer, typ string, data []byte) {
	pt, ok := protocol.ParsePacketType(typ)
	if !ok {
		return
	}
	p, err := s.Unmarshal(pt, data)
	if err != nil {
		return
	}
	out, err := s.Marshal(p)
	if err != nil {
		t.Fatalf("encoding a decoded payload failed: %v", err)
	}
	back, err := s.Unmarshal(pt, out)
	if err != nil {
		t.Fatalf("re-decoding our own output failed: %v\n%x", err, out)
	}
	a, errA := JSView(p)
	b, errB := JSView(back)
	if (errA == nil) != (errB == nil) {
		t.Fatalf("JSON view: %v / %v", errA, errB)
	}
	if errA == nil && !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the payload:\n%s\n%s", Show(a), Show(b))
	}
	again, err := s.Marshal(back)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("second encoding differs (%v):\n%x\n%x", err, out, again)
	}
}

// Vector is a payload as the JS serializer encoded it.
type Vector struct {
	Name string
	Type protocol.PacketType
	Hex  string
	// JSON is what JSON.stringify shows of the payload JS decodes from Hex.
	JSON string
	// Reordered marks payloads with maps whose keys JS writes in another
	// order than we do (we sort them, as encoding/json does): our encoding
	// of the decoded payload is compared by value, not byte for byte.
	Reordered bool
	// GoJSON, when set, is what we decode instead of JSON, where the
	// packets model cannot hold the JS value (a null timeout is 0).
	GoJSON string
}

// CheckVectors decodes every vector, compares it with the JSON JS shows,
// and encodes it again, expecting the bytes JS wrote.
func CheckVectors(t *testing.T, s serializers.Serializer, vectors []Vector) {
	for _, v := range vectors {
		data, err := hex.DecodeString(v.Hex)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		p, err := s.Unmarshal(v.Type, data)
		if err != nil {
			t.Errorf("%s: decode: %v", v.Name, err)
			continue
		}
		got, err := JSView(p)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		wantJSON := v.JSON
		if v.GoJSON != "" {
			wantJSON = v.GoJSON
		}
		if want := ParseJSON(t, wantJSON); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded\n got %s\nwant %s", v.Name, Show(got), Show(want))
		}
		out, err := s.Marshal(p)
		if err != nil {
			t.Errorf("%s: encode: %v", v.Name, err)
			continue
		}
		if v.Reordered || v.GoJSON != "" {
			back, err := s.Unmarshal(v.Type, out)
			if err != nil {
				t.Errorf("%s: decode our encoding: %v", v.Name, err)
				continue
			}
			if again, _ := JSView(back); !reflect.DeepEqual(again, got) {
				t.Errorf("%s: our encoding decodes to\n%s\nnot\n%s", v.Name, Show(again), Show(got))
			}
		} else if !bytes.Equal(out, data) {
			t.Errorf("%s: encoded\n got %x\nwant %s", v.Name, out, v.Hex)
		}
	}
}

// Seeds adds the inputs every serializer's fuzz target starts from: the
// encoded RoundTrip payloads and the JS vectors.
func Seeds(f *testing.F, s serializers.Serializer, vectors []Vector) {
	for _, p := range RoundTrip() {
		b, err := s.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(p.Type()), b)
	}
	for _, v := range vectors {
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(v.Type), b)
	}
}
