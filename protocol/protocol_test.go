package protocol

import "testing"

func TestTopicNames(t *testing.T) {
	tests := []struct {
		topic Topic
		ns    string
		want  string
	}{
		{BroadcastTopic(Discover), "", "MOL.DISCOVER"},
		{TargetedTopic(Request, "node-1"), "", "MOL.REQ.node-1"},
		{TargetedTopic(Info, "a.b"), "dev", "MOL-dev.INFO.a.b"},
		{BalancedRequestTopic("v2.greeter.hello"), "", "MOL.REQB.v2.greeter.hello"},
		{BalancedEventTopic("orders", "order.created"), "x", "MOL-x.EVENTB.orders.order.created"},
	}
	for _, tt := range tests {
		if got := tt.topic.Name(Prefix(tt.ns)); got != tt.want {
			t.Errorf("%+v.Name = %q, want %q", tt.topic, got, tt.want)
		}
	}
	if got := TargetedTopic(Request, "n1").NameSep("MOL", "/"); got != "MOL/REQ/n1" {
		t.Errorf("NameSep = %q", got)
	}
}

func TestFrameIDs(t *testing.T) {
	framed := 0
	for _, pt := range PacketTypes {
		id := pt.FrameID()
		if id == 0 {
			continue
		}
		framed++
		back, ok := PacketTypeOfFrameID(id)
		if !ok || back != pt {
			t.Errorf("frame id %d of %s maps back to %q", id, pt, back)
		}
	}
	if framed != 8 {
		t.Errorf("%d framable types, want 8", framed)
	}
	if _, ok := PacketTypeOfFrameID(9); ok {
		t.Error("frame id 9 accepted")
	}
	if len(NodeSubscriptions("n")) != 12 {
		t.Error("want 12 subscriptions")
	}
}
