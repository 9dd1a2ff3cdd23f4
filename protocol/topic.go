package protocol

import "strings"

// Prefix returns the topic prefix of a namespace: "MOL" for the empty
// namespace, "MOL-<namespace>" otherwise.
func Prefix(namespace string) string {
	if namespace == "" {
		return "MOL"
	}
	return "MOL-" + namespace
}

// TopicKind tells how a topic is addressed.
type TopicKind uint8

const (
	// Broadcast topics reach every node: "<prefix>.<TYPE>".
	Broadcast TopicKind = iota
	// Targeted topics reach one node: "<prefix>.<TYPE>.<nodeID>".
	Targeted
	// BalancedRequest topics reach one of the nodes serving an action:
	// "<prefix>.REQB.<action>". Used only with disableBalancer.
	BalancedRequest
	// BalancedEvent topics reach one member of an event group:
	// "<prefix>.EVENTB.<group>.<event>". Used only with disableBalancer.
	BalancedEvent
)

// Topic is where a packet is published or what a node subscribes to. The
// transporters map it onto their broker's subjects, channels or queues.
type Topic struct {
	Kind TopicKind
	Type PacketType
	// NodeID is the target node of a Targeted topic.
	NodeID string
	// Action is the full action name of a BalancedRequest topic.
	Action string
	// Group and Event name a BalancedEvent topic; Event may be a pattern.
	Group, Event string
}

// BroadcastTopic returns the broadcast topic of a packet type.
func BroadcastTopic(t PacketType) Topic { return Topic{Kind: Broadcast, Type: t} }

// TargetedTopic returns the topic of a packet type addressed to one node.
func TargetedTopic(t PacketType, nodeID string) Topic {
	return Topic{Kind: Targeted, Type: t, NodeID: nodeID}
}

// BalancedRequestTopic returns the REQB topic of an action.
func BalancedRequestTopic(action string) Topic {
	return Topic{Kind: BalancedRequest, Type: Request, Action: action}
}

// BalancedEventTopic returns the EVENTB topic of an event group.
func BalancedEventTopic(group, event string) Topic {
	return Topic{Kind: BalancedEvent, Type: Event, Group: group, Event: event}
}

// Name returns the topic's name under prefix, joined with ".", as the NATS,
// Redis, AMQP and Kafka transporters of JS name it.
func (t Topic) Name(prefix string) string { return t.NameSep(prefix, ".") }

// NameSep is Name with another separator between the parts of the topic, as
// the MQTT transporter's topicSeparator option asks. Names inside a part
// (node IDs, action names) keep their dots.
func (t Topic) NameSep(prefix, sep string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(t.Type) + len(t.NodeID) + len(t.Action) + len(t.Group) + len(t.Event) + 8)
	b.WriteString(prefix)
	b.WriteString(sep)
	switch t.Kind {
	case BalancedRequest:
		b.WriteString("REQB")
		b.WriteString(sep)
		b.WriteString(t.Action)
	case BalancedEvent:
		b.WriteString("EVENTB")
		b.WriteString(sep)
		b.WriteString(t.Group)
		b.WriteString(sep)
		b.WriteString(t.Event)
	default:
		b.WriteString(string(t.Type))
		if t.Kind == Targeted {
			b.WriteString(sep)
			b.WriteString(t.NodeID)
		}
	}
	return b.String()
}

// QueueGroup returns the name JS's NATS and STAN transporters use as the
// queue group of a balanced topic: the action name for REQB, the group for
// EVENTB, and "" for the other topics.
func (t Topic) QueueGroup() string {
	switch t.Kind {
	case BalancedRequest:
		return t.Action
	case BalancedEvent:
		return t.Group
	}
	return ""
}

// NodeSubscriptions returns the twelve topics every node subscribes to, in
// the order JS subscribes them.
func NodeSubscriptions(nodeID string) []Topic {
	return []Topic{
		TargetedTopic(Event, nodeID),
		TargetedTopic(Request, nodeID),
		TargetedTopic(Response, nodeID),
		BroadcastTopic(Discover),
		TargetedTopic(Discover, nodeID),
		BroadcastTopic(Info),
		TargetedTopic(Info, nodeID),
		BroadcastTopic(Disconnect),
		BroadcastTopic(Heartbeat),
		BroadcastTopic(Ping),
		TargetedTopic(Ping, nodeID),
		TargetedTopic(Pong, nodeID),
	}
}
