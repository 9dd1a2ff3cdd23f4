package conformance

import (
	"encoding/json"
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

// goValues turns the JSON-text params/data of p into Go values.
func goValues(p packets.Payload) error {
	var v *packets.Value
	switch x := p.(type) {
	case *packets.Request:
		v = &x.Params
	case *packets.Response:
		v = &x.Data
	case *packets.Event:
		v = &x.Data
	default:
		return nil
	}
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
