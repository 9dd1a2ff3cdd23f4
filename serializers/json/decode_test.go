package json

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
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
}

var malformed = []string{
	``, `{`, `}`, `[]`, `"x"`, `{"id":}`, `{"id":"x",}`, `{"id":"x"}x`, `{"id":"\x01"}`, `{"id":"\q"}`,
	`{"id":"\u12"}`, `{"level":"x"}`, `{"level":1.5}`, `{"params":01}`, `{"params":-}`, `{"params":1.}`,
	`{"params":1e}`, `{"params":tru}`, `{"params":[1,]}`, `{"params":{"a"}}`, `{"meta":[]}`, `{"stream":1}`,
	`{"id":1}`, `{"tracing":"yes"}`,
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
