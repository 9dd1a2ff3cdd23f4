package json

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

var decodeCases = []struct {
	typ protocol.PacketType
	in  string
}{
	{protocol.Request, jsReq},
	{protocol.Request, `{"id":"x","action":"a\u00e9\n","params":null,"meta":null,"timeout":null,"level":2,"tracing":true,"parentID":"p","requestID":"r","caller":"c","stream":true,"seq":4,"ver":"4","sender":"n","extra":{"a":[1,{"b":null}]}}`},
	{protocol.Request, ` { "id" : "x" , "params" : [ 1 , -2.5e3 , "s" , true , false , null , { } , [ ] ] } `},
	{protocol.Response, jsResUnd},
	{protocol.Response, jsResNul},
	{protocol.Response, jsErr},
	{protocol.Response, `{"id":"s","meta":{},"success":true,"data":{"type":"Buffer","data":[1]},"stream":true,"seq":0,"ver":"4","sender":"b"}`},
	{protocol.Event, `{"id":"9f","event":"user.created","data":{"id":1},"groups":["math","other"],"broadcast":false,"meta":{},"level":1,"tracing":null,"parentID":null,"requestID":"29","caller":null,"needAck":null,"ver":"4","sender":"node-a"}`},
	{protocol.Event, `{"id":"9f","event":"e","broadcast":true,"groups":null,"ver":"4","sender":"a"}`},
	// keys out of order, repeated, unknown, escaped, spaced, or near the end
	{protocol.Request, `{"sender":"n","ver":"4","id":"x","action":"a","id":"y","x":[{}],"\u0061ction":"b","seq":1}`},
	{protocol.Request, `{ "id" :"x", "action": "a" ,"params" : {} }`},
	{protocol.Request, `{"id":null,"level":null,"seq":null,"caller":null,"timeout":-0.5,"level":-3,"seq":-0}`},
	{protocol.Request, `{"level":123456,"seq":123456789012345,"timeout":1e3}`},
	{protocol.Request, `{"seq":1234567890123456,"timeout":123456789012345678}`},
	{protocol.Response, `{"seq":2,"id":"a"}`},
	{protocol.Response, `{"id":"a","data":[1],"data":null,"ver":"4"}`},
	{protocol.Event, `{"groups":["a",null],"groups":[],"id":"1"}`},
	{protocol.Event, `{"id":"1","groups":["1","2","3","4","5","6","7","8","9"]}`},
	{protocol.Event, `{"id":"\u00e9\ud83d\ude00","event":"\"q\"","sender":"\ud83d"}`},
}

var malformed = []string{
	``, `{`, `}`, `[]`, `"x"`, `{"id":}`, `{"id":"x",}`, `{"id":"x"}x`, `{"id":"\x01"}`, `{"id":"\q"}`,
	`{"id":"\u12"}`, `{"level":"x"}`, `{"level":1.5}`, `{"params":01}`, `{"params":-}`, `{"params":1.}`,
	`{"params":1e}`, `{"params":tru}`, `{"params":[1,]}`, `{"params":{"a"}}`, `{"meta":[]}`, `{"stream":1}`,
	`{"id":1}`, `{"tracing":"yes"}`, `{"groups":[1]}`, `{"groups":{}}`, `{"groups":["a",]}`, `{"id":"x","ver":"4"`,
	`{"id":"x","ver":}`, `{"id" "x"}`, `{"id":"x" "ver":"4"}`, `{"sender":"node-a"]`, `{"sender":"a"}}`,
	`{"id":nul}`, `{"caller":nulll}`, `{"caller":n}`, `{"level":-}`, `{"level":-x}`, `{"seq":01}`, `{"level":1e400}`,
	`{"level":nul}`, `{"seq":[]}`, `{"level":true}`, `{"level":12345678901234567890}`,
	`{"level":123456789012345}`, // too large for a 32-bit int
}

// The hand-written decoder must agree with encoding/json.
func TestFastDecodersMatchEncodingJSON(t *testing.T) {
	for _, tt := range decodeCases {
		fast, err := Serializer{}.Unmarshal(tt.typ, []byte(tt.in))
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		slow, err := unmarshalReflect(tt.typ, []byte(tt.in))
		if err != nil {
			t.Fatalf("%s: reflect: %v", tt.in, err)
		}
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(slow)
		if string(a) != string(b) {
			t.Errorf("%s\nfast %s\nslow %s", tt.in, a, b)
		}
	}
	for _, typ := range []protocol.PacketType{protocol.Request, protocol.Response, protocol.Event} {
		for _, in := range malformed {
			if _, err := (Serializer{}).Unmarshal(typ, []byte(in)); err == nil {
				if _, errSlow := unmarshalReflect(typ, []byte(in)); errSlow != nil {
					t.Errorf("%s %q accepted, encoding/json refuses it: %v", typ, in, errSlow)
				}
			}
		}
	}
}

// The decoders list each packet's keys in the order the encoder (and JS)
// writes them, which Fields reads fastest.
func TestKeysInEncoderOrder(t *testing.T) {
	yes, seq := true, int64(3)
	for _, tc := range []struct {
		p    packets.Payload
		keys *jsonlike.Keys
	}{
		{&packets.Request{ID: "1", Params: packets.ValueOf(1), Tracing: &yes, Seq: &seq}, requestKeys},
		{&packets.Response{ID: "1", Data: packets.ValueOf(1), Error: &packets.ErrorPayload{Name: "E"}, Stream: &yes, Seq: &seq}, responseKeys},
		{&packets.Event{ID: "1", Data: packets.ValueOf(1), Groups: []string{"g"}, NeedAck: &yes}, eventKeys},
	} {
		b, err := Serializer{}.Marshal(tc.p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		dec := json.NewDecoder(bytes.NewReader(b))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, key.(string))
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
		var want []string
		for i := range tc.keys.Len() {
			want = append(want, tc.keys.Name(i))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the encoder writes %q, the decoder expects %q", tc.p.Type(), got, want)
		}
	}
}

// JS numbers have no integer type: a level of 2.0 is a level of 2.
func TestLenientIntegers(t *testing.T) {
	p, err := Serializer{}.Unmarshal(protocol.Request, []byte(`{"level":2.0,"seq":1e1}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.(*packets.Request); r.Level != 2 || *r.Seq != 10 {
		t.Errorf("level %d seq %d", r.Level, *r.Seq)
	}
}

// FuzzUnmarshal checks that no input crashes a decoder, and that what the
// fast decoders accept encodes and decodes back to the same payload.
func FuzzUnmarshal(f *testing.F) {
	for _, tt := range decodeCases {
		f.Add(string(tt.typ), []byte(tt.in))
	}
	for _, in := range malformed {
		f.Add("REQ", []byte(in))
	}
	f.Add("INFO", []byte(`{"services":[],"ipList":[],"hostname":"h","client":{},"config":{},"instanceID":"i","metadata":{},"seq":1,"ver":"4","sender":"s"}`))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		pt, ok := protocol.ParsePacketType(typ)
		if !ok {
			return
		}
		s := Serializer{}
		p, err := s.Unmarshal(pt, data)
		if err != nil {
			return
		}
		out, err := s.Marshal(p)
		if err != nil {
			return // e.g. a number too large for JSON numbers to carry
		}
		back, err := s.Unmarshal(pt, out)
		if err != nil {
			t.Fatalf("re-decoding our own output failed: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(mustJSON(t, p), mustJSON(t, back)) {
			t.Fatalf("round trip changed the payload:\n%s\n%s", mustJSON(t, p), mustJSON(t, back))
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
