// Package all registers every serializer molbridge has. Import it for its
// side effect when a program should accept any JS serializer name:
//
//	import _ "github.com/molbridge/molbridge/serializers/all"
package all

import (
	_ "github.com/molbridge/molbridge/serializers/avro"     // Avro
	_ "github.com/molbridge/molbridge/serializers/cbor"     // CBOR
	_ "github.com/molbridge/molbridge/serializers/json"     // JSON
	_ "github.com/molbridge/molbridge/serializers/msgpack"  // MsgPack
	_ "github.com/molbridge/molbridge/serializers/notepack" // Notepack
	_ "github.com/molbridge/molbridge/serializers/protobuf" // ProtoBuf
	_ "github.com/molbridge/molbridge/serializers/thrift"   // Thrift
)
