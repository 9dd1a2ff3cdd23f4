package json

import (
	"fmt"
	"strconv"

	"github.com/molbridge/molbridge/packets"
)

// INFO carries the whole service catalog of a node; it is written and read
// by hand too, since encoding/json spends most of its time on its maps.

func appendInfo(b []byte, p *packets.Info) ([]byte, error) {
	var err error
	b = append(b, `{"services":`...)
	if p.Services == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range p.Services {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendService(b, &p.Services[i]); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"ipList":`...)
	if p.IPList == nil {
		b = append(b, "null"...)
	} else if b, err = appendAny(b, p.IPList); err != nil {
		return nil, err
	}
	b = append(b, `,"hostname":`...)
	b = appendString(b, p.Hostname)
	b = append(b, `,"client":{"type":`...)
	b = appendString(b, p.Client.Type)
	b = append(b, `,"version":`...)
	b = appendString(b, p.Client.Version)
	b = append(b, `,"langVersion":`...)
	b = appendString(b, p.Client.LangVersion)
	b = append(b, `},"config":`...)
	if b, err = appendObject(b, p.Config); err != nil {
		return nil, err
	}
	b = append(b, `,"instanceID":`...)
	b = appendString(b, p.InstanceID)
	b = append(b, `,"metadata":`...)
	if b, err = appendObject(b, p.Metadata); err != nil {
		return nil, err
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, p.Seq, 10)
	return appendEnvelope(b, &p.Envelope), nil
}

func appendService(b []byte, s *packets.ServiceInfo) ([]byte, error) {
	var err error
	b = append(b, `{"name":`...)
	b = appendString(b, s.Name)
	if s.Version != nil {
		b = append(b, `,"version":`...)
		if b, err = appendAny(b, s.Version); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"fullName":`...)
	b = appendString(b, s.FullName)
	b = append(b, `,"settings":`...)
	if b, err = appendObject(b, s.Settings); err != nil {
		return nil, err
	}
	b = append(b, `,"metadata":`...)
	if b, err = appendObject(b, s.Metadata); err != nil {
		return nil, err
	}
	b = append(b, `,"actions":`...)
	if s.Actions == nil {
		b = append(b, "null"...)
	} else {
		m := make(map[string]any, len(s.Actions))
		for k, a := range s.Actions {
			m[k] = map[string]any(a)
		}
		if b, err = appendObject(b, m); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"events":`...)
	if s.Events == nil {
		b = append(b, "null"...)
	} else {
		m := make(map[string]any, len(s.Events))
		for k, e := range s.Events {
			m[k] = map[string]any(e)
		}
		if b, err = appendObject(b, m); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func unmarshalInfo(data []byte) (*packets.Info, error) {
	p := new(packets.Info)
	s := scanner{data: data}
	err := s.object(func(key, raw []byte) (err error) {
		switch string(key) {
		case "services":
			p.Services, err = decodeServices(raw)
		case "ipList":
			p.IPList, err = decodeStrings(raw, "ipList")
		case "hostname":
			p.Hostname, err = decodeString(raw, "hostname")
		case "client":
			var v any
			if v, err = parseAny(raw); err == nil && v != nil {
				m, ok := v.(map[string]any)
				if !ok {
					return fieldError("client", "an object")
				}
				str := func(k string) (string, error) {
					switch x := m[k].(type) {
					case string:
						return x, nil
					case nil:
						return "", nil
					}
					return "", fieldError("client."+k, "a string")
				}
				if p.Client.Type, err = str("type"); err != nil {
					return err
				}
				if p.Client.Version, err = str("version"); err != nil {
					return err
				}
				p.Client.LangVersion, err = str("langVersion")
			}
		case "config":
			p.Config, err = decodeObject(raw, "config")
		case "instanceID":
			p.InstanceID, err = decodeString(raw, "instanceID")
		case "metadata":
			p.Metadata, err = decodeObject(raw, "metadata")
		case "seq":
			p.Seq, err = decodeInt(raw, "seq")
		case "ver":
			p.Ver, err = decodeString(raw, "ver")
		case "sender":
			p.Sender, err = decodeString(raw, "sender")
		}
		return err
	})
	return p, err
}

func decodeObject(raw []byte, field string) (map[string]any, error) {
	v, err := parseAny(raw)
	if err != nil || v == nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fieldError(field, "an object")
	}
	return m, nil
}

func decodeStrings(raw []byte, field string) ([]string, error) {
	v, err := parseAny(raw)
	if err != nil || v == nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fieldError(field, "an array")
	}
	out := make([]string, len(list))
	for i, e := range list {
		switch x := e.(type) {
		case string:
			out[i] = x
		case nil:
		default:
			return nil, fieldError(field, "an array of strings")
		}
	}
	return out, nil
}

func decodeServices(raw []byte) ([]packets.ServiceInfo, error) {
	v, err := parseAny(raw)
	if err != nil || v == nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fieldError("services", "an array")
	}
	out := make([]packets.ServiceInfo, len(list))
	for i, e := range list {
		if e == nil {
			continue
		}
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fieldError("services", "an array of objects")
		}
		if err := serviceFromMap(&out[i], m); err != nil {
			return nil, fmt.Errorf("services[%d]: %w", i, err)
		}
	}
	return out, nil
}

func serviceFromMap(s *packets.ServiceInfo, m map[string]any) error {
	str := func(k string) (string, error) {
		switch x := m[k].(type) {
		case string:
			return x, nil
		case nil:
			return "", nil
		}
		return "", fieldError(k, "a string")
	}
	obj := func(k string) (map[string]any, error) {
		switch x := m[k].(type) {
		case map[string]any:
			return x, nil
		case nil:
			return nil, nil
		}
		return nil, fieldError(k, "an object")
	}
	var err error
	if s.Name, err = str("name"); err != nil {
		return err
	}
	if s.FullName, err = str("fullName"); err != nil {
		return err
	}
	s.Version = m["version"]
	if s.Settings, err = obj("settings"); err != nil {
		return err
	}
	if s.Metadata, err = obj("metadata"); err != nil {
		return err
	}
	actions, err := obj("actions")
	if err != nil {
		return err
	}
	if actions != nil {
		s.Actions = make(map[string]packets.ActionInfo, len(actions))
		for k, a := range actions {
			am, ok := a.(map[string]any)
			if !ok && a != nil {
				return fieldError("actions."+k, "an object")
			}
			s.Actions[k] = am
		}
	}
	events, err := obj("events")
	if err != nil {
		return err
	}
	if events != nil {
		s.Events = make(map[string]packets.EventInfo, len(events))
		for k, e := range events {
			em, ok := e.(map[string]any)
			if !ok && e != nil {
				return fieldError("events."+k, "an object")
			}
			s.Events[k] = em
		}
	}
	return nil
}
