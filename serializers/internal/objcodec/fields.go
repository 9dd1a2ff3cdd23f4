package objcodec

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// field is a struct field as encoding/json sees it.
type field struct {
	name      string
	tagged    bool
	index     []int
	typ       reflect.Type
	omitEmpty bool
	omitZero  bool
	quoted    bool // the ",string" option, on a field where it applies
}

// structInfo is the fields of a struct type, with a lookup by name.
type structInfo struct {
	fields []field
	byName map[string]int
}

// lookup finds the field for a key: exact name first, then without regard
// to case, as encoding/json does.
func (s *structInfo) lookup(key string) *field {
	if i, ok := s.byName[key]; ok {
		return &s.fields[i]
	}
	for i := range s.fields {
		if strings.EqualFold(s.fields[i].name, key) {
			return &s.fields[i]
		}
	}
	return nil
}

var structCache sync.Map // reflect.Type → *structInfo

func cachedStruct(t reflect.Type) *structInfo {
	if s, ok := structCache.Load(t); ok {
		return s.(*structInfo)
	}
	fields := typeFields(t)
	s := &structInfo{fields: fields, byName: make(map[string]int, len(fields))}
	for i, f := range fields {
		s.byName[f.name] = i
	}
	actual, _ := structCache.LoadOrStore(t, s)
	return actual.(*structInfo)
}

// typeFields lists the fields encoding/json encodes for struct type t:
// exported fields and those of embedded structs, named by their json tags,
// with the same rules for names that clash.
func typeFields(t reflect.Type) []field {
	type queued struct {
		typ   reflect.Type
		index []int
	}
	var (
		fields               []field
		current, next        []queued
		count, nextCount     map[reflect.Type]int
		visited              = map[reflect.Type]bool{}
		stringOptionAppliesT = func(t reflect.Type) bool {
			switch t.Kind() {
			case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
				reflect.Float32, reflect.Float64, reflect.String:
				return true
			}
			return false
		}
	)
	next = []queued{{typ: t}}
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, q := range current {
			if visited[q.typ] {
				continue
			}
			visited[q.typ] = true
			for i := 0; i < q.typ.NumField(); i++ {
				sf := q.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				index := append(slices.Clip(q.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := field{name: name, tagged: name != "", index: index, typ: sf.Type}
					if f.name == "" {
						f.name = sf.Name
					}
					for opt := range strings.SplitSeq(opts, ",") {
						switch opt {
						case "omitempty":
							f.omitEmpty = true
						case "omitzero":
							f.omitZero = true
						case "string":
							f.quoted = stringOptionAppliesT(ft)
						}
					}
					fields = append(fields, f)
					if count[q.typ] > 1 {
						// Several embeddings at this depth: a duplicate makes
						// the name ambiguous below, as encoding/json does.
						fields = append(fields, f)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, queued{typ: ft, index: index})
				}
			}
		}
	}
	slices.SortStableFunc(fields, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		group := fields[i:j]
		// The shallowest field wins, a tagged one among equals; a tie is
		// no field at all.
		if len(group) == 1 || len(group[0].index) != len(group[1].index) || group[0].tagged != group[1].tagged {
			out = append(out, group[0])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}

func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case c == '\\' || c == '"' || c == '\'' || c == '`' || c == ',':
			return false
		case c < ' ':
			return false
		}
	}
	return true
}
