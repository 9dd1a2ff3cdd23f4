package json

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/molbridge/molbridge/packets"
)

// The hand-written encoders must write what encoding/json writes (the same
// values; they do not escape <, > and & for HTML, as JS does not).
func TestFastEncodersMatchEncodingJSON(t *testing.T) {
	yes, seq := true, int64(3)
	payloads := []packets.Payload{
		&packets.Request{ID: "1", Action: "a.b", Params: packets.ValueOf(map[string]any{"x": "é\"\\\n\t\x01<>&", "n": 1e-7, "big": 1e21}),
			Meta: packets.ValueOf(packets.Meta{"m": []any{1.0, nil}}), Timeout: 2987.4415, Level: 2, ParentID: "p", RequestID: "r", Caller: "v2.svc",
			Envelope: packets.Envelope{Ver: "4", Sender: "n\u2028"}},
		&packets.Request{ID: "2", Action: "x", Meta: packets.ValueOf(packets.Meta{}), Tracing: &yes, Stream: true, Seq: &seq,
			Params: packets.RawValue(packets.JSON, []byte(`{"raw":[1,2]}`))},
		&packets.Request{ID: "3", Action: "bad\xffutf8", Params: packets.Null},
		&packets.Response{ID: "1", Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: packets.ValueOf([]byte{1, 2})},
		&packets.Response{ID: "1", Meta: packets.ValueOf(packets.Meta{"a": 1}), Data: packets.Null,
			Error: &packets.ErrorPayload{Name: "E", Message: "m", Code: 500, Data: map[string]any{"x": 1}}},
		&packets.Response{ID: "1", Meta: packets.ValueOf(packets.Meta{}), Success: true, Stream: &yes, Seq: &seq},
		&packets.Event{ID: "e", Event: "user.created", Data: packets.ValueOf(42), Groups: []string{"g1", "g2"},
			Meta: packets.ValueOf(packets.Meta{}), Level: 1, RequestID: "r"},
		&packets.Event{ID: "e", Event: "x", Broadcast: true, Meta: packets.ValueOf(packets.Meta{}), NeedAck: &yes},
	}
	for _, p := range payloads {
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Serializer{}.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, got, want) || bytes.Count(got, []byte(",")) != bytes.Count(want, []byte(",")) {
			t.Errorf("%T\n got %s\nwant %s", p, got, want)
		}
	}
}

func BenchmarkMarshalRequest(b *testing.B) {
	p := &packets.Request{ID: "bacd9df1-ced6-41f3-97af-f3ce29e5dba8", Action: "math.add",
		Params: packets.RawValue(packets.JSON, []byte(`{"a":5,"b":3}`)), Meta: packets.ValueOf(packets.Meta{}), Timeout: 3000, Level: 1,
		RequestID: "bacd9df1-ced6-41f3-97af-f3ce29e5dba8", Envelope: packets.Envelope{Ver: "4", Sender: "node-a"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Serializer{}).Marshal(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalRequest(b *testing.B) {
	data := []byte(jsReq)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Serializer{}).Unmarshal("REQ", data); err != nil {
			b.Fatal(err)
		}
	}
}
