// Package all registers every serializer molbridge has. Import it for its
// side effect when a program should accept any JS serializer name:
//
//	import _ "github.com/molbridge/molbridge/serializers/all"
package all

import (
	_ "github.com/molbridge/molbridge/serializers/json" // JSON
)
