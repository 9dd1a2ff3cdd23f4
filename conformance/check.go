package conformance

import (
	"fmt"

	"github.com/molbridge/molbridge/internal/packetjson"
	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
)

// Result is the outcome of every check of one case.
type Result struct {
	Case Case
	// Registered is false when Go has no serializer of the case's name.
	Registered bool
	// Problems is empty when the case passes.
	Problems []string
}

// Passed reports whether the case passed every check.
func (r *Result) Passed() bool { return r.Registered && len(r.Problems) == 0 }

func (r *Result) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// maxDiffs bounds the differences reported per comparison.
const maxDiffs = 8

// Check runs the checks of every case of serializer:
//
//  1. Go decodes the bytes JS wrote; the payload's JSON view must equal JS's
//     own decoding (the case's .json), see [Diff].
//  2. Go encodes the payload it decoded, and JS (codec) decodes the bytes;
//     JS must see the case's .json again.
//  3. For cases without Buffers (the JSON view cannot tell a Buffer from an
//     object of its shape): the case's .json, in its canonical form (see
//     [Canonical]), is read with Go's JSON serializer, encoded with
//     serializer, and decoded by JS, likewise.
//
// A serializer of the corpus that Go has not registered fails every case.
// The error is about the corpus or the JS process, not about the checks.
func Check(codec *JSCodec, corpus *Corpus, serializer string) ([]Result, error) {
	cases, err := corpus.Cases(serializer)
	if err != nil {
		return nil, err
	}
	results := make([]Result, len(cases))
	for i := range cases {
		results[i].Case = cases[i]
	}
	s, err := serializers.New(serializer)
	if err != nil {
		for i := range results {
			results[i].problem("serializer %s is in the corpus but not registered in Go (add its package to serializers/all): %v", serializer, err)
		}
		return results, nil
	}
	for i := range results {
		results[i].Registered = true
	}
	jsonSer, err := serializers.New("JSON")
	if err != nil {
		return nil, err
	}

	type job struct {
		i    int // index in results
		what string
	}
	var (
		jobs  []job
		reqs  []JSRequest
		wants = make([]any, len(results))
	)
	for i := range results {
		r := &results[i]
		c := &r.Case
		want, err := packetjson.UnmarshalView(c.JSON)
		if err != nil {
			return nil, fmt.Errorf("conformance: %s.json: %w", c.ID(), err)
		}
		wants[i] = want

		p, err := unmarshal(s, c.Type, c.Bin)
		if err != nil {
			r.problem("Go decode: %v", err)
		} else if got, err := packetjson.View(p); err != nil {
			r.problem("Go decode: JSON view of the payload: %v", err)
		} else {
			for _, d := range Diff(c.Type, want, got, maxDiffs) {
				r.problem("Go decode differs from JS's: %s", d)
			}
			if b, err := marshal(s, p); err != nil {
				r.problem("Go encode of the Go-decoded payload: %v", err)
			} else {
				jobs = append(jobs, job{i, "Go encode of the Go-decoded payload"})
				reqs = append(reqs, JSRequest{Op: "decode", Serializer: serializer, Type: string(c.Type), Data: b})
			}
		}

		if hasBuffer(want) {
			continue
		}
		// The canonical form: JSON's Go model has no string meta (see Canonical).
		text, err := packetjson.MarshalView(Canonical(c.Type, want))
		if err != nil {
			return nil, fmt.Errorf("conformance: %s.json: %w", c.ID(), err)
		}
		p2, err := unmarshal(jsonSer, c.Type, text)
		if err != nil {
			r.problem("reading the case's JSON with the JSON serializer: %v", err)
			continue
		}
		if b, err := marshal(s, p2); err != nil {
			r.problem("Go encode of the case's JSON: %v", err)
		} else {
			jobs = append(jobs, job{i, "Go encode of the case's JSON"})
			reqs = append(reqs, JSRequest{Op: "decode", Serializer: serializer, Type: string(c.Type), Data: b})
		}
	}

	resps, err := codec.Do(reqs)
	if err != nil {
		return nil, err
	}
	for k, resp := range resps {
		j := jobs[k]
		r := &results[j.i]
		if resp.Error != "" {
			r.problem("%s: JS cannot decode it: %s", j.what, resp.Error)
			continue
		}
		got, err := packetjson.UnmarshalView(resp.JSON)
		if err != nil {
			r.problem("%s: JS's view: %v", j.what, err)
			continue
		}
		for _, d := range Diff(r.Case.Type, wants[j.i], got, maxDiffs) {
			r.problem("%s, decoded by JS, differs: %s", j.what, d)
		}
	}
	return results, nil
}

// unmarshal and marshal turn a serializer's panic into an error.
func unmarshal(s serializers.Serializer, t protocol.PacketType, data []byte) (p packets.Payload, err error) {
	defer func() {
		if x := recover(); x != nil {
			p, err = nil, fmt.Errorf("panic: %v", x)
		}
	}()
	p, err = s.Unmarshal(t, data)
	if err == nil && p == nil {
		err = fmt.Errorf("no payload and no error")
	}
	return p, err
}

func marshal(s serializers.Serializer, p packets.Payload) (b []byte, err error) {
	defer func() {
		if x := recover(); x != nil {
			b, err = nil, fmt.Errorf("panic: %v", x)
		}
	}()
	return s.Marshal(p)
}

// hasBuffer reports whether JSON data holds a Buffer-shaped object.
func hasBuffer(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := packetjson.BufferBytes(x); ok {
			return true
		}
		for _, e := range x {
			if hasBuffer(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasBuffer(e) {
				return true
			}
		}
	}
	return false
}
