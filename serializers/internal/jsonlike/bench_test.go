package jsonlike

import (
	"encoding/json"
	"os"
	"testing"
)

// benchServices returns the services of the benchmark INFO packet
// (conformance/testdata/bench-payloads.json) as encoding/json writes them.
func benchServices(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("../../../conformance/testdata/bench-payloads.json")
	if err != nil {
		tb.Fatal(err)
	}
	var doc struct {
		Payloads struct {
			INFO struct {
				Services any `json:"services"`
			} `json:"INFO"`
		} `json:"payloads"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		tb.Fatal(err)
	}
	text, err := json.Marshal(doc.Payloads.INFO.Services)
	if err != nil {
		tb.Fatal(err)
	}
	return string(text)
}

// BenchmarkSkip skips INFO's services, as a decoder does that reads action
// descriptors only when they are needed.
func BenchmarkSkip(b *testing.B) {
	text := benchServices(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		p := NewParser(text)
		if err := p.Skip(0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseServices reads INFO's services into Go values.
func BenchmarkParseServices(b *testing.B) {
	text := benchServices(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseServices(text); err != nil {
			b.Fatal(err)
		}
	}
}
