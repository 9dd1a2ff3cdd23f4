// Package all registers every transporter molbridge has. Import it for its
// side effect when a program should accept any JS connection string:
//
//	import _ "github.com/molbridge/molbridge/transporters/all"
package all

import (
	_ "github.com/molbridge/molbridge/transporters/nats" // nats://, NATS
	_ "github.com/molbridge/molbridge/transporters/tcp"  // tcp://, TCP
)
