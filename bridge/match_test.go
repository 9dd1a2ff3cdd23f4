package bridge

import "testing"

func TestMatchEvent(t *testing.T) {
	tests := []struct {
		text, pattern string
		want          bool
	}{
		{"user.created", "user.created", true},
		{"user.created", "user.updated", false},
		{"user.created", "user.*", true},
		{"user.a.b", "user.*", false},
		{"user.created", "user*", true},
		{"user.created", "user.**", true},
		{"user.a.b", "user.**", true},
		{"users", "user.**", false},
		{"anything.at.all", "**", true},
		{"simple", "*", true},
		{"with.dot", "*", false},
		{"user.created", "user.?reated", true},
		{"user.created", "*.created", true},
		{"a.b.created", "*.created", false},
		{"a.b.created", "**.created", true},
		{"$node.connected", "$node.*", true},
		{"$node.connected", "$node.connected", true},
		{"userXcreated", "user.created", false},
		{"userXcreated", "user.cr?ated", true}, // "." matches any character in the regex form
		{"conformance.x.y", "conformance.**", true},
	}
	for _, tt := range tests {
		if got := matchEvent(tt.text, tt.pattern); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.text, tt.pattern, got, tt.want)
		}
	}
}
