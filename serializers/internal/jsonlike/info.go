package jsonlike

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unsafe"

	"github.com/molbridge/molbridge/packets"
)

// INFO's service catalog is read straight into packets.ServiceInfo values,
// without a generic tree in between, and written from them.

// FieldError reports a field of the wrong JSON type.
func FieldError(field, want string) error {
	return fmt.Errorf("field %q must be %s", field, want)
}

// NullableString reads a string or null ("").
func (p *Parser) NullableString(field string) (string, error) {
	switch p.Peek() {
	case '"':
		return p.Str()
	case 'n':
		return "", p.literal("null")
	}
	if err := p.Skip(1); err != nil {
		return "", err
	}
	return "", FieldError(field, "a string")
}

// NullableMap reads an object or null (nil).
func (p *Parser) NullableMap(depth int, field string) (map[string]any, error) {
	switch p.Peek() {
	case '{':
		return p.Map(depth)
	case 'n':
		return nil, p.literal("null")
	}
	if err := p.Skip(depth); err != nil {
		return nil, err
	}
	return nil, FieldError(field, "an object")
}

// Strings reads an array of strings (null elements read as "") or null
// (nil).
func (p *Parser) Strings(depth int, field string) ([]string, error) {
	if null, err := p.Null(); null || err != nil {
		return nil, err
	}
	if p.Peek() != '[' {
		if err := p.Skip(depth); err != nil {
			return nil, err
		}
		return nil, FieldError(field, "an array")
	}
	out := []string{}
	err := p.Array(depth, func() error {
		switch p.Peek() {
		case '"':
			s, err := p.Str()
			out = append(out, s)
			return err
		case 'n':
			out = append(out, "")
			return p.literal("null")
		}
		if err := p.Skip(depth + 1); err != nil {
			return err
		}
		return FieldError(field, "an array of strings")
	})
	return out, err
}

// Services reads INFO's services: an array of service objects or null
// (nil).
func (p *Parser) Services(depth int) ([]packets.ServiceInfo, error) {
	if null, err := p.Null(); null || err != nil {
		return nil, err
	}
	if p.Peek() != '[' {
		if err := p.Skip(depth); err != nil {
			return nil, err
		}
		return nil, FieldError("services", "an array")
	}
	out := make([]packets.ServiceInfo, 0, 4)
	err := p.Array(depth, func() error {
		out = append(out, packets.ServiceInfo{})
		switch p.Peek() {
		case 'n':
			return p.literal("null")
		case '{':
			if err := p.service(&out[len(out)-1], depth+1); err != nil {
				return fmt.Errorf("services[%d]: %w", len(out)-1, err)
			}
			return nil
		}
		if err := p.Skip(depth + 1); err != nil {
			return err
		}
		return FieldError("services", "an array of objects")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (p *Parser) service(s *packets.ServiceInfo, depth int) error {
	return p.Object(depth, func(key string) (err error) {
		switch key {
		case "name":
			s.Name, err = p.NullableString("name")
		case "fullName":
			s.FullName, err = p.NullableString("fullName")
		case "version":
			s.Version, err = p.Value(depth + 1)
		case "settings":
			s.Settings, err = p.RawObject(depth+1, "settings")
		case "metadata":
			s.Metadata, err = p.RawObject(depth+1, "metadata")
		case "actions":
			s.Actions = nil
			if null, err := p.Null(); null || err != nil {
				return err
			}
			if p.Peek() != '{' {
				if err := p.Skip(depth + 1); err != nil {
					return err
				}
				return FieldError("actions", "an object")
			}
			s.Actions = make(map[string]packets.ActionInfo, 8)
			err = p.Object(depth+1, func(name string) error {
				a, err := p.actionInfo(depth+2, name)
				s.Actions[name] = a
				return err
			})
		case "events":
			s.Events = nil
			if null, err := p.Null(); null || err != nil {
				return err
			}
			if p.Peek() != '{' {
				if err := p.Skip(depth + 1); err != nil {
					return err
				}
				return FieldError("events", "an object")
			}
			s.Events = make(map[string]packets.EventInfo)
			err = p.Object(depth+1, func(name string) error {
				e, err := p.eventInfo(depth+2, name)
				s.Events[name] = e
				return err
			})
		default:
			err = p.Skip(depth + 1)
		}
		return err
	})
}

// RawObject reads an object, kept as JSON text, or null. depth is its
// nesting.
func (p *Parser) RawObject(depth int, field string) (packets.Value, error) {
	switch p.Peek() {
	case '{':
		start := p.pos
		if err := p.Skip(depth); err != nil {
			return packets.Value{}, err
		}
		return packets.RawValue(Codec, p.rawSince(start)), nil
	case 'n':
		return packets.Null, p.literal("null")
	}
	if err := p.Skip(depth); err != nil {
		return packets.Value{}, err
	}
	return packets.Value{}, FieldError(field, "an object")
}

// rawSince returns the text from start to the current offset as bytes that
// share the text's memory. Nothing writes them: a packets.Value never
// changes its raw bytes.
func (p *Parser) rawSince(start int) []byte {
	s := p.s[start:p.pos]
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// actionInfo reads an action descriptor, an object or null. The object is
// kept as JSON text; only the fields the registry needs are read out.
func (p *Parser) actionInfo(depth int, name string) (packets.ActionInfo, error) {
	var f [3]string
	obj, err := p.descriptor(depth, "actions", name, &[3]string{"name", "rawName", "visibility"}, &f)
	return packets.DecodedActionInfo(obj, f[0], f[1], f[2]), err
}

// eventInfo reads an event descriptor as actionInfo reads an action's.
func (p *Parser) eventInfo(depth int, name string) (packets.EventInfo, error) {
	var f [3]string
	obj, err := p.descriptor(depth, "events", name, &[3]string{"name", "group"}, &f)
	return packets.DecodedEventInfo(obj, f[0], f[1]), err
}

// descriptor reads a descriptor, an object or null, and returns it as JSON
// text. The string values of the fields named in keys are stored in the
// same places of vals; values of other types read as "".
func (p *Parser) descriptor(depth int, kind, name string, keys, vals *[3]string) (packets.Value, error) {
	switch p.Peek() {
	case '{':
		start := p.pos
		err := p.Object(depth, func(key string) error {
			for i, k := range keys {
				if k == key && k != "" {
					if p.Peek() == '"' {
						var err error
						vals[i], err = p.Str()
						return err
					}
					vals[i] = "" // a later duplicate wins, as in JSON.parse
					break
				}
			}
			return p.Skip(depth + 1)
		})
		if err != nil {
			return packets.Value{}, err
		}
		return packets.RawValue(Codec, p.rawSince(start)), nil
	case 'n':
		return packets.Null, p.literal("null")
	}
	if err := p.Skip(depth); err != nil {
		return packets.Value{}, err
	}
	return packets.Value{}, FieldError(kind+"."+name, "an object")
}

// ParseServices reads INFO's services from JSON text: null gives nil.
func ParseServices(text string) ([]packets.ServiceInfo, error) {
	p := Parser{s: text}
	s, err := p.Services(0)
	if err != nil {
		return nil, err
	}
	return s, p.End()
}

// AppendServices writes INFO's services; nil is null.
func AppendServices(b []byte, services []packets.ServiceInfo) ([]byte, error) {
	w := Writer{B: b}
	err := w.Services(services)
	return w.B, err
}

// Services writes INFO's services; nil is null.
func (w *Writer) Services(services []packets.ServiceInfo) error {
	if services == nil {
		w.B = append(w.B, "null"...)
		return nil
	}
	w.B = append(w.B, '[')
	for i := range services {
		if i > 0 {
			w.B = append(w.B, ',')
		}
		if err := w.service(&services[i]); err != nil {
			return err
		}
	}
	w.B = append(w.B, ']')
	return nil
}

func (w *Writer) service(s *packets.ServiceInfo) error {
	w.B = append(w.B, `{"name":`...)
	w.B = AppendString(w.B, s.Name)
	if s.Version != nil {
		w.B = append(w.B, `,"version":`...)
		if err := w.Any(s.Version); err != nil {
			return err
		}
	}
	w.B = append(w.B, `,"fullName":`...)
	w.B = AppendString(w.B, s.FullName)
	w.B = append(w.B, `,"settings":`...)
	if err := w.Value(s.Settings); err != nil {
		return err
	}
	w.B = append(w.B, `,"metadata":`...)
	if err := w.Value(s.Metadata); err != nil {
		return err
	}
	w.B = append(w.B, `,"actions":`...)
	if err := descriptors(w, s.Actions); err != nil {
		return err
	}
	w.B = append(w.B, `,"events":`...)
	if err := descriptors(w, s.Events); err != nil {
		return err
	}
	w.B = append(w.B, '}')
	return nil
}

// Descriptor is what action and event descriptors have in common for a
// writer: the descriptor object, and for a local one the same as a
// packets.Object.
type Descriptor interface {
	Object() packets.Value
	Fields() packets.Object
}

// descriptors writes a map of action or event descriptors, keys sorted.
func descriptors[D Descriptor](w *Writer, m map[string]D) error {
	if m == nil {
		w.B = append(w.B, "null"...)
		return nil
	}
	w.B = append(w.B, '{')
	var err error
	EachSorted(m, func(i int, k string, d D) bool {
		if i > 0 {
			w.B = append(w.B, ',')
		}
		w.B = AppendString(w.B, k)
		w.B = append(w.B, ':')
		if o := d.Fields(); o != nil {
			err = w.SortedObject(o)
		} else {
			err = w.Value(d.Object())
		}
		return err == nil
	})
	w.B = append(w.B, '}')
	return err
}

// EachSorted calls f with the entries of m in key order, with their index,
// until f returns false. The keys of a small map are sorted in an array on
// the stack, and the values looked up one by one: descriptors are large
// values, which copying would cost more than the lookups.
func EachSorted[V any](m map[string]V, f func(i int, k string, v V) bool) {
	if len(m) > SmallMap {
		for i, k := range slices.Sorted(maps.Keys(m)) {
			if !f(i, k, m[k]) {
				return
			}
		}
		return
	}
	var keys [SmallMap]string
	n := 0
	for k := range m {
		keys[n] = k
		n++
	}
	for i := 1; i < n; i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	for i, k := range keys[:n] {
		if !f(i, k, m[k]) {
			return
		}
	}
}

// Info reads an INFO packet's JSON object.
func (p *Parser) Info(into *packets.Info) error {
	err := p.Object(0, func(key string) (err error) {
		switch key {
		case "services":
			into.Services, err = p.Services(1)
		case "ipList":
			into.IPList, err = p.Strings(1, "ipList")
		case "hostname":
			into.Hostname, err = p.NullableString("hostname")
		case "client":
			err = p.client(&into.Client)
		case "config":
			into.Config, err = p.NullableMap(1, "config")
		case "instanceID":
			into.InstanceID, err = p.NullableString("instanceID")
		case "metadata":
			into.Metadata, err = p.NullableMap(1, "metadata")
		case "seq":
			into.Seq, err = p.NullableInt("seq")
		case "ver":
			into.Ver, err = p.NullableString("ver")
		case "sender":
			into.Sender, err = p.NullableString("sender")
		default:
			err = p.Skip(1)
		}
		return err
	})
	if err != nil {
		return err
	}
	return p.End()
}

func (p *Parser) client(c *packets.ClientInfo) error {
	if null, err := p.Null(); null || err != nil {
		return err
	}
	if p.Peek() != '{' {
		if err := p.Skip(1); err != nil {
			return err
		}
		return FieldError("client", "an object")
	}
	var x packets.ClientInfo
	err := p.Object(1, func(key string) (err error) {
		switch key {
		case "type":
			x.Type, err = p.NullableString("client.type")
		case "version":
			x.Version, err = p.NullableString("client.version")
		case "langVersion":
			x.LangVersion, err = p.NullableString("client.langVersion")
		default:
			err = p.Skip(2)
		}
		return err
	})
	*c = x
	return err
}

// NullableInt reads an integral number or null (0).
func (p *Parser) NullableInt(field string) (int64, error) {
	if null, err := p.Null(); null || err != nil {
		return 0, err
	}
	switch c := p.Peek(); {
	case c == '-' || isDigit(c):
		n, ok, err := p.Int()
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, FieldError(field, "an integer")
		}
		return n, nil
	}
	if err := p.Skip(1); err != nil {
		return 0, err
	}
	return 0, FieldError(field, "an integer")
}

// AppendInfo writes an INFO packet as JSON.
func AppendInfo(b []byte, p *packets.Info) ([]byte, error) {
	w := Writer{B: b}
	w.B = append(w.B, `{"services":`...)
	if err := w.Services(p.Services); err != nil {
		return nil, err
	}
	w.B = append(w.B, `,"ipList":`...)
	if p.IPList == nil {
		w.B = append(w.B, "null"...)
	} else if err := w.Any(p.IPList); err != nil {
		return nil, err
	}
	w.B = append(w.B, `,"hostname":`...)
	w.B = AppendString(w.B, p.Hostname)
	w.B = append(w.B, `,"client":{"type":`...)
	w.B = AppendString(w.B, p.Client.Type)
	w.B = append(w.B, `,"version":`...)
	w.B = AppendString(w.B, p.Client.Version)
	w.B = append(w.B, `,"langVersion":`...)
	w.B = AppendString(w.B, p.Client.LangVersion)
	w.B = append(w.B, `},"config":`...)
	if err := w.Object(p.Config); err != nil {
		return nil, err
	}
	w.B = append(w.B, `,"instanceID":`...)
	w.B = AppendString(w.B, p.InstanceID)
	w.B = append(w.B, `,"metadata":`...)
	if err := w.Object(p.Metadata); err != nil {
		return nil, err
	}
	w.B = append(w.B, `,"seq":`...)
	w.B = strconv.AppendInt(w.B, p.Seq, 10)
	w.B = append(w.B, `,"ver":`...)
	w.B = AppendString(w.B, p.Ver)
	w.B = append(w.B, `,"sender":`...)
	w.B = AppendString(w.B, p.Sender)
	w.B = append(w.B, '}')
	return w.B, nil
}
