package tcp

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestParseURLs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	two := []Endpoint{{"n1", "127.0.0.1", 6001}, {"n2", "h2", 6002}}
	cases := []struct {
		name string
		in   any
		want []Endpoint
		bad  []string
	}{
		{"comma string", "tcp://127.0.0.1:6001/n1, h2:6002/n2", two, nil},
		{"array", []any{"127.0.0.1:6001/n1", "tcp://h2:6002/n2"}, two, nil},
		{"string slice", []string{"127.0.0.1:6001/n1", "h2:6002/n2"}, two, nil},
		{"object", map[string]any{"n1": "127.0.0.1:6001", "n2": "h2:6002"}, two, nil},
		{"ipv6", "[::1]:6001/n1,::1:6002/n2", []Endpoint{{"n1", "[::1]", 6001}, {"n2", "::1", 6002}}, nil},
		{"malformed", "h1:6001,h2/n2,h3:x/n3,a/b/c,h4:6004/n4", []Endpoint{{"n4", "h4", 6004}},
			[]string{"h1:6001", "h2/n2", "h3:x/n3", "a/b/c"}},
		{"nil", nil, nil, nil},
		{"empty entries", "h1:1/a,,", []Endpoint{{"a", "h1", 1}}, nil},
		{"file json array", write("a.json", ` ["127.0.0.1:6001/n1","h2:6002/n2"] `), two, nil},
		{"file json object", write("o.json", `{"n1":"127.0.0.1:6001","n2":"h2:6002"}`), two, nil},
		{"file lines", write("l.txt", "127.0.0.1:6001/n1\n  h2:6002/n2 \n"), two, nil},
		{"empty file", write("e.txt", "  \n"), nil, nil},
	}
	for _, c := range cases {
		got, bad, err := ParseURLs(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(bad, c.bad) {
			t.Errorf("%s: got %v bad %q, want %v bad %q", c.name, got, bad, c.want, c.bad)
		}
	}
	if _, _, err := ParseURLs("file://" + filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
	if _, _, err := ParseURLs(write("bad.json", "[1,")); err == nil {
		t.Error("invalid JSON file: no error")
	}
}

func TestOptionsFromJS(t *testing.T) {
	o, err := OptionsFromJS("tcp://127.0.0.1:6001/n1", map[string]any{
		"udpDiscovery": false, "port": float64(7000), "gossipPeriod": 1.5, "udpBroadcast": "127.255.255.255",
		"udpMulticast": nil, "maxPacketSize": float64(2048), "useHostname": false, "udpPeriod": float64(5),
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.UDPDiscovery || o.Port != 7000 || o.GossipPeriod != 1500*time.Millisecond || !o.UDPBroadcast ||
		!reflect.DeepEqual(o.UDPBroadcastAddresses, []string{"127.255.255.255"}) || o.UDPMulticast != "" ||
		o.MaxPacketSize != 2048 || o.UseHostname || o.UDPPeriod != 5*time.Second || o.URLs != "tcp://127.0.0.1:6001/n1" {
		t.Errorf("options: %+v", o)
	}
	d, _ := OptionsFromJS("", nil)
	if !d.UDPDiscovery || d.UDPPort != 4445 || d.UDPMulticast != "239.0.0.0" || d.GossipPeriod != 2*time.Second ||
		d.MaxConnections != 32 || d.MaxPacketSize != 1<<20 || !d.UseHostname || d.URLs != nil || d.UDPBroadcast {
		t.Errorf("defaults: %+v", d)
	}
	o, _ = OptionsFromJS("tcp://a:1/x", map[string]any{"urls": []any{"b:2/y"}, "udpBroadcast": true})
	if !reflect.DeepEqual(o.URLs, []any{"b:2/y"}) || !o.UDPBroadcast || o.UDPBroadcastAddresses != nil {
		t.Errorf("urls option overrides the string, udpBroadcast true: %+v", o)
	}
	if _, err := OptionsFromJS("", map[string]any{"port": "x"}); err == nil {
		t.Error("port \"x\": no error")
	}
}
