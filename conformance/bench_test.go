package conformance

import (
	"testing"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
)

// BenchmarkSerializers measures every registered serializer on the payloads
// of testdata/bench-payloads.json, the ones compat/serbench.js measures for
// the JS serializers: go test ./conformance -run '^$' -bench Serializers
func BenchmarkSerializers(b *testing.B) {
	payloads, err := LoadBenchPayloads()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range serializers.Names() {
		s, err := serializers.New(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range BenchTypes {
			p := payloads[t]
			data, err := s.Marshal(p)
			if err != nil {
				b.Fatalf("%s %s: %v", name, t, err)
			}
			b.Run(name+"/"+string(t)+"/encode", func(b *testing.B) {
				b.ReportAllocs()
				b.ReportMetric(float64(len(data)), "bytes")
				for b.Loop() {
					if _, err := s.Marshal(p); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/"+string(t)+"/decode", func(b *testing.B) {
				b.ReportAllocs()
				b.ReportMetric(float64(len(data)), "bytes")
				for b.Loop() {
					if _, err := s.Unmarshal(t, data); err != nil {
						b.Fatal(err)
					}
				}
			})
			// Go's decode keeps params and data in their encoded form until
			// a handler reads them; JS's builds them. decoderead also reads
			// them into plain Go data (map[string]any, ...), which is what
			// JS's decode gives. (INFO has nothing left encoded.)
			if t == protocol.Info {
				continue
			}
			b.Run(name+"/"+string(t)+"/decoderead", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					p, err := s.Unmarshal(t, data)
					if err != nil {
						b.Fatal(err)
					}
					if err := readValues(p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// readValues reads the params or data of p into plain Go data.
func readValues(p packets.Payload) error {
	var v packets.Value
	switch x := p.(type) {
	case *packets.Request:
		v = x.Params
	case *packets.Response:
		v = x.Data
	case *packets.Event:
		v = x.Data
	default:
		return nil
	}
	_, err := v.Interface()
	return err
}

// TestBenchPayloads checks that the benchmark payloads are the ones the
// issue fixes and that every registered serializer encodes them.
func TestBenchPayloads(t *testing.T) {
	payloads, err := LoadBenchPayloads()
	if err != nil {
		t.Fatal(err)
	}
	_, codec, _ := setup(t)
	for _, name := range serializers.Names() {
		s, _ := serializers.New(name)
		for _, typ := range BenchTypes {
			data, err := s.Marshal(payloads[typ])
			if err != nil {
				t.Errorf("%s %s: %v", name, typ, err)
				continue
			}
			resp, err := codec.Do([]JSRequest{{Op: "decode", Serializer: name, Type: string(typ), Data: data}})
			if err != nil {
				t.Fatal(err)
			}
			if resp[0].Error != "" {
				t.Errorf("%s %s: JS cannot decode Go's bytes: %s", name, typ, resp[0].Error)
			}
		}
	}
}

// BenchmarkInfoMapsOnly copies the maps of the benchmark INFO, as decoded,
// without parsing anything: the cost of building its 53 Go maps alone,
// the floor under any decoder that produces a fully built INFO (see
// BENCHMARKS.md).
func BenchmarkInfoMapsOnly(b *testing.B) {
	payloads, err := LoadBenchPayloads()
	if err != nil {
		b.Fatal(err)
	}
	s, _ := serializers.New("JSON")
	data, err := s.Marshal(payloads[protocol.Info])
	if err != nil {
		b.Fatal(err)
	}
	p, err := s.Unmarshal(protocol.Info, data)
	if err != nil {
		b.Fatal(err)
	}
	info := p.(*packets.Info)
	b.ReportAllocs()
	for b.Loop() {
		out := packets.Info{Config: copyMap(info.Config), Metadata: copyMap(info.Metadata),
			Services: make([]packets.ServiceInfo, len(info.Services))}
		for i, svc := range info.Services {
			c := &out.Services[i]
			c.Settings, c.Metadata = copyMap(svc.Settings), copyMap(svc.Metadata)
			c.Actions = make(map[string]packets.ActionInfo, len(svc.Actions))
			for k, a := range svc.Actions {
				c.Actions[k] = copyMap(a)
			}
			c.Events = make(map[string]packets.EventInfo, len(svc.Events))
			for k, e := range svc.Events {
				c.Events[k] = copyMap(e)
			}
		}
		benchSink = &out
	}
}

var benchSink *packets.Info

// copyMap copies m and the maps and slices in it; other values are shared.
func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			out[k] = copyMap(x)
		case []any:
			out[k] = append([]any(nil), x...)
		default:
			out[k] = v
		}
	}
	return out
}
