package serializertest

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/molbridge/molbridge/serializers"
)

// jsCheckScript decodes Go's bytes with moleculer's own serializer. For
// each case it also makes moleculer serialize the payload Go encoded (given
// as the JSON serializer's view of it, with a top-level Buffer revived and
// the empty meta, config, metadata, services and ipList that Go sends in
// place of nil ones), decodes JS's bytes too, and reports both decoded
// objects as JS code sees them: own properties only, Buffers and 64-bit
// integer objects made printable.
const jsCheckScript = `
const fs = require("fs");
const M = require("moleculer");
const input = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const s = new M.Serializers[input.serializer]();
s.init({ fatal(msg, err) { throw err || new Error(msg); } });
function plain(v) {
	if (v === undefined) return "$undefined";
	if (v === null) return null;
	if (v instanceof Uint8Array) return { $buffer: Buffer.from(v).toString("hex") };
	if (typeof v === "object" && typeof v.toNumber === "function") return { $int64: v.toString() };
	if (Array.isArray(v)) return v.map(plain);
	if (typeof v === "object") {
		const o = {};
		for (const k of Object.keys(v).sort()) o[k] = plain(v[k]);
		return o;
	}
	return v;
}
const buf = x => x && typeof x === "object" && x.type === "Buffer" && Array.isArray(x.data) ? Buffer.from(x.data) : x;
function revive(p, type) {
	if (type === "REQ" && "params" in p) p.params = buf(p.params);
	if ((type === "RES" || type === "EVENT") && "data" in p) p.data = buf(p.data);
	if ((type === "REQ" || type === "RES" || type === "EVENT") && p.meta == null) p.meta = {};
	if (type === "INFO") {
		if (p.services == null) p.services = [];
		if (p.config == null) p.config = {};
		if (p.metadata == null) p.metadata = {};
		if (p.ipList == null) p.ipList = [];
	}
	return p;
}
const msg = e => String((e && e.message) || e);
const out = input.cases.map(c => {
	const r = { name: c.name };
	try {
		const b = s.serialize(revive(JSON.parse(c.json), c.type), c.type);
		r.jsHex = Buffer.from(b).toString("hex");
		r.jsView = JSON.stringify(plain(s.deserialize(Buffer.from(b), c.type)));
	} catch (e) { r.jsError = msg(e); }
	try { r.goView = JSON.stringify(plain(s.deserialize(Buffer.from(c.goHex, "hex"), c.type))); }
	catch (e) { r.goError = msg(e); }
	return r;
});
process.stdout.write(JSON.stringify(out));
`

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}

// CheckWithJS encodes every case with s and has moleculer's serializer of
// the same name decode the bytes in Node.js (compat/node_modules). What JS
// decodes from Go's bytes must be what it decodes from its own bytes for
// the same payload, property for property, null and absent alike; and the
// bytes must be the same, except where Go and JS write the same JSON text
// differently (Go escapes U+2028). A payload JS refuses to encode must be
// refused by JS's decoder too. The test fails when node or moleculer
// is missing: scripts/deps.sh installs them, so that is a set-up bug.
func CheckWithJS(t *testing.T, s serializers.Serializer) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	compat := filepath.Join(root, "compat")
	if _, err := os.Stat(filepath.Join(compat, "node_modules", "moleculer", "package.json")); err != nil {
		t.Fatal("moleculer is not installed in compat/node_modules (run scripts/deps.sh)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed (run scripts/deps.sh)")
	}
	type jsCase struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		JSON  string `json:"json"`
		GoHex string `json:"goHex"`
	}
	in := struct {
		Serializer string   `json:"serializer"`
		Cases      []jsCase `json:"cases"`
	}{Serializer: s.Name()}
	for _, c := range Cases() {
		b, err := s.Marshal(c.Payload)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		in.Cases = append(in.Cases, jsCase{Name: c.Name, Type: string(c.Payload.Type()), JSON: mustView(t, c.Payload), GoHex: hex.EncodeToString(b)})
	}
	file := filepath.Join(t.TempDir(), "cases.json")
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "-e", jsCheckScript, file)
	cmd.Dir = compat
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var results []struct {
		Name    string `json:"name"`
		JSHex   string `json:"jsHex"`
		JSView  string `json:"jsView"`
		JSError string `json:"jsError"`
		GoView  string `json:"goView"`
		GoError string `json:"goError"`
	}
	if err := json.Unmarshal(stdout, &results); err != nil {
		t.Fatalf("node output: %v\n%s", err, stdout)
	}
	for i, r := range results {
		c := in.Cases[i]
		switch {
		case r.JSError != "":
			if r.GoError == "" {
				t.Errorf("%s: JS cannot encode the payload (%s) but decodes Go's bytes: %s", r.Name, r.JSError, r.GoView)
			} else {
				t.Logf("%s: JS refuses the payload (%s) and Go's bytes (%s)", r.Name, r.JSError, r.GoError)
			}
		case r.GoError != "":
			t.Errorf("%s: JS cannot decode Go's bytes: %s\n%s", r.Name, r.GoError, c.GoHex)
		case r.GoView != r.JSView:
			t.Errorf("%s: JS decodes Go's bytes differently from its own\n  go %s\n  js %s\ngo %s\njs %s", r.Name, r.GoView, r.JSView, c.GoHex, r.JSHex)
		case r.JSHex != c.GoHex && !strings.Contains(c.JSON, `\u2028`):
			t.Errorf("%s: Go's bytes differ from JS's\ngo %s\njs %s", r.Name, c.GoHex, r.JSHex)
		}
	}
	if len(results) != len(in.Cases) {
		t.Errorf("node answered %d cases of %d", len(results), len(in.Cases))
	}
}
