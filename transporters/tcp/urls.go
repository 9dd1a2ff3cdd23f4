package tcp

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Endpoint is one entry of the urls option: a node and where it listens.
type Endpoint struct {
	NodeID string
	Host   string
	Port   int
}

// ParseURLs reads the urls option as JS does: a comma-separated string of
// "host:port/nodeID" entries (an optional "tcp://" prefix on each), an
// array of such strings, an object {nodeID: "host:port"}, or
// "file://<path>" naming a file that holds a JSON array or object or one
// entry per line. IPv6 hosts are allowed: the last ":" splits off the port.
// Malformed entries are reported in bad and skipped, as JS logs and skips
// them; err is only for an unreadable or invalid file.
func ParseURLs(v any) (eps []Endpoint, bad []string, err error) {
	if s, ok := v.(string); ok && strings.HasPrefix(s, "file://") {
		name := strings.Replace(s, "file://", "", 1)
		content, err := os.ReadFile(name)
		if err != nil {
			return nil, nil, fmt.Errorf("tcp: urls: %w", err)
		}
		text := strings.TrimSpace(string(content))
		switch {
		case text == "":
			v = nil
		case strings.HasPrefix(text, "{") || strings.HasPrefix(text, "["):
			var x any
			if err := json.Unmarshal([]byte(text), &x); err != nil {
				return nil, nil, fmt.Errorf("tcp: urls file %s: %w", name, err)
			}
			v = x
		default:
			lines := strings.Split(text, "\n")
			for i := range lines {
				lines[i] = strings.TrimSpace(lines[i])
			}
			v = lines
		}
	}
	var list []string
	switch x := v.(type) {
	case nil:
	case string:
		for _, s := range strings.Split(x, ",") {
			list = append(list, strings.TrimSpace(s))
		}
	case []string:
		list = x
	case []any:
		for _, e := range x {
			switch s := e.(type) {
			case string:
				list = append(list, s)
			case nil:
			default:
				bad = append(bad, fmt.Sprint(e))
			}
		}
	case map[string]any:
		ids := make([]string, 0, len(x))
		for id := range x {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			list = append(list, fmt.Sprint(x[id])+"/"+id)
		}
	case map[string]string:
		ids := make([]string, 0, len(x))
		for id := range x {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			list = append(list, x[id]+"/"+id)
		}
	default:
		return nil, nil, fmt.Errorf("tcp: urls: unsupported value of type %T", v)
	}
	for _, s := range list {
		if s == "" {
			continue
		}
		ep, ok := parseEndpoint(s)
		if !ok {
			bad = append(bad, s)
			continue
		}
		eps = append(eps, ep)
	}
	return eps, bad, nil
}

func parseEndpoint(s string) (Endpoint, bool) {
	s = strings.TrimPrefix(s, "tcp://")
	parts := strings.Split(s, "/")
	if len(parts) != 2 {
		return Endpoint{}, false
	}
	i := strings.LastIndex(parts[0], ":")
	if i < 0 {
		return Endpoint{}, false
	}
	port, err := strconv.ParseFloat(strings.TrimSpace(parts[0][i+1:]), 64)
	if err != nil || port != math.Trunc(port) || port < 0 || port > 65535 {
		// JS keeps NaN and fails only when it connects; a port that can
		// never be dialed is dropped here instead.
		return Endpoint{}, false
	}
	return Endpoint{NodeID: parts[1], Host: parts[0][:i], Port: int(port)}, true
}
