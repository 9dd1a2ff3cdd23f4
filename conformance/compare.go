package conformance

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/molbridge/molbridge/internal/packetjson"
	"github.com/molbridge/molbridge/protocol"
)

// valueFields are the fields where undefined (absent) and null differ for
// JS: a handler returning undefined, a call without params.
var valueFields = map[protocol.PacketType]string{
	protocol.Request:  "params",
	protocol.Response: "data",
	protocol.Event:    "data",
}

// Canonical returns a copy of the JSON view of a payload of packet type t
// with the differences removed that mean nothing to a moleculer node and
// that some serializers or Go's packet model cannot keep apart:
//
//   - a top-level field that is null is the same as an absent one, except
//     params (REQ) and data (RES, EVENT), where null is not undefined;
//   - parentID and caller "" (ProtoBuf's default; Go's empty NullString),
//     timeout 0 ("no timeout"; absent in ProtoBuf/Thrift when JS had null)
//     and an empty groups list (all groups) are the same as absent;
//   - an error's retryable false is the same as absent (JS errors that are
//     not moleculer errors have none; JS reads both as not retryable);
//   - a meta that is a string holding a JSON object is that object: with
//     Avro, ProtoBuf and Thrift, moleculer encodes the meta of response
//     stream chunks twice (it copies the header payload after the serializer
//     rewrote it), so JS decodes it to the string "{}"; a Go node should
//     read the object the sender meant.
//
// Everything below the top level, params, data and meta included, is
// compared as it is.
func Canonical(t protocol.PacketType, view any) any {
	m, ok := view.(map[string]any)
	if !ok {
		return view
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v == nil && valueFields[t] != k {
			continue
		}
		switch k {
		case "parentID", "caller":
			if v == "" {
				continue
			}
		case "timeout":
			if f, ok := number(v); ok && f == 0 {
				continue
			}
		case "groups":
			if l, ok := v.([]any); ok && len(l) == 0 {
				continue
			}
		case "meta":
			if str, ok := v.(string); ok {
				if m, err := packetjson.UnmarshalView([]byte(str)); err == nil {
					if obj, ok := m.(map[string]any); ok {
						v = obj
					}
				}
			}
		case "error":
			if e, ok := v.(map[string]any); ok && t == protocol.Response {
				if r, ok := e["retryable"]; ok && r == false {
					c := make(map[string]any, len(e))
					for ek, ev := range e {
						if ek != "retryable" {
							c[ek] = ev
						}
					}
					v = c
				}
			}
		}
		out[k] = v
	}
	return out
}

// Diff compares two payload views of packet type t after [Canonical] and
// returns the differences, at most max of them (0 for all), each as
// "<path>: want <x>, got <y>". Numbers compare as float64.
func Diff(t protocol.PacketType, want, got any, max int) []string {
	d := &differ{max: max}
	d.diff("$", Canonical(t, want), Canonical(t, got))
	return d.out
}

// DiffJSON is Diff on JSON texts.
func DiffJSON(t protocol.PacketType, want, got []byte, max int) ([]string, error) {
	w, err := packetjson.UnmarshalView(want)
	if err != nil {
		return nil, fmt.Errorf("want: %w", err)
	}
	g, err := packetjson.UnmarshalView(got)
	if err != nil {
		return nil, fmt.Errorf("got: %w", err)
	}
	return Diff(t, w, g, max), nil
}

type differ struct {
	max int
	out []string
}

func (d *differ) add(path string, want, got any) {
	if d.max > 0 && len(d.out) >= d.max {
		return
	}
	d.out = append(d.out, fmt.Sprintf("%s: want %s, got %s", path, show(want), show(got)))
}

const absent = "(absent)"

func (d *differ) diff(path string, want, got any) {
	if d.max > 0 && len(d.out) >= d.max {
		return
	}
	if wf, ok := number(want); ok {
		if gf, ok := number(got); !ok || wf != gf {
			d.add(path, want, got)
		}
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			d.add(path, want, got)
			return
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := path + "." + k
			if !isIdent(k) {
				p = path + "[" + strconv.Quote(k) + "]"
			}
			wv, wok := w[k]
			gv, gok := g[k]
			switch {
			case !wok:
				d.add(p, absent, gv)
			case !gok:
				d.add(p, wv, absent)
			default:
				d.diff(p, wv, gv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			d.add(path, want, got)
			return
		}
		for i := range w {
			d.diff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
		}
	default:
		if want != got {
			d.add(path, want, got)
		}
	}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func isIdent(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func show(v any) string {
	if s, ok := v.(string); ok && s == absent {
		return s
	}
	b, err := packetjson.MarshalView(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	const limit = 200
	if r := []rune(string(b)); len(r) > limit {
		return string(r[:limit]) + "…"
	}
	return string(b)
}
