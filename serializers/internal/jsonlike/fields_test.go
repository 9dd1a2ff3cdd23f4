package jsonlike

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Fields sees the keys and values that Object sees, whatever the order of
// the keys, however they are written, wherever the text ends, and refuses
// what Object refuses.
func TestFields(t *testing.T) {
	keys := NewKeys([]string{"id", "idx", "action", "params", "requestID", "ver", "sender", "a123456789012"})
	index := map[string]int{}
	for i := range keys.Len() {
		index[keys.Name(i)] = i
	}
	for _, in := range []string{
		`{}`, ` { } `, `{"id":1}`, `{"idx":1}`, `{"id":1,"idx":2,"action":"a","params":{"x":[1]},"ver":"4","sender":"s"}`,
		`{"sender":"s","ver":"4","id":1}`,          // out of order
		`{"id":1,"ver":"4"}`,                       // some left out
		`{"id":1,"other":{"a":1},"ver":"4"}`,       // unknown
		`{"id":1,"id":2,"id":3}`,                   // repeated
		`{"\u0069d":1,"i\"d":2,"":3}`,              // escaped, or not a key of keys
		`{ "id" : 1 , "action" :"a","ver": "4" }`,  // white space
		`{"a123456789012":1,"a12345678901":2}`,     // the longest key, and one a byte shorter
		`{"ver":"4","sender":"s"}`, `{"sender":1}`, // keys near the end of the text
		`{"requestID":"r","ver":""}`, `{"id":"x"}   `, // a short text
		`{"id"}`, `{"id":}`, `{"id" 1}`, `{"id":1,}`, `{"id":1 "ver":2}`, `{id:1}`, `{"id":1`, `{"id":1]`,
		`{"id":1,"ver"`, `{"ver":"4"`, `{"sender":"s"}x`, `[`, `{`, `{"id\`, `{"id":1}}`,
	} {
		for _, cut := range []int{len(in), len(in) - 1, len(in) / 2} {
			text := in[:cut]
			want, wantErr := fieldsByObject(text, index)
			got, err := fieldsOf(text, keys)
			if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
				t.Errorf("%q:\n got %v %v\nwant %v %v", text, got, err, want, wantErr)
			}
		}
	}
	for _, bad := range []string{"a1234567890123", `q"`, `b\`, "é", "\n"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewKeys accepted %q", bad)
				}
			}()
			NewKeys([]string{"id", bad})
		}()
	}
}

// fieldsOf reads text with Fields, into a list of key index and value.
func fieldsOf(text string, keys *Keys) ([]string, error) {
	p := NewParser(text)
	var got []string
	err := p.Fields(0, keys, func(key int) error {
		v, err := p.Value(1)
		got = append(got, fmt.Sprint(key, v))
		return err
	})
	if err == nil {
		err = p.End()
	}
	return got, err
}

// fieldsByObject is fieldsOf done with Object.
func fieldsByObject(text string, index map[string]int) ([]string, error) {
	p := NewParser(text)
	var got []string
	err := p.Object(0, func(key string) error {
		i, ok := index[key]
		if !ok {
			i = UnknownKey
		}
		v, err := p.Value(1)
		got = append(got, fmt.Sprint(i, v))
		return err
	})
	if err == nil {
		err = p.End()
	}
	return got, err
}

// The benchmark INFO's services text has keys Fields knows well.
func TestFieldsOnServices(t *testing.T) {
	text := benchServices(t)
	keys := NewKeys([]string{"name", "version", "fullName", "settings", "metadata", "actions", "events"})
	p := NewParser(text)
	n := 0
	err := p.Array(0, func() error {
		return p.Fields(1, keys, func(key int) error {
			if key != UnknownKey && !strings.Contains(text, `"`+keys.Name(key)+`"`) {
				t.Errorf("key %d", key)
			}
			n++
			return p.Skip(2)
		})
	})
	if err != nil || n == 0 {
		t.Fatal(n, err)
	}
}
