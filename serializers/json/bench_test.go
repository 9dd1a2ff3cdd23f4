package json

import (
	"testing"

	"github.com/molbridge/molbridge/conformance"
)

// BenchmarkUnmarshal decodes the packets of the conformance benchmarks
// (conformance.LoadBenchPayloads) as this serializer writes them: the same
// figures as go test ./conformance -bench Serializers/JSON, without the
// other serializers.
func BenchmarkUnmarshal(b *testing.B) {
	payloads, err := conformance.LoadBenchPayloads()
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range conformance.BenchTypes {
		data, err := Serializer{}.Marshal(payloads[t])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(t), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := (Serializer{}).Unmarshal(t, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
