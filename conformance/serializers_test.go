package conformance

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/molbridge/molbridge/internal/packetjson"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	_ "github.com/molbridge/molbridge/serializers/all"
)

var writeReport = flag.Bool("report", false, "write "+ReportFile+" from this run of TestSerializers")

var shared struct {
	once   sync.Once
	root   string
	corpus *Corpus
	codec  *JSCodec
	err    error
}

// setup loads the corpus and starts one compat/codec.js for the whole test
// binary; TestMain stops it.
func setup(t *testing.T) (*Corpus, *JSCodec, string) {
	t.Helper()
	shared.once.Do(func() {
		shared.root, shared.err = ModuleRoot()
		if shared.err != nil {
			return
		}
		shared.corpus, shared.err = Load(filepath.Join(shared.root, CorpusDir))
		if shared.err != nil {
			return
		}
		shared.codec, shared.err = StartJSCodec(shared.root)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.corpus, shared.codec, shared.root
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.codec != nil {
		shared.codec.Close()
	}
	os.Exit(code)
}

// TestSerializers checks every registered serializer against every recorded
// case; see Check. A corpus serializer without a Go implementation fails.
func TestSerializers(t *testing.T) {
	corpus, codec, root := setup(t)
	all := map[string][]Result{}
	for _, name := range corpus.Serializers {
		results, err := Check(codec, corpus, name)
		if err != nil {
			t.Fatal(err)
		}
		all[name] = results
		t.Run(name, func(t *testing.T) {
			if !results[0].Registered {
				t.Fatalf("serializer %s: recorded in %s but not registered in Go (no package in serializers/all): all %d cases fail",
					name, CorpusDir, len(results))
			}
			for _, r := range results {
				t.Run(string(r.Case.Type)+"/"+r.Case.Name, func(t *testing.T) {
					for _, p := range r.Problems {
						t.Error(p)
					}
				})
			}
		})
	}
	for _, name := range serializers.Names() {
		if !slices.Contains(corpus.Serializers, name) {
			t.Errorf("serializer %s is registered in Go but the corpus has no cases for it (add it to compat/recorder.js)", name)
		}
	}
	file := filepath.Join(root, ReportFile)
	report := Report(corpus, all)
	if *writeReport {
		if err := os.WriteFile(file, report, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", file)
	} else if old, err := os.ReadFile(file); err != nil || !bytes.Equal(old, report) {
		t.Errorf("%s does not show this run's results; rewrite it: go test ./conformance -run TestSerializers -report", ReportFile)
	}
}

// TestCorpus checks the corpus itself: the case counts the issue asks for,
// and that JS (compat/codec.js) decodes every .bin to its .json, and
// re-encodes every .json (Buffers revived) to bytes it decodes to the same.
func TestCorpus(t *testing.T) {
	corpus, codec, _ := setup(t)
	for _, typ := range []protocol.PacketType{protocol.Request, protocol.Response, protocol.Event, protocol.Info} {
		if n := len(corpus.Names(typ)); n < 8 {
			t.Errorf("%s has %d cases, want at least 8", typ, n)
		}
	}
	for _, typ := range protocol.PacketTypes {
		if len(corpus.Names(typ)) == 0 {
			t.Errorf("no cases for %s", typ)
		}
	}
	for _, name := range corpus.Serializers {
		cases, err := corpus.Cases(name)
		if err != nil {
			t.Fatal(err)
		}
		var reqs []JSRequest
		for _, c := range cases {
			reqs = append(reqs,
				JSRequest{Op: "decode", Serializer: name, Type: string(c.Type), Data: c.Bin},
				JSRequest{Op: "encode", Serializer: name, Type: string(c.Type), JSON: c.JSON})
		}
		resps, err := codec.Do(reqs)
		if err != nil {
			t.Fatal(err)
		}
		var (
			again []JSRequest
			of    []*Case // the case of each request in again
		)
		for i := range cases {
			c := &cases[i]
			dec, enc := resps[2*i], resps[2*i+1]
			if dec.Error != "" {
				t.Errorf("%s: JS cannot decode the recorded bytes: %s", c.ID(), dec.Error)
			} else if d, err := DiffJSON(c.Type, c.JSON, dec.JSON, 4); err != nil || len(d) > 0 {
				t.Errorf("%s: JS decodes the recorded bytes differently: %v %s", c.ID(), err, strings.Join(d, "; "))
			}
			if enc.Error != "" {
				t.Errorf("%s: JS cannot encode the recorded JSON: %s", c.ID(), enc.Error)
				continue
			}
			again = append(again, JSRequest{Op: "decode", Serializer: name, Type: string(c.Type), Data: enc.Data})
			of = append(of, c)
		}
		resps, err = codec.Do(again)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range of {
			if resps[i].Error != "" {
				t.Errorf("%s: JS cannot decode what it encoded from the JSON: %s", c.ID(), resps[i].Error)
			} else if d, err := DiffJSON(c.Type, c.JSON, resps[i].JSON, 4); err != nil || len(d) > 0 {
				t.Errorf("%s: JSON -> JS encode -> JS decode changes the payload: %v %s", c.ID(), err, strings.Join(d, "; "))
			}
		}
	}
}

// TestDiff pins the equivalences of Canonical.
func TestDiff(t *testing.T) {
	view := func(s string) any {
		v, err := packetjson.UnmarshalView([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	same := []struct {
		typ       protocol.PacketType
		want, got string
	}{
		{protocol.Request, `{"tracing":null,"caller":null,"parentID":"","timeout":0}`, `{}`},
		{protocol.Event, `{"groups":[],"needAck":null}`, `{}`},
		{protocol.Response, `{"error":{"name":"TypeError","retryable":false}}`, `{"error":{"name":"TypeError"}}`},
		{protocol.Ping, `{"time":1700000000123}`, `{"time":1.700000000123e12}`},
		{protocol.Response, `{"data":{"a":[1,2.5,"x",null]}}`, `{"data":{"a":[1.0,2.5,"x",null]}}`},
		{protocol.Response, `{"meta":"{\"$streamObjectMode\":true}"}`, `{"meta":{"$streamObjectMode":true}}`},
	}
	for _, c := range same {
		if d := Diff(c.typ, view(c.want), view(c.got), 0); len(d) > 0 {
			t.Errorf("%s %s vs %s: %v, want no difference", c.typ, c.want, c.got, d)
		}
	}
	differ := []struct {
		typ       protocol.PacketType
		want, got string
	}{
		{protocol.Response, `{"data":null}`, `{}`},
		{protocol.Request, `{"params":null}`, `{}`},
		{protocol.Event, `{"data":null}`, `{}`},
		{protocol.Request, `{"meta":{"a":null}}`, `{"meta":{}}`},
		{protocol.Request, `{"meta":{}}`, `{}`},
		{protocol.Request, `{"meta":"x"}`, `{"meta":{}}`},
		{protocol.Request, `{"timeout":5}`, `{}`},
		{protocol.Response, `{"error":{"retryable":true}}`, `{"error":{}}`},
		{protocol.Response, `{"data":[1,2]}`, `{"data":[1,2,3]}`},
		{protocol.Response, `{"data":"1"}`, `{"data":1}`},
		{protocol.Response, `{"data":{"type":"Buffer","data":[1]}}`, `{"data":{"type":"Buffer","data":[2]}}`},
	}
	for _, c := range differ {
		if d := Diff(c.typ, view(c.want), view(c.got), 0); len(d) == 0 {
			t.Errorf("%s %s vs %s: no difference found", c.typ, c.want, c.got)
		}
	}
}
