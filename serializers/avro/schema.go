package avro

import "github.com/molbridge/molbridge/protocol"

// The schemas below mirror moleculer 0.14's wire schemas (the record
// definitions in src/serializers/avro.js): one record per packet type,
// named after it, with the same fields in the same order, the same types
// and the same [null, X] unions with null defaults. Only the INFO client
// record, anonymous in moleculer, is given a name, which Avro requires and
// which the binary encoding does not carry. The codec in avro.go writes and
// reads exactly these schemas; the tests check it against a generic Avro
// library fed with them.
var schemas = map[protocol.PacketType]string{
	protocol.Event: `{"type":"record","name":"EVENT","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"},
		{"name":"id","type":"string"},
		{"name":"event","type":"string"},
		{"name":"data","type":["null","bytes"],"default":null},
		{"name":"dataType","type":"int"},
		{"name":"groups","type":["null",{"type":"array","items":"string"}],"default":null},
		{"name":"broadcast","type":"boolean"},
		{"name":"meta","type":"string"},
		{"name":"level","type":"int"},
		{"name":"tracing","type":["null","boolean"],"default":null},
		{"name":"parentID","type":["null","string"],"default":null},
		{"name":"requestID","type":["null","string"],"default":null},
		{"name":"stream","type":["null","boolean"],"default":null},
		{"name":"seq","type":["null","int"],"default":null},
		{"name":"caller","type":["null","string"],"default":null},
		{"name":"needAck","type":["null","boolean"],"default":null}]}`,
	protocol.Request: `{"type":"record","name":"REQ","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"},
		{"name":"id","type":"string"},
		{"name":"action","type":"string"},
		{"name":"params","type":["null","bytes"],"default":null},
		{"name":"paramsType","type":"int"},
		{"name":"meta","type":"string"},
		{"name":"timeout","type":["null","double"],"default":null},
		{"name":"level","type":"int"},
		{"name":"tracing","type":["null","boolean"],"default":null},
		{"name":"parentID","type":["null","string"],"default":null},
		{"name":"requestID","type":["null","string"],"default":null},
		{"name":"stream","type":["null","boolean"],"default":null},
		{"name":"seq","type":["null","int"],"default":null},
		{"name":"caller","type":["null","string"],"default":null}]}`,
	protocol.Response: `{"type":"record","name":"RES","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"},
		{"name":"id","type":"string"},
		{"name":"success","type":"boolean"},
		{"name":"data","type":["null","bytes"],"default":null},
		{"name":"dataType","type":"int"},
		{"name":"error","type":["null","string"],"default":null},
		{"name":"meta","type":"string"},
		{"name":"stream","type":["null","boolean"],"default":null},
		{"name":"seq","type":["null","int"],"default":null}]}`,
	protocol.Discover: `{"type":"record","name":"DISCOVER","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"}]}`,
	protocol.Info: `{"type":"record","name":"INFO","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"},
		{"name":"services","type":"string"},
		{"name":"config","type":"string"},
		{"name":"ipList","type":{"type":"array","items":"string"}},
		{"name":"hostname","type":"string"},
		{"name":"client","type":{"type":"record","name":"Client","fields":[
			{"name":"type","type":"string"},
			{"name":"version","type":"string"},
			{"name":"langVersion","type":"string"}]}},
		{"name":"seq","type":"int"},
		{"name":"instanceID","type":"string"},
		{"name":"metadata","type":"string"}]}`,
	protocol.Disconnect: `{"type":"record","name":"DISCONNECT","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"}]}`,
	protocol.Heartbeat: `{"type":"record","name":"HEARTBEAT","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"},
		{"name":"cpu","type":"double"}]}`,
	protocol.Ping: `{"type":"record","name":"PING","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"},
		{"name":"time","type":"long"},
		{"name":"id","type":["null","string"],"default":null}]}`,
	protocol.Pong: `{"type":"record","name":"PONG","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"},
		{"name":"time","type":"long"},
		{"name":"arrived","type":"long"},
		{"name":"id","type":["null","string"],"default":null}]}`,
	protocol.GossipHello: `{"type":"record","name":"GOSSIP_HELLO","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"},
		{"name":"host","type":"string"},
		{"name":"port","type":"int"}]}`,
	protocol.GossipReq: `{"type":"record","name":"GOSSIP_REQ","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"},
		{"name":"online","type":["null","string"],"default":null},
		{"name":"offline","type":["null","string"],"default":null}]}`,
	protocol.GossipRes: `{"type":"record","name":"GOSSIP_RES","fields":[
		{"name":"ver","type":"string"},
		{"name":"sender","type":"string"},
		{"name":"online","type":["null","string"],"default":null},
		{"name":"offline","type":["null","string"],"default":null}]}`,
}

// Schema returns the Avro schema, in JSON, that packets of type t are
// encoded with, and whether t has one.
func Schema(t protocol.PacketType) (string, bool) {
	s, ok := schemas[t]
	return s, ok
}
