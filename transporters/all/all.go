// Package all registers every transporter molbridge has. Import it for its
// side effect when a program should accept any JS connection string:
//
//	import _ "github.com/molbridge/molbridge/transporters/all"
package all

import (
	_ "github.com/molbridge/molbridge/transporters/amqp"   // amqp://, amqps://, AMQP
	_ "github.com/molbridge/molbridge/transporters/amqp10" // amqp10://, AMQP10

	_ "github.com/molbridge/molbridge/transporters/kafka" // kafka://, Kafka
	_ "github.com/molbridge/molbridge/transporters/mqtt"  // mqtt://, mqtts://, MQTT
	_ "github.com/molbridge/molbridge/transporters/nats"  // nats://, NATS
	_ "github.com/molbridge/molbridge/transporters/redis" // redis://, rediss://, Redis
	_ "github.com/molbridge/molbridge/transporters/stan"  // stan://, STAN
	_ "github.com/molbridge/molbridge/transporters/tcp"   // tcp://, TCP
)
