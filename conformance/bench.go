package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/molbridge/molbridge/internal/packetjson"
	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

// BenchTypes are the packet types of BenchPayloadsFile, in benchmark order.
var BenchTypes = []protocol.PacketType{protocol.Request, protocol.Response, protocol.Event, protocol.Info}

// LoadBenchPayloads reads BenchPayloadsFile, the payloads that the Go
// serializer benchmarks and compat/serbench.js share. Params and data are Go
// values (map[string]any, as a handler's result would be), not JSON text.
// Every call returns new payloads.
func LoadBenchPayloads() (map[protocol.PacketType]packets.Payload, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	file := filepath.Join(root, BenchPayloadsFile)
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	var doc struct {
		Payloads map[protocol.PacketType]json.RawMessage `json:"payloads"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("conformance: %s: %w", file, err)
	}
	out := map[protocol.PacketType]packets.Payload{}
	for _, t := range BenchTypes {
		raw, ok := doc.Payloads[t]
		if !ok {
			return nil, fmt.Errorf("conformance: %s has no %s payload", file, t)
		}
		p, err := packetjson.Parse(t, raw, packetjson.NoBuffers)
		if err != nil {
			return nil, fmt.Errorf("conformance: %s: %w", file, err)
		}
		if err := goValues(p); err != nil {
			return nil, fmt.Errorf("conformance: %s: %s: %w", file, t, err)
		}
		out[t] = p
	}
	return out, nil
}

// goValues turns the JSON text in p into Go values, as a Go node builds
// the packets it sends: params, data, meta, and INFO's settings, metadata
// and descriptors.
func goValues(p packets.Payload) error {
	switch x := p.(type) {
	case *packets.Request:
		return errors.Join(goValue(&x.Params), goValue(&x.Meta))
	case *packets.Response:
		return errors.Join(goValue(&x.Data), goValue(&x.Meta))
	case *packets.Event:
		return errors.Join(goValue(&x.Data), goValue(&x.Meta))
	case *packets.Info:
		for i := range x.Services {
			s := &x.Services[i]
			if err := errors.Join(goValue(&s.Settings), goValue(&s.Metadata)); err != nil {
				return err
			}
			for k, a := range s.Actions {
				m, err := a.Map()
				if err != nil {
					return err
				}
				s.Actions[k] = packets.NewActionInfo(m)
			}
			for k, e := range s.Events {
				m, err := e.Map()
				if err != nil {
					return err
				}
				s.Events[k] = packets.NewEventInfo(m)
			}
		}
	}
	return nil
}

func goValue(v *packets.Value) error {
	if v.IsUndefined() || v.IsNull() {
		return nil
	}
	x, err := v.Interface()
	if err != nil {
		return err
	}
	*v = packets.ValueOf(x)
	return nil
}
