package packetjson

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	_ "github.com/molbridge/molbridge/serializers/json"
)

func TestMarshal(t *testing.T) {
	tr := true
	seq := int64(2)
	p := &packets.Request{
		ID:     "r-1",
		Action: "a.b",
		Params: packets.ValueOf(map[string]any{
			"bin":  []byte{1, 255},
			"when": time.UnixMilli(1700000000123),
			"list": []any{"x", 1.5, nil, []byte{}},
			"html": "<&>",
		}),
		Meta:     packets.ValueOf(packets.Meta{"m": map[string]any{"b": []byte("A")}}),
		Timeout:  1500.5,
		Level:    1,
		Tracing:  &tr,
		ParentID: "",
		Seq:      &seq,
		Envelope: packets.Envelope{Ver: "4", Sender: "n1"},
	}
	got, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"action":"a.b","caller":null,"id":"r-1","level":1,"meta":{"m":{"b":{"data":[65],"type":"Buffer"}}},` +
		`"params":{"bin":{"data":[1,255],"type":"Buffer"},"html":"<&>","list":["x",1.5,null,{"data":[],"type":"Buffer"}],"when":"2023-11-14T22:13:20.123Z"},` +
		`"parentID":null,"requestID":"","sender":"n1","seq":2,"stream":false,"timeout":1500.5,"tracing":true,"ver":"4"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// Undefined is absent, null is null; a raw JSON value is shown as is.
	res := &packets.Response{ID: "r", Data: packets.Undefined}
	if got, _ := Marshal(res); strings.Contains(string(got), "data") {
		t.Errorf("undefined data shown: %s", got)
	}
	res.Data = packets.Null
	if got, _ := Marshal(res); !strings.Contains(string(got), `"data":null`) {
		t.Errorf("null data: %s", got)
	}
	res.Data = packets.RawValue(packets.JSON, []byte(`{"z":1,"a":[true]}`))
	if got, _ := Marshal(res); !strings.Contains(string(got), `"data":{"a":[true],"z":1}`) {
		t.Errorf("raw data: %s", got)
	}
}

func TestParseAndEncode(t *testing.T) {
	in := []byte(`{"id":"r","action":"a","params":{"type":"Buffer","data":[1,2]},"meta":{"k":{"type":"Buffer","data":[3]},"n":{"type":"Buffer","data":[300]}},"level":1,"ver":"4","sender":"n1"}`)
	p, err := Parse(protocol.Request, in, AllBuffers)
	if err != nil {
		t.Fatal(err)
	}
	req := p.(*packets.Request)
	if v, ok := req.Params.Go(); !ok || !bytes.Equal(v.([]byte), []byte{1, 2}) {
		t.Errorf("params = %#v", v)
	}
	meta, err := req.Meta.Map()
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := meta["k"].([]byte); !ok || !bytes.Equal(b, []byte{3}) {
		t.Errorf("meta.k = %#v", meta["k"])
	}
	if _, ok := meta["n"].(map[string]any); !ok {
		t.Errorf("meta.n (byte 300) revived: %#v", meta["n"])
	}
	// Top level only: params is binary, meta.k stays an object.
	top, err := Parse(protocol.Request, in, TopLevelBuffers)
	if err != nil {
		t.Fatal(err)
	}
	treq := top.(*packets.Request)
	if v, ok := treq.Params.Go(); !ok || !bytes.Equal(v.([]byte), []byte{1, 2}) {
		t.Errorf("top level: params = %#v", v)
	}
	if tmeta, err := treq.Meta.Map(); err != nil {
		t.Fatal(err)
	} else if _, ok := tmeta["k"].(map[string]any); !ok {
		t.Errorf("top level: meta.k = %#v", tmeta["k"])
	}
	// Without revival the shapes stay objects; the JSON view is the same.
	p2, err := Parse(protocol.Request, in, NoBuffers)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Marshal(p)
	b, _ := Marshal(p2)
	c, _ := Marshal(top)
	if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Errorf("views differ:\n%s\n%s\n%s", a, b, c)
	}
	if BuffersFor("JSON") != NoBuffers || BuffersFor("protobuf") != TopLevelBuffers || BuffersFor("CBOR") != AllBuffers {
		t.Error("BuffersFor")
	}

	// Encode then Decode with the JSON serializer gives the same view.
	enc, err := Encode("JSON", protocol.Request, in)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := Decode("json", protocol.Request, enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec, b) {
		t.Errorf("decode(encode) = %s\nwant %s", dec, b)
	}

	for _, bad := range []string{``, `[]`, `"x"`, `{"id":1}`, `{} {}`, `{`} {
		if _, err := Parse(protocol.Request, []byte(bad), AllBuffers); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if _, err := Encode("NoSuch", protocol.Request, in); err == nil {
		t.Error("unknown serializer accepted")
	}
}
