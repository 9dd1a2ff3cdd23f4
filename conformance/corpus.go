// Package conformance checks molbridge's serializers against packets that
// real Node.js moleculer 0.14.36 serializers produced.
//
// The corpus in testdata/v4 is recorded by compat/recorder.js; regenerate it
// from the repository root with
//
//	node compat/recorder.js conformance/testdata/v4
//
// For every serializer and packet type it holds cases <case>.bin (the bytes
// JS wrote) and <case>.json (what JS decodes them to, as JSON), listed in
// testdata/v4/cases.json. The suite (go test ./conformance) decodes JS's
// bytes in Go and compares with JS's view, and has JS (compat/codec.js, one
// process for the whole run) decode what Go encodes. go test ./conformance
// -report rewrites SERIALIZERS.md from the run.
//
// Comparisons are semantic, see [Diff]: numbers compare as float64 and a few
// differences that carry no meaning for moleculer are ignored.
package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/molbridge/molbridge/protocol"
)

// CorpusDir is the corpus of protocol 4, relative to the module root.
const CorpusDir = "conformance/testdata/v4"

// BenchPayloadsFile holds the payloads that the Go serializer benchmarks and
// compat/serbench.js share, relative to the module root.
const BenchPayloadsFile = "conformance/testdata/bench-payloads.json"

// Corpus is a recorded corpus.
type Corpus struct {
	// Dir is the corpus directory.
	Dir string
	// Moleculer is the moleculer version the corpus was recorded with.
	Moleculer string `json:"moleculer"`
	// Libraries maps the JS serializer libraries to their versions.
	Libraries map[string]string `json:"libraries"`
	// Serializers are the serializer names, as JS spells them.
	Serializers []string `json:"serializers"`
	// About describes each case: packet type -> case name -> description.
	About map[protocol.PacketType]map[string]string `json:"cases"`
}

// Case is one recorded packet of one serializer.
type Case struct {
	Serializer string
	Type       protocol.PacketType
	Name       string
	About      string
	// Bin is the packet as JS serialized it.
	Bin []byte
	// JSON is the payload JS deserialized from Bin, as JSON.
	JSON []byte
}

// ID is "<serializer>/<TYPE>/<name>".
func (c *Case) ID() string { return c.Serializer + "/" + string(c.Type) + "/" + c.Name }

// ModuleRoot returns the directory of molbridge's go.mod, found from the
// working directory upwards, then from this source file's directory.
func ModuleRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				if _, err := os.Stat(filepath.Join(d, CorpusDir, "cases.json")); err == nil {
					return d, nil
				}
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", errors.New("conformance: no module root with " + CorpusDir + " above the working directory")
}

// LoadDefault loads the corpus of the module the tests run in.
func LoadDefault() (*Corpus, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	return Load(filepath.Join(root, CorpusDir))
}

// Load reads the index of the corpus in dir and checks that every listed
// case has its files, and that no serializer directory is unlisted.
func Load(dir string) (*Corpus, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	c := &Corpus{Dir: dir}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("conformance: %s: %w", filepath.Join(dir, "cases.json"), err)
	}
	if len(c.Serializers) == 0 || len(c.About) == 0 {
		return nil, fmt.Errorf("conformance: %s lists no serializers or no cases", filepath.Join(dir, "cases.json"))
	}
	for t := range c.About {
		if _, ok := protocol.ParsePacketType(string(t)); !ok {
			return nil, fmt.Errorf("conformance: unknown packet type %q in cases.json", t)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() && !slices.Contains(c.Serializers, e.Name()) {
			return nil, fmt.Errorf("conformance: directory %s is not a serializer listed in cases.json", filepath.Join(dir, e.Name()))
		}
	}
	for _, s := range c.Serializers {
		for _, t := range c.Types() {
			for _, name := range c.Names(t) {
				for _, ext := range []string{".bin", ".json"} {
					if _, err := os.Stat(filepath.Join(dir, s, string(t), name+ext)); err != nil {
						return nil, fmt.Errorf("conformance: case %s/%s/%s: %w", s, t, name, err)
					}
				}
			}
		}
	}
	return c, nil
}

// Types lists the packet types with cases, in protocol.PacketTypes order.
func (c *Corpus) Types() []protocol.PacketType {
	var out []protocol.PacketType
	for _, t := range protocol.PacketTypes {
		if len(c.About[t]) > 0 {
			out = append(out, t)
		}
	}
	return out
}

// Names lists the case names of packet type t, sorted. Every serializer has
// the same cases.
func (c *Corpus) Names(t protocol.PacketType) []string {
	var out []string
	for n := range c.About[t] {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Count is the number of cases of one serializer.
func (c *Corpus) Count() int {
	n := 0
	for _, m := range c.About {
		n += len(m)
	}
	return n
}

// Cases reads every case of serializer, by packet type then name.
func (c *Corpus) Cases(serializer string) ([]Case, error) {
	if !slices.Contains(c.Serializers, serializer) {
		return nil, fmt.Errorf("conformance: serializer %q is not in the corpus", serializer)
	}
	var out []Case
	for _, t := range c.Types() {
		for _, name := range c.Names(t) {
			base := filepath.Join(c.Dir, serializer, string(t), name)
			bin, err := os.ReadFile(base + ".bin")
			if err != nil {
				return nil, fmt.Errorf("conformance: %w", err)
			}
			js, err := os.ReadFile(base + ".json")
			if err != nil {
				return nil, fmt.Errorf("conformance: %w", err)
			}
			out = append(out, Case{Serializer: serializer, Type: t, Name: name, About: c.About[t][name], Bin: bin, JSON: js})
		}
	}
	return out, nil
}
