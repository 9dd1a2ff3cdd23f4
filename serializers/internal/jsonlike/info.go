package jsonlike

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

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
			s.Settings, err = p.NullableMap(depth+1, "settings")
		case "metadata":
			s.Metadata, err = p.NullableMap(depth+1, "metadata")
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
				m, err := p.descriptor(depth+2, "actions", name)
				s.Actions[name] = m
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
				m, err := p.descriptor(depth+2, "events", name)
				s.Events[name] = m
				return err
			})
		default:
			err = p.Skip(depth + 1)
		}
		return err
	})
}

// descriptor reads an action or event descriptor: an object or null.
func (p *Parser) descriptor(depth int, kind, name string) (map[string]any, error) {
	switch p.Peek() {
	case '{':
		return p.Map(depth)
	case 'n':
		return nil, p.literal("null")
	}
	if err := p.Skip(depth); err != nil {
		return nil, err
	}
	return nil, FieldError(kind+"."+name, "an object")
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
	if err := w.Object(s.Settings); err != nil {
		return err
	}
	w.B = append(w.B, `,"metadata":`...)
	if err := w.Object(s.Metadata); err != nil {
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

// descriptors writes a map of action or event descriptors, keys sorted.
func descriptors[D ~map[string]any](w *Writer, m map[string]D) error {
	if m == nil {
		w.B = append(w.B, "null"...)
		return nil
	}
	if len(m) > SmallMap {
		keys := slices.Sorted(maps.Keys(m))
		w.B = append(w.B, '{')
		for i, k := range keys {
			if i > 0 {
				w.B = append(w.B, ',')
			}
			w.B = AppendString(w.B, k)
			w.B = append(w.B, ':')
			if err := w.Object(m[k]); err != nil {
				return err
			}
		}
		w.B = append(w.B, '}')
		return nil
	}
	var s Sorted[D]
	s.Collect(m)
	w.B = append(w.B, '{')
	for i := range s.N {
		if i > 0 {
			w.B = append(w.B, ',')
		}
		k, v := s.Entry(i)
		w.B = AppendString(w.B, k)
		w.B = append(w.B, ':')
		if err := w.Object(v); err != nil {
			return err
		}
	}
	w.B = append(w.B, '}')
	return nil
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
