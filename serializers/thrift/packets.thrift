// The structs of moleculer's Thrift serializer, mirroring moleculer 0.14's
// wire schema (src/serializers/thrift/packets.thrift): the same structs,
// field ids and field types, so the bytes are the same.
//
// Every field is `optional` here, which does not change the wire format:
// the JS code writes every field that is not null and leaves null ones out,
// whatever their requiredness, and reads absent ones as null. Go code
// generated for default-requiredness fields would always write them (an
// empty groups list, needAck false) and could not tell absent from zero.
//
// Regenerate internal/wire with `go generate` in this directory (see the
// package documentation).

namespace go wire
namespace java services.moleculer.serializers.thrift

enum DataType {
	DATATYPE_UNDEFINED = 0,
	DATATYPE_NULL = 1,
	DATATYPE_JSON = 2,
	DATATYPE_BUFFER = 3
}

struct PacketEvent {
	1: optional string ver,
	2: optional string sender,
	3: optional string id,
	4: optional string event,
	5: optional binary data,
	6: optional DataType dataType,
	7: optional list<string> groups,
	8: optional bool broadcast,
	9: optional string meta,
	10: optional i32 level,
	11: optional bool tracing,
	12: optional string parentID,
	13: optional string requestID,
	14: optional bool stream,
	15: optional i32 seq,
	16: optional string caller,
	17: optional bool needAck,
}

struct PacketRequest {
	1: optional string ver,
	2: optional string sender,
	3: optional string id,
	4: optional string action,
	5: optional binary params,
	6: optional DataType paramsType,
	7: optional string meta,
	8: optional double timeout,
	9: optional i32 level,
	10: optional bool tracing,
	11: optional string parentID,
	12: optional string requestID,
	13: optional bool stream,
	14: optional i32 seq,
	15: optional string caller,
}

struct PacketResponse {
	1: optional string ver,
	2: optional string sender,
	3: optional string id,
	4: optional bool success,
	5: optional binary data,
	6: optional DataType dataType,
	7: optional string error,
	8: optional string meta,
	9: optional bool stream,
	10: optional i32 seq,
}

struct PacketDiscover {
	1: optional string ver,
	2: optional string sender,
}

struct Client {
	1: optional string type,
	2: optional string version,
	3: optional string langVersion,
}

struct PacketInfo {
	1: optional string ver,
	2: optional string sender,
	3: optional string services,
	4: optional string config,

	5: optional list<string> ipList,
	6: optional string hostname,
	7: optional Client client,
	8: optional i32 seq,
	9: optional string instanceID,
	10: optional string metadata,
}

struct PacketDisconnect {
	1: optional string ver,
	2: optional string sender,
}

struct PacketHeartbeat {
	1: optional string ver,
	2: optional string sender,
	3: optional double cpu,
}

struct PacketPing {
	1: optional string ver,
	2: optional string sender,
	3: optional i64 time,
	4: optional string id,
}

struct PacketPong {
	1: optional string ver,
	2: optional string sender,
	3: optional i64 time,
	4: optional i64 arrived,
	5: optional string id,
}

struct PacketGossipHello {
	1: optional string ver,
	2: optional string sender,
	3: optional string host,
	4: optional i32 port,
}

struct PacketGossipRequest {
	1: optional string ver,
	2: optional string sender,
	3: optional string online,
	4: optional string offline,
}

struct PacketGossipResponse {
	1: optional string ver,
	2: optional string sender,
	3: optional string online,
	4: optional string offline,
}
