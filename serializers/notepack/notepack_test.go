package notepack

import (
	"testing"

	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/serializers/internal/serializertest"
	"github.com/molbridge/molbridge/serializers/internal/sertest"
)

func TestRegistered(t *testing.T) {
	s, err := serializers.New("notepack")
	if err != nil || s.Name() != Name {
		t.Fatalf("%v %v", s, err)
	}
}

func TestJSVectors(t *testing.T) { sertest.CheckVectors(t, Serializer{}, jsVectors) }

func TestRoundTrip(t *testing.T) { sertest.CheckRoundTrips(t, Serializer{}) }

// FuzzUnmarshal checks that no input crashes the decoder, and that what it
// accepts encodes and decodes back to the same payload.
func FuzzUnmarshal(f *testing.F) {
	sertest.Seeds(f, Serializer{}, jsVectors)
	f.Fuzz(func(t *testing.T, typ string, data []byte) { sertest.Fuzz(t, Serializer{}, typ, data) })
}

// The benchmark payloads are serializertest's, the same for every
// serializer; their params and data are raw JSON, converted on every
// Marshal.
func BenchmarkMarshal(b *testing.B) { serializertest.BenchMarshal(b, Serializer{}) }

func BenchmarkUnmarshal(b *testing.B) { serializertest.BenchUnmarshal(b, Serializer{}) }

// BenchmarkMarshalDecoded encodes the benchmark payloads as this node
// decoded them: params and data are raw bytes of this format, written
// through as they are.
func BenchmarkMarshalDecoded(b *testing.B) {
	for _, p := range serializertest.BenchPayloads() {
		data, err := Serializer{}.Marshal(p)
		if err != nil {
			b.Fatal(err)
		}
		decoded, err := Serializer{}.Unmarshal(p.Type(), data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(p.Type()), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (Serializer{}).Marshal(decoded); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
