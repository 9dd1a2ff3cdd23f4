package json

import (
	"testing"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

// Packets as moleculer 0.14.36 wrote them (shared/protocol.md, appendix B).
const (
	jsReq    = `{"id":"bacd9df1-ced6-41f3-97af-f3ce29e5dba8","action":"math.add","params":{"a":5,"b":3},"meta":{"user":"u1"},"timeout":3000,"level":1,"tracing":null,"parentID":null,"requestID":"bacd9df1-ced6-41f3-97af-f3ce29e5dba8","caller":null,"stream":false,"ver":"4","sender":"node-a"}`
	jsResUnd = `{"id":"26fb","meta":{"resMeta":"yes"},"success":true,"ver":"4","sender":"node-b"}`
	jsResNul = `{"id":"26fb","meta":{},"success":true,"data":null,"ver":"4","sender":"node-b"}`
	jsErr    = `{"id":"d699","meta":{},"success":false,"data":null,"error":{"name":"MoleculerClientError","message":"Bad thing","nodeID":"node-b","code":422,"type":"BAD","retryable":false,"stack":"x","data":{"x":1}},"ver":"4","sender":"node-b"}`
)

func TestRoundTripJSPackets(t *testing.T) {
	s := Serializer{}
	tests := []struct {
		typ  protocol.PacketType
		in   string
		want string
	}{
		{protocol.Request, jsReq, jsReq},
		{protocol.Response, jsResUnd, jsResUnd},
		{protocol.Response, jsResNul, jsResNul},
		{protocol.Response, jsErr, jsErr},
		{protocol.Heartbeat, `{"cpu":5.5,"ver":"4","sender":"a"}`, `{"cpu":5.5,"ver":"4","sender":"a"}`},
		{protocol.Request, `{"id":"x","action":"a","params":{},"meta":{},"timeout":2987.4415,"level":2,"tracing":null,"parentID":"p","requestID":"r","caller":"v2.svc","stream":false,"ver":"4","sender":"n"}`,
			`{"id":"x","action":"a","params":{},"meta":{},"timeout":2987.4415,"level":2,"tracing":null,"parentID":"p","requestID":"r","caller":"v2.svc","stream":false,"ver":"4","sender":"n"}`},
	}
	for _, tt := range tests {
		p, err := s.Unmarshal(tt.typ, []byte(tt.in))
		if err != nil {
			t.Fatalf("decode %s: %v", tt.in, err)
		}
		out, err := s.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != tt.want {
			t.Errorf("round trip\n got %s\nwant %s", out, tt.want)
		}
	}
}

func TestUndefinedAndNull(t *testing.T) {
	s := Serializer{}
	p, _ := s.Unmarshal(protocol.Response, []byte(jsResUnd))
	if !p.(*packets.Response).Data.IsUndefined() {
		t.Error("absent data is not undefined")
	}
	p, _ = s.Unmarshal(protocol.Response, []byte(jsResNul))
	if !p.(*packets.Response).Data.IsNull() {
		t.Error("null data is not null")
	}
	b, _ := s.Marshal(&packets.Response{ID: "1", Meta: packets.ValueOf(packets.Meta{}), Success: true, Data: packets.ValueOf([]byte("hi"))})
	if want := `{"id":"1","meta":{},"success":true,"data":{"type":"Buffer","data":[104,105]},"ver":"","sender":""}`; string(b) != want {
		t.Errorf("buffer: %s", b)
	}
}

func TestMalformed(t *testing.T) {
	s := Serializer{}
	for _, in := range []string{"", "{", "[1]", `{"level":"x"}`} {
		if _, err := s.Unmarshal(protocol.Request, []byte(in)); err == nil {
			t.Errorf("%q decoded without error", in)
		}
	}
}
