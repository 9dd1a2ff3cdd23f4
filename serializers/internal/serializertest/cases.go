// Package serializertest is the shared test kit of the schema-based
// serializers (Avro, ProtoBuf, Thrift): payloads of all twelve packet types,
// round-trip and fuzz checks, the benchmark payloads, the payloads whose
// bytes moleculer's own serializers produced for the golden tests, and a
// check that decodes Go's bytes with moleculer itself in Node.js.
package serializertest

import (
	"encoding/json"
	"fmt"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

// Case is a payload to encode and decode. Want is the payload's JSON (as
// the JSON serializer writes it) after a round trip, when that differs from
// the payload's own JSON because the serializers normalize what JS never
// sends (a nil meta is sent as {}).
type Case struct {
	Name    string
	Payload packets.Payload
	Want    string
}

func ptr[T any](v T) *T { return &v }

func env() packets.Envelope { return packets.Envelope{Ver: "4", Sender: "node-1"} }

func raw(s string) packets.Value { return packets.RawValue(packets.JSON, []byte(s)) }

// Cases returns payloads of all twelve packet types, with undefined and
// null values, Buffers, unicode, 2^53-1, negative numbers, floats and
// nested meta.
func Cases() []Case {
	info := func() *packets.Info {
		return &packets.Info{
			Services: []packets.ServiceInfo{{
				Name: "greeter", Version: 2.0, FullName: "v2.greeter",
				Settings: packets.ValueOf(map[string]any{"x": "ü"}), Metadata: packets.ValueOf(map[string]any{}),
				Actions: map[string]packets.ActionInfo{"v2.greeter.hello": packets.NewActionInfo(map[string]any{"name": "v2.greeter.hello", "rawName": "hello", "params": map[string]any{"name": "string"}})},
				Events:  map[string]packets.EventInfo{"user.*": packets.NewEventInfo(map[string]any{"name": "user.*", "group": "greeter"})},
			}},
			IPList: []string{"10.0.0.1", "fe80::1"}, Hostname: "host-ü",
			Client: packets.ClientInfo{Type: "go", Version: "0.1.0", LangVersion: "go1.26"},
			Config: map[string]any{"a": 1.0}, InstanceID: "inst-1", Metadata: map[string]any{"region": "eu"}, Seq: 7,
			Envelope: env(),
		}
	}
	return []Case{
		{Name: "DISCOVER", Payload: &packets.Discover{Envelope: env()}},
		{Name: "DISCOVER empty", Payload: &packets.Discover{}},
		{Name: "INFO", Payload: info()},
		{Name: "INFO empty lists", Payload: &packets.Info{Services: []packets.ServiceInfo{}, IPList: []string{}, Config: map[string]any{}, Metadata: map[string]any{}, Seq: 1, Envelope: env()}},
		{Name: "INFO nils", Payload: &packets.Info{Hostname: "h", Seq: 2147483647, Envelope: env()},
			Want: `{"services":[],"ipList":[],"hostname":"h","client":{"type":"","version":"","langVersion":""},"config":{},"instanceID":"","metadata":{},"seq":2147483647,"ver":"4","sender":"node-1"}`},
		{Name: "HEARTBEAT", Payload: &packets.Heartbeat{CPU: 12, Envelope: env()}},
		{Name: "HEARTBEAT float", Payload: &packets.Heartbeat{CPU: 0.123456789, Envelope: env()}},
		{Name: "REQ", Payload: &packets.Request{ID: "r-1", Action: "math.add", Params: raw(`{"a":5,"b":3}`), Meta: packets.ValueOf(packets.Meta{}),
			Timeout: 1500.5, Level: 1, RequestID: "r-1", Envelope: env()}},
		{Name: "REQ Go params", Payload: &packets.Request{ID: "r-2", Action: "math.add", Params: packets.ValueOf(map[string]any{"b": []any{1, "x", nil, true}, "a": -3.25}),
			Meta: packets.ValueOf(packets.Meta{"user": map[string]any{"id": 5.0, "roles": []any{"a", "é"}}, "n": -1.5}), Timeout: 2987.4415, Level: 2,
			Tracing: ptr(true), ParentID: "p-1", RequestID: "q-1", Caller: "v2.svc", Envelope: env()}},
		{Name: "REQ buffer stream", Payload: &packets.Request{ID: "r-3", Action: "ünï.cødé😀", Params: packets.ValueOf([]byte{0, 1, 2, 255}),
			Meta: packets.ValueOf(packets.Meta{"$streamObjectMode": false}), Level: 3, Tracing: ptr(false), RequestID: "r-3", Stream: true, Seq: ptr[int64](1), Envelope: env()}},
		{Name: "REQ undefined params", Payload: &packets.Request{ID: "r-4", Action: "a", Meta: packets.ValueOf(packets.Meta{}), Level: 1, RequestID: "r-4", Stream: true, Seq: ptr[int64](0), Envelope: env()}},
		{Name: "REQ null params", Payload: &packets.Request{ID: "r-5", Action: "a", Params: packets.Null, Meta: packets.ValueOf(packets.Meta{}), Level: 2147483647, RequestID: "r-5", Seq: ptr[int64](-2147483648), Envelope: env()}},
		{Name: "REQ nil meta", Payload: &packets.Request{ID: "r-6", Action: "a", Params: raw(`[]`), Level: 1, RequestID: "r-6", Envelope: env()},
			Want: `{"id":"r-6","action":"a","params":[],"meta":{},"timeout":0,"level":1,"tracing":null,"parentID":null,"requestID":"r-6","caller":null,"stream":false,"ver":"4","sender":"node-1"}`},
		{Name: "RES", Payload: &packets.Response{ID: "r-1", Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: raw(`{"id":1,"name":"x","tags":["a","b"]}`), Envelope: env()}},
		{Name: "RES error", Payload: &packets.Response{ID: "r-1", Meta: packets.ValueOf(packets.Meta{"m": "é"}), Data: packets.Null,
			Error:    &packets.ErrorPayload{Name: "MoleculerClientError", Message: "Bad ü", NodeID: "node-1", Code: 422, Type: "BAD", Retryable: true, Stack: "x\ny", Data: map[string]any{"x": 1.0}},
			Envelope: env()}},
		{Name: "RES undefined data", Payload: &packets.Response{ID: "r-2", Meta: packets.ValueOf(packets.Meta{"resMeta": "yes"}), Success: true, Envelope: env()}},
		{Name: "RES empty buffer", Payload: &packets.Response{ID: "r-3", Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: packets.ValueOf([]byte{}), Stream: ptr(true), Seq: ptr[int64](5), Envelope: env()}},
		{Name: "RES stream end", Payload: &packets.Response{ID: "r-3", Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: packets.Null, Stream: ptr(false), Seq: ptr[int64](6), Envelope: env()}},
		{Name: "RES max safe integer", Payload: &packets.Response{ID: "r-4", Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: raw(`[9007199254740991,-9007199254740991,-0.5,1e-7,0]`), Envelope: env()}},
		{Name: "RES unicode string", Payload: &packets.Response{ID: "r-5", Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: packets.ValueOf("héllo 😀 \u2028 \"q\""), Envelope: env()}},
		{Name: "EVENT", Payload: &packets.Event{ID: "e-1", Event: "user.created", Data: raw(`{"id":1}`), Groups: []string{"mail", "audit"}, Meta: packets.ValueOf(packets.Meta{}),
			Level: 1, RequestID: "e-1", Envelope: env()}},
		{Name: "EVENT broadcast", Payload: &packets.Event{ID: "e-2", Event: "$node.ü", Data: packets.Null, Broadcast: true, Meta: packets.ValueOf(packets.Meta{"deep": map[string]any{"a": []any{1.0, map[string]any{"b": nil}}}}),
			Level: 4, Tracing: ptr(false), ParentID: "p", RequestID: "q", Caller: "v1.users", NeedAck: ptr(true), Envelope: env()}},
		{Name: "EVENT undefined data", Payload: &packets.Event{ID: "e-3", Event: "x", Groups: []string{"g"}, Meta: packets.ValueOf(packets.Meta{}), Level: 1, Tracing: ptr(true), RequestID: "e-3", NeedAck: ptr(false), Envelope: env()}},
		{Name: "EVENT buffer", Payload: &packets.Event{ID: "e-4", Event: "bin", Data: packets.ValueOf([]byte("\x00\xffbin")), Meta: packets.ValueOf(packets.Meta{}), Level: 1, RequestID: "e-4", Envelope: env()}},
		{Name: "DISCONNECT", Payload: &packets.Disconnect{Envelope: env()}},
		{Name: "PING", Payload: &packets.Ping{Time: 1700000000123, ID: "p-1", Envelope: env()}},
		{Name: "PING max safe integer", Payload: &packets.Ping{Time: 9007199254740991, ID: "", Envelope: env()}},
		{Name: "PING negative", Payload: &packets.Ping{Time: -1, ID: "p-2", Envelope: env()}},
		{Name: "PONG", Payload: &packets.Pong{Time: 1700000000123, ID: "p-1", Arrived: 1700000000200, Envelope: env()}},
		{Name: "GOSSIP_HELLO", Payload: &packets.GossipHello{Host: "192.168.0.1", Port: 4000, Envelope: env()}},
		{Name: "GOSSIP_REQ", Payload: &packets.GossipReq{Online: map[string][]any{"node-1": {2.0, 1.0, 12.5}}, Offline: map[string]int64{"node-9": 3}, Envelope: env()}},
		{Name: "GOSSIP_RES", Payload: &packets.GossipRes{Online: map[string][]any{"node-2": {map[string]any{"ipList": []any{"10.0.0.2"}, "seq": 3.0}, 1.0, 5.0}, "node-3": {2.0, 7.0}}, Envelope: env()}},
		{Name: "GOSSIP_RES empty", Payload: &packets.GossipRes{Envelope: env()}},
	}
}

// BenchPayloads returns the payloads of the benchmarks, by packet type: REQ
// with params {"a":5,"b":3,"name":"hello"} and meta {"user":"u1"}; RES with
// data {"id":1,"name":"x","tags":["a","b"]}; EVENT user.created with data
// {"id":1} and groups mail and audit; INFO with 3 services of 4 actions
// each. Params and data are raw JSON, as they are when they pass through.
func BenchPayloads() []packets.Payload {
	id := "bacd9df1-ced6-41f3-97af-f3ce29e5dba8"
	e := packets.Envelope{Ver: "4", Sender: "node-a"}
	info := &packets.Info{IPList: []string{"10.0.0.5", "172.17.0.1"}, Hostname: "worker-1",
		Client: packets.ClientInfo{Type: "go", Version: "0.1.0", LangVersion: "go1.26"},
		Config: map[string]any{}, InstanceID: "0d0b4f2c-3c8a-4a51-9a5b-0c3f1e2d4b6a", Metadata: map[string]any{}, Seq: 3, Envelope: e}
	for s := range 3 {
		name := fmt.Sprintf("service%d", s)
		svc := packets.ServiceInfo{Name: name, FullName: name, Settings: packets.ValueOf(map[string]any{}), Metadata: packets.ValueOf(map[string]any{}),
			Actions: map[string]packets.ActionInfo{}, Events: map[string]packets.EventInfo{}}
		for a := range 4 {
			full := fmt.Sprintf("%s.action%d", name, a)
			svc.Actions[full] = packets.NewActionInfo(map[string]any{"name": full, "rawName": fmt.Sprintf("action%d", a), "cache": false,
				"params": map[string]any{"id": "number", "name": map[string]any{"type": "string", "optional": true}}})
		}
		info.Services = append(info.Services, svc)
	}
	return []packets.Payload{
		&packets.Request{ID: id, Action: "math.add", Params: raw(`{"a":5,"b":3,"name":"hello"}`), Meta: packets.ValueOf(packets.Meta{"user": "u1"}),
			Timeout: 3000, Level: 1, RequestID: id, Envelope: e},
		&packets.Response{ID: id, Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: raw(`{"id":1,"name":"x","tags":["a","b"]}`), Envelope: e},
		&packets.Event{ID: id, Event: "user.created", Data: raw(`{"id":1}`), Groups: []string{"mail", "audit"}, Meta: packets.ValueOf(packets.Meta{}),
			Level: 1, RequestID: id, Envelope: e},
		info,
	}
}

// View returns p as the JSON serializer would write it, for comparisons.
func View(p packets.Payload) (string, error) {
	b, err := json.Marshal(p)
	return string(b), err
}

// SameJSON reports whether two JSON texts hold the same data.
func SameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// Vector is a payload as JS built it, in JSON (JSON.stringify of the
// payload object moleculer hands to its serializer; Buffers appear as
// {"type":"Buffer","data":[...]}). Each serializer's tests hold the bytes
// that moleculer's serializer made of it, by Name.
type Vector struct {
	Name string
	Type protocol.PacketType
	JSON string
	// MetaTwice marks a response stream chunk as transit.js sends it, with
	// its meta encoded twice (see customfields.UnmarshalMeta); JSON is the
	// chunk as the sender meant it. Go encodes such a chunk with its meta
	// encoded once, so its bytes differ from JS's.
	MetaTwice bool
}
