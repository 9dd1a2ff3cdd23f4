package serializertest

// The payloads moleculer 0.14.36 built for the golden tests, as
// JSON.stringify writes them. They were made by a throwaway Node.js script
// (node 20, moleculer 0.14.36 with avsc 5.7.9, protobufjs 7.6.6, thrift
// 0.16.0 from compat/node_modules) that passed each payload object to
// `new Serializers[name]().serialize(payload, type)` and printed the
// resulting bytes in hex; those hex strings are in each serializer's tests.
// The first entries are the payloads of shared/protocol.md appendix C.

// Vectors returns the payloads of the golden tests.
func Vectors() []Vector { return vectors }

var vectors = []Vector{
	{Name: "DISCOVER", Type: "DISCOVER", JSON: `{"ver":"4","sender":"n1"}`},
	{Name: "INFO", Type: "INFO", JSON: `{"services":[{"name":"s","fullName":"s","settings":{},"metadata":{},"actions":{"s.a":{"name":"s.a","rawName":"a"}},"events":{}}],"ipList":["10.0.0.1"],"hostname":"h1","client":{"type":"go","version":"1.0.0","langVersion":"go1.22"},"config":{},"instanceID":"i-1","metadata":{},"seq":2,"ver":"4","sender":"n1"}`},
	{Name: "HEARTBEAT", Type: "HEARTBEAT", JSON: `{"cpu":12,"ver":"4","sender":"n1"}`},
	{Name: "HEARTBEAT_float", Type: "HEARTBEAT", JSON: `{"cpu":12.75,"ver":"4","sender":"n1"}`},
	{Name: "REQ", Type: "REQ", JSON: `{"id":"r-1","action":"s.a","params":{"x":1},"meta":{},"timeout":1500.5,"level":1,"tracing":null,"parentID":null,"requestID":"r-1","caller":null,"stream":false,"ver":"4","sender":"n1"}`},
	{Name: "REQ_full", Type: "REQ", JSON: `{"id":"r-2","action":"ü.ñ","params":{"type":"Buffer","data":[1,2,3,255]},"meta":{"n":-1.5,"user":{"id":5,"roles":["a","é"]}},"timeout":0,"level":3,"tracing":true,"parentID":"p-1","requestID":"q-1","caller":"v2.svc","stream":true,"seq":3,"ver":"4","sender":"n1"}`},
	{Name: "REQ_undefined", Type: "REQ", JSON: `{"id":"r-3","action":"s.a","meta":{},"timeout":0,"level":1,"tracing":false,"parentID":null,"requestID":"r-3","caller":null,"stream":false,"ver":"4","sender":"n1"}`},
	{Name: "REQ_null", Type: "REQ", JSON: `{"id":"r-4","action":"s.a","params":null,"meta":{"a":null},"timeout":2987.4415,"level":2,"tracing":null,"parentID":"r-0","requestID":"r-0","caller":"svc","stream":false,"ver":"4","sender":"n1"}`},
	{Name: "RES", Type: "RES", JSON: `{"id":"r-1","meta":{},"success":true,"data":{"y":2},"ver":"4","sender":"n1"}`},
	{Name: "RES_error", Type: "RES", JSON: `{"id":"r-1","meta":{},"success":false,"data":null,"error":{"name":"MoleculerError","message":"boom","nodeID":"n1","code":500,"retryable":false},"ver":"4","sender":"n1"}`},
	{Name: "RES_undefined", Type: "RES", JSON: `{"id":"r-5","meta":{"resMeta":"yes"},"success":true,"ver":"4","sender":"n1"}`},
	{Name: "RES_stream", Type: "RES", JSON: `{"id":"r-6","meta":{},"success":true,"data":{"type":"Buffer","data":[104,195,169,108,108,111]},"stream":true,"seq":1,"ver":"4","sender":"n1"}`},
	{Name: "RES_unicode", Type: "RES", JSON: `{"id":"r-7","meta":{},"success":true,"data":"héllo 😀 \u2028","ver":"4","sender":"n1"}`},
	{Name: "RES_numbers", Type: "RES", JSON: `{"id":"r-8","meta":{},"success":true,"data":[9007199254740991,-9007199254740991,-5.25,1e-7,0],"ver":"4","sender":"n1"}`},
	{Name: "EVENT", Type: "EVENT", JSON: `{"id":"e-1","event":"u.c","data":{"z":3},"groups":["g"],"broadcast":false,"meta":{},"level":1,"tracing":null,"parentID":null,"requestID":"e-1","caller":null,"needAck":null,"ver":"4","sender":"n1"}`},
	{Name: "EVENT_broadcast", Type: "EVENT", JSON: `{"id":"e-2","event":"user.created","data":null,"broadcast":true,"meta":{"m":[1,2]},"level":2,"tracing":false,"parentID":"p","requestID":"q","caller":"v1.users","needAck":true,"ver":"4","sender":"n1"}`},
	{Name: "EVENT_undefined", Type: "EVENT", JSON: `{"id":"e-3","event":"x","groups":["mail","audit"],"broadcast":false,"meta":{},"level":1,"tracing":true,"parentID":null,"requestID":"e-3","caller":null,"needAck":false,"ver":"4","sender":"n1"}`},
	{Name: "DISCONNECT", Type: "DISCONNECT", JSON: `{"ver":"4","sender":"n1"}`},
	{Name: "PING", Type: "PING", JSON: `{"time":1700000000123,"id":"p-1","ver":"4","sender":"n1"}`},
	{Name: "PONG", Type: "PONG", JSON: `{"time":1700000000123,"id":"p-1","arrived":1700000000200,"ver":"4","sender":"n1"}`},
	{Name: "PONG_negative", Type: "PONG", JSON: `{"time":-5,"id":"","arrived":9007199254740990,"ver":"4","sender":"n1"}`},
	{Name: "GOSSIP_HELLO", Type: "GOSSIP_HELLO", JSON: `{"host":"h1","port":4000,"ver":"4","sender":"n1"}`},
	{Name: "GOSSIP_REQ", Type: "GOSSIP_REQ", JSON: `{"online":{"n1":[2,1,12]},"offline":{"n9":3},"ver":"4","sender":"n1"}`},
	{Name: "GOSSIP_RES", Type: "GOSSIP_RES", JSON: `{"online":{"n2":[2,12]},"ver":"4","sender":"n1"}`},
	{Name: "GOSSIP_RES_empty", Type: "GOSSIP_RES", JSON: `{"ver":"4","sender":"n1"}`},
	{Name: "RES_stream_chunk_meta_twice", Type: "RES", JSON: `{"id":"r-9","meta":{"a":1},"success":true,"data":{"type":"Buffer","data":[104,105]},"stream":true,"seq":1,"ver":"4","sender":"n1"}`, MetaTwice: true},
}
