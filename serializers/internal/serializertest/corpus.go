package serializertest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/molbridge/molbridge/protocol"
)

// EachCorpusPacket calls fn with every packet of serializer's recorded
// corpus (conformance/testdata/v4/<serializer>, real moleculer 0.14.36
// output): its type, its bytes and its file name. It fails the test when
// the corpus is missing.
func EachCorpusPacket(t *testing.T, serializer string, fn func(typ protocol.PacketType, data []byte, file string)) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "conformance", "testdata", "v4", serializer, "*", "*.bin"))
	if err != nil || len(files) < 50 {
		t.Fatalf("%s corpus not found (%d files): %v", serializer, len(files), err)
	}
	for _, f := range files {
		typ, ok := protocol.ParsePacketType(filepath.Base(filepath.Dir(f)))
		if !ok {
			t.Fatalf("%s: unknown type directory", f)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fn(typ, data, f)
	}
}
