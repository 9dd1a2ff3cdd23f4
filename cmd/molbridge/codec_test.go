package main

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/molbridge/molbridge/conformance"
	"github.com/molbridge/molbridge/serializers"
)

// runWith runs the command in-process with stdin.
func runWith(args []string, stdin []byte) (code int, stdout []byte, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, stdio{stdin: bytes.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	return code, out.Bytes(), errb.String()
}

// TestDecodeEncodeCorpus runs every recorded case through the commands:
// decode must print what JS decoded, and encode(decode(bytes)) must decode
// to the same again. Serializers Go has not registered are left to the
// conformance suite (go test ./conformance), which fails for them.
func TestDecodeEncodeCorpus(t *testing.T) {
	corpus, err := conformance.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range corpus.Serializers {
		t.Run(name, func(t *testing.T) {
			if _, err := serializers.New(name); err != nil {
				t.Fatalf("%s is in the corpus but not registered in Go: %v", name, err)
			}
			cases, err := corpus.Cases(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				typ := string(c.Type)
				file := filepath.Join(corpus.Dir, name, typ, c.Name+".bin")
				// Flags after the file, and a lower-case type, are accepted.
				code, decoded, errOut := runWith([]string{"decode", file, "--serializer", name, "--type", strings.ToLower(typ)}, nil)
				if code != 0 {
					t.Errorf("%s: decode: exit %d: %s", c.ID(), code, errOut)
					continue
				}
				if d, err := conformance.DiffJSON(c.Type, c.JSON, decoded, 4); err != nil || len(d) > 0 {
					t.Errorf("%s: decode differs from JS's view: %v %s", c.ID(), err, strings.Join(d, "; "))
				}
				code, encoded, errOut := runWith([]string{"encode", "--serializer", name, "--type", typ}, decoded)
				if code != 0 {
					t.Errorf("%s: encode: exit %d: %s", c.ID(), code, errOut)
					continue
				}
				code, again, errOut := runWith([]string{"decode", "--serializer", name, "--type", typ, "-"}, encoded)
				if code != 0 {
					t.Errorf("%s: decode of encode: exit %d: %s", c.ID(), code, errOut)
					continue
				}
				if d, err := conformance.DiffJSON(c.Type, decoded, again, 4); err != nil || len(d) > 0 {
					t.Errorf("%s: decode(encode(decode(bin))) != decode(bin): %v %s", c.ID(), err, strings.Join(d, "; "))
				}
			}
		})
	}
}

func TestDecodeEncodeBadInput(t *testing.T) {
	tests := []struct {
		args  []string
		stdin string
		code  int
		msg   string
	}{
		{[]string{"decode", "--type", "REQ"}, "garbage", 1, "molbridge decode: stdin: not a valid JSON REQ payload"},
		{[]string{"decode", "--type", "REQ"}, `{"id":5}`, 1, "not a valid JSON REQ payload"},
		{[]string{"decode", "--type", "INFO"}, `{"services":{}}`, 1, "not a valid JSON INFO payload"},
		{[]string{"decode", "--type", "REQ"}, "", 1, "molbridge decode: stdin is empty"},
		{[]string{"decode", "--serializer", "Nope", "--type", "REQ"}, "{}", 1, `unknown serializer "Nope"`},
		{[]string{"decode"}, "{}", 1, "--type is required"},
		{[]string{"decode", "--type", "NOPE"}, "{}", 1, `unknown packet type "NOPE"`},
		{[]string{"decode", "--type", "REQ", "/nonexistent/packet.bin"}, "", 1, "no such file"},
		{[]string{"decode", "--type", "REQ", "a", "b"}, "", 1, "one input file at most"},
		{[]string{"decode", "--bogus"}, "", 2, "flag provided but not defined"},
		{[]string{"encode", "--type", "PING"}, "not json", 1, "molbridge encode: stdin: not a valid JSON PING payload"},
		{[]string{"encode", "--type", "PING"}, "[1]", 1, "must be a JSON object"},
		{[]string{"encode", "--type", "PING"}, `{"time":"soon"}`, 1, "Ping.time"},
		{[]string{"encode", "--type", "PING"}, `{"time":1} {}`, 1, "trailing data"},
		{[]string{"encode", "--type", "PING"}, `{"time":`, 1, "not a valid JSON PING payload"},
	}
	for _, tt := range tests {
		code, out, errOut := runWith(tt.args, []byte(tt.stdin))
		if code != tt.code || !strings.Contains(errOut, tt.msg) || len(out) > 0 {
			t.Errorf("%v <<%q: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, tt.stdin, code, out, errOut, tt.code, tt.msg)
		}
	}
	for _, args := range [][]string{{"decode", "-h"}, {"help", "encode"}} {
		if code, _, errOut := runWith(args, nil); code != 0 || !strings.Contains(errOut, "--serializer S --type T [FILE]") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestDecodeGarbage feeds every registered serializer truncated and mangled
// corpus packets and random bytes: the command must answer with exit code
// 0 or 1 and a message, and no serializer may panic.
func TestDecodeGarbage(t *testing.T) {
	corpus, err := conformance.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range serializers.Names() {
		cases, err := corpus.Cases(name)
		if err != nil {
			continue // no corpus; TestSerializers reports it
		}
		for i, c := range cases {
			if i%3 != 0 { // a third of the cases is plenty
				continue
			}
			inputs := [][]byte{c.Bin[:len(c.Bin)/2], c.Bin[:1]}
			mangled := bytes.Clone(c.Bin)
			for k := 0; k < 4; k++ {
				mangled[rng.IntN(len(mangled))] ^= byte(1 + rng.IntN(255))
			}
			inputs = append(inputs, mangled)
			random := make([]byte, 1+rng.IntN(64))
			for k := range random {
				random[k] = byte(rng.Uint32())
			}
			inputs = append(inputs, random)
			for _, in := range inputs {
				code, _, errOut := runWith([]string{"decode", "--serializer", name, "--type", string(c.Type)}, in)
				if code != 0 && code != 1 || code == 1 && !strings.HasPrefix(errOut, "molbridge decode: ") {
					t.Errorf("%s, input %x: exit %d, stderr %q", c.ID(), in, code, errOut)
				}
				if strings.Contains(errOut, "internal error") {
					t.Errorf("%s: the %s serializer panicked on input %x: %s", c.ID(), name, in, errOut)
				}
			}
		}
	}
	// JSON rejects a cut packet with a clear message.
	code, _, errOut := runWith([]string{"decode", "--type", "REQ"}, []byte(`{"id":"r-1","action":"s.a","par`))
	if code != 1 || !strings.Contains(errOut, "not a valid JSON REQ payload") {
		t.Errorf("cut JSON packet: exit %d, stderr %q", code, errOut)
	}
}
