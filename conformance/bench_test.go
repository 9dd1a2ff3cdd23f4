package conformance

import (
	"testing"

	"github.com/molbridge/molbridge/packets"
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
			// Go's decode keeps params and data, and INFO's settings,
			// metadata and descriptors, in their encoded form until they are
			// read; JS's builds them. decoderead also reads them into plain
			// Go data (map[string]any, ...), which is what JS's decode gives.
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

// readValues reads what p keeps encoded into plain Go data: params, data,
// meta, and INFO's settings, metadata and descriptors.
func readValues(p packets.Payload) error {
	var v, meta packets.Value
	switch x := p.(type) {
	case *packets.Request:
		v, meta = x.Params, x.Meta
	case *packets.Response:
		v, meta = x.Data, x.Meta
	case *packets.Event:
		v, meta = x.Data, x.Meta
	case *packets.Info:
		for _, s := range x.Services {
			if _, err := s.Settings.Interface(); err != nil {
				return err
			}
			if _, err := s.Metadata.Interface(); err != nil {
				return err
			}
			for _, a := range s.Actions {
				if _, err := a.Map(); err != nil {
					return err
				}
			}
			for _, e := range s.Events {
				if _, err := e.Map(); err != nil {
					return err
				}
			}
		}
		return nil
	default:
		return nil
	}
	if _, err := meta.Map(); err != nil {
		return err
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
