package serializertest

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
)

// RoundTrip encodes and decodes every case: the decoded payload must have
// the JSON of the original (or the case's Want), and encoding it again must
// give the same bytes.
func RoundTrip(t *testing.T, s serializers.Serializer) {
	t.Helper()
	seen := map[protocol.PacketType]bool{}
	for _, c := range Cases() {
		seen[c.Payload.Type()] = true
		b, err := s.Marshal(c.Payload)
		if err != nil {
			t.Errorf("%s: encode: %v", c.Name, err)
			continue
		}
		back, err := s.Unmarshal(c.Payload.Type(), b)
		if err != nil {
			t.Errorf("%s: decode: %v\n% x", c.Name, err, b)
			continue
		}
		want := c.Want
		if want == "" {
			want = mustView(t, c.Payload)
		}
		if got := mustView(t, back); !SameJSON(got, want) {
			t.Errorf("%s: round trip changed the payload\n got %s\nwant %s", c.Name, got, want)
		}
		again, err := s.Marshal(back)
		if err != nil {
			t.Errorf("%s: encode decoded payload: %v", c.Name, err)
			continue
		}
		if !bytes.Equal(again, b) {
			t.Errorf("%s: encoding the decoded payload gave other bytes\n% x\n% x", c.Name, b, again)
		}
	}
	for _, pt := range protocol.PacketTypes {
		if !seen[pt] {
			t.Errorf("no case of packet type %s", pt)
		}
	}
}

// Golden decodes the bytes moleculer's serializer made of each vector
// (jsBytes, hex by vector name): the payload must be the one JS encoded,
// and encoding it again must give JS's bytes exactly (but for the meta of
// a MetaTwice vector).
func Golden(t *testing.T, s serializers.Serializer, jsBytes map[string]string) {
	t.Helper()
	for _, v := range Vectors() {
		h, ok := jsBytes[v.Name]
		if !ok {
			t.Errorf("%s: no bytes", v.Name)
			continue
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		p, err := s.Unmarshal(v.Type, b)
		if err != nil {
			t.Errorf("%s: decode: %v", v.Name, err)
			continue
		}
		if got := mustView(t, p); !SameJSON(got, v.JSON) {
			t.Errorf("%s: decoded\n got %s\nwant %s", v.Name, got, v.JSON)
		}
		out, err := s.Marshal(p)
		if err != nil {
			t.Errorf("%s: encode: %v", v.Name, err)
			continue
		}
		if !bytes.Equal(out, b) && !v.MetaTwice {
			t.Errorf("%s: re-encoded bytes differ from JS's\n got %x\nwant %x", v.Name, out, b)
		}
	}
	if len(jsBytes) != len(Vectors()) {
		t.Errorf("%d byte vectors for %d payloads", len(jsBytes), len(Vectors()))
	}
}

// Malformed checks that damaged input is refused, not crashed on: every
// truncation of every encoded case (that the serializer has to notice), and
// a packet type that does not exist.
func Malformed(t *testing.T, s serializers.Serializer, truncationFails bool) {
	t.Helper()
	for _, c := range Cases() {
		b, err := s.Marshal(c.Payload)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			_, err := s.Unmarshal(c.Payload.Type(), b[:n])
			if truncationFails && err == nil {
				t.Errorf("%s: truncated to %d of %d bytes, decoded without error", c.Name, n, len(b))
			}
		}
	}
	if _, err := s.Unmarshal("NOPE", nil); err == nil {
		t.Error("unknown packet type decoded")
	}
	if _, err := s.Marshal(nil); err == nil {
		t.Error("nil payload encoded")
	}
}

// Fuzz is the body of a FuzzUnmarshal target: no input may crash a
// decoder, and what it accepts must encode, and decode again to the same
// payload and the same bytes. The corpus starts with the encoded cases and
// JS's bytes.
func Fuzz(f *testing.F, s serializers.Serializer, jsBytes map[string]string) {
	for _, c := range Cases() {
		if b, err := s.Marshal(c.Payload); err == nil {
			f.Add(string(c.Payload.Type()), b)
		}
	}
	for _, v := range Vectors() {
		if b, err := hex.DecodeString(jsBytes[v.Name]); err == nil {
			f.Add(string(v.Type), b)
		}
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		pt, ok := protocol.ParsePacketType(typ)
		if !ok {
			return
		}
		p, err := s.Unmarshal(pt, data)
		if err != nil {
			return
		}
		out, err := s.Marshal(p)
		if err != nil {
			t.Fatalf("encoding a decoded payload failed: %v", err)
		}
		back, err := s.Unmarshal(pt, out)
		if err != nil {
			t.Fatalf("re-decoding our own output failed: %v\n%x", err, out)
		}
		// NaN and infinities (the doubles cpu and timeout) have no JSON;
		// the bytes comparison below covers them.
		if a, err := View(p); err == nil {
			if b := mustView(t, back); a != b {
				t.Fatalf("round trip changed the payload:\n%s\n%s", a, b)
			}
		}
		again, err := s.Marshal(back)
		if err != nil {
			t.Fatalf("encoding the re-decoded payload failed: %v", err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("encoding is not stable:\n%x\n%x", out, again)
		}
	})
}

// BenchMarshal benchmarks encoding the BenchPayloads, one sub-benchmark per
// packet type.
func BenchMarshal(b *testing.B, s serializers.Serializer) {
	for _, p := range BenchPayloads() {
		b.Run(string(p.Type()), func(b *testing.B) {
			out, err := s.Marshal(p)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Marshal(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchUnmarshal benchmarks decoding the BenchPayloads, one sub-benchmark
// per packet type.
func BenchUnmarshal(b *testing.B, s serializers.Serializer) {
	for _, p := range BenchPayloads() {
		b.Run(string(p.Type()), func(b *testing.B) {
			data, err := s.Marshal(p)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Unmarshal(p.Type(), data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustView(t testing.TB, p packets.Payload) string {
	t.Helper()
	v, err := View(p)
	if err != nil {
		t.Fatalf("%T: %v", p, err)
	}
	return v
}
