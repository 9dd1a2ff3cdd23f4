package objcodec

import (
	"fmt"
	"slices"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/serializers/internal/jsonlike"
)

// INFO is read straight into packets.Info and written from it, without the
// reflection of the other packets off the call path: it carries a node's
// whole service catalog. What is read and written is what the generic
// (reflective) path reads and writes for the same payload.

func (w *writer) info(p *packets.Info) error {
	w.mapHeader(10)
	w.str("services")
	if p.Services == nil {
		w.null()
	} else {
		w.arrayHeader(len(p.Services))
		for i := range p.Services {
			if err := w.service(&p.Services[i]); err != nil {
				return fmt.Errorf("services[%d]: %w", i, err)
			}
		}
	}
	w.str("ipList")
	if err := w.goValue(p.IPList, 0); err != nil {
		return err
	}
	w.str("hostname")
	w.str(p.Hostname)
	w.str("client")
	w.mapHeader(3)
	w.str("type")
	w.str(p.Client.Type)
	w.str("version")
	w.str(p.Client.Version)
	w.str("langVersion")
	w.str(p.Client.LangVersion)
	w.str("config")
	if err := w.mapAny(p.Config, 0); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	w.str("instanceID")
	w.str(p.InstanceID)
	w.str("metadata")
	if err := w.mapAny(p.Metadata, 0); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	w.str("seq")
	w.int(p.Seq)
	w.envelope(&p.Envelope)
	return nil
}

func (w *writer) service(s *packets.ServiceInfo) error {
	n := 6
	if s.Version != nil {
		n++
	}
	w.mapHeader(n)
	w.str("name")
	w.str(s.Name)
	if s.Version != nil {
		w.str("version")
		if err := w.goValue(s.Version, 2); err != nil {
			return err
		}
	}
	w.str("fullName")
	w.str(s.FullName)
	w.str("settings")
	if err := w.value(s.Settings, 2); err != nil {
		return err
	}
	w.str("metadata")
	if err := w.value(s.Metadata, 2); err != nil {
		return err
	}
	w.str("actions")
	if err := descriptors(w, s.Actions); err != nil {
		return err
	}
	w.str("events")
	return descriptors(w, s.Events)
}

// descriptors writes a map of action or event descriptors, keys sorted.
func descriptors[D jsonlike.Descriptor](w *writer, m map[string]D) error {
	if m == nil {
		w.null()
		return nil
	}
	w.mapHeader(len(m))
	var err error
	jsonlike.EachSorted(m, func(_ int, k string, d D) bool {
		w.str(k)
		err = w.descriptor(d.Object(), d.Fields(), 3)
		return err == nil
	})
	return err
}

func (r *reader) info() (*packets.Info, error) {
	p := new(packets.Info)
	err := r.object(func(key []byte) (err error) {
		switch string(key) {
		case "services":
			p.Services, err = r.services()
		case "ipList":
			p.IPList, err = r.strings("ipList")
		case "hostname":
			p.Hostname, err = r.str("hostname")
		case "client":
			err = r.client(&p.Client)
		case "config":
			p.Config, err = r.objectField("config", 1)
		case "instanceID":
			p.InstanceID, err = r.str("instanceID")
		case "metadata":
			p.Metadata, err = r.objectField("metadata", 1)
		case "seq":
			p.Seq, err = r.integer("seq")
		case "ver":
			p.Ver, err = r.str("ver")
		case "sender":
			p.Sender, err = r.str("sender")
		default:
			err = r.skip()
		}
		return err
	})
	return p, err
}

// objectField reads a map, or null or undefined (nil).
func (r *reader) objectField(field string, depth int) (map[string]any, error) {
	it, err := r.next()
	if err != nil {
		return nil, err
	}
	switch it.k {
	case kNull, kUndefined:
		return nil, nil
	case kMap:
		v, err := r.finish(it, depth, true)
		if err != nil {
			return nil, err
		}
		return v.(map[string]any), nil
	}
	return nil, fieldError(field, "a map")
}

func (r *reader) client(c *packets.ClientInfo) error {
	it, err := r.next()
	if err != nil {
		return err
	}
	switch it.k {
	case kNull, kUndefined:
		return nil
	case kMap:
	default:
		return fieldError("client", "a map")
	}
	for n := it.l; r.more(&n); {
		key, err := r.key()
		if err != nil {
			return err
		}
		switch key {
		case "type":
			c.Type, err = r.str("client.type")
		case "version":
			c.Version, err = r.str("client.version")
		case "langVersion":
			c.LangVersion, err = r.str("client.langVersion")
		default:
			err = r.skip()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) services() ([]packets.ServiceInfo, error) {
	it, err := r.next()
	if err != nil {
		return nil, err
	}
	switch it.k {
	case kNull, kUndefined:
		return nil, nil
	case kArray:
	default:
		return nil, fieldError("services", "an array")
	}
	out := make([]packets.ServiceInfo, 0, max(it.l, 0))
	for n := it.l; r.more(&n); {
		out = append(out, packets.ServiceInfo{})
		if err := r.service(&out[len(out)-1]); err != nil {
			return nil, fmt.Errorf("services[%d]: %w", len(out)-1, err)
		}
	}
	return out, nil
}

func (r *reader) service(s *packets.ServiceInfo) error {
	it, err := r.next()
	if err != nil {
		return err
	}
	switch it.k {
	case kNull, kUndefined:
		return nil
	case kMap:
	default:
		return fieldError("services", "an array of maps")
	}
	for n := it.l; r.more(&n); {
		key, err := r.key()
		if err != nil {
			return err
		}
		switch key {
		case "name":
			s.Name, err = r.str("name")
		case "fullName":
			s.FullName, err = r.str("fullName")
		case "version":
			var v any
			if v, err = r.value(3, true); err == nil {
				if _, undef := v.(undefinedValue); undef {
					v = nil
				}
				s.Version = v
			}
		case "settings":
			s.Settings, err = r.rawObject("settings", 3)
		case "metadata":
			s.Metadata, err = r.rawObject("metadata", 3)
		case "actions":
			s.Actions, err = readDescriptors(r, "actions", r.actionInfo)
		case "events":
			s.Events, err = readDescriptors(r, "events", r.eventInfo)
		default:
			err = r.skip()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rawObject reads a map, kept in its encoded form, or null or undefined.
func (r *reader) rawObject(field string, depth int) (packets.Value, error) {
	start := r.p
	it, v, isMap, err := r.mapHead(field)
	if !isMap || err != nil {
		return v, err
	}
	if _, err := r.finish(it, depth, false); err != nil {
		return packets.Undefined, err
	}
	return packets.RawValue(codecs[r.f], r.d[start:r.p]), nil
}

// mapHead reads the head of a map, null or undefined. isMap is true for a
// map, whose entries follow; otherwise v is null or undefined, or err says
// that field holds something else.
func (r *reader) mapHead(field string) (it item, v packets.Value, isMap bool, err error) {
	if it, err = r.next(); err != nil {
		return it, packets.Undefined, false, err
	}
	switch it.k {
	case kMap:
		return it, packets.Undefined, true, nil
	case kNull:
		return it, packets.Null, false, nil
	case kUndefined:
		return it, packets.Undefined, false, nil
	}
	return it, packets.Undefined, false, fieldError(field, "a map")
}

// readDescriptors reads a map of action or event descriptors, maps or
// null, each through read; an undefined descriptor is left out, as a
// generic map leaves it out.
func readDescriptors[D any](r *reader, field string, read func(kind, name string) (D, bool, error)) (map[string]D, error) {
	it, _, isMap, err := r.mapHead(field)
	if !isMap || err != nil {
		return nil, err
	}
	out := make(map[string]D, max(it.l, 0))
	for n := it.l; r.more(&n); {
		key, err := r.key()
		if err != nil {
			return nil, err
		}
		d, defined, err := read(field, key)
		if err != nil {
			return nil, err
		}
		if defined {
			out[key] = d
		} else {
			delete(out, key)
		}
	}
	return out, nil
}

// actionInfo reads an action descriptor, a map or null, kept in its
// encoded form; only the fields the registry needs are read out. defined
// is false for undefined.
func (r *reader) actionInfo(kind, name string) (a packets.ActionInfo, defined bool, err error) {
	var f [3]string
	obj, err := r.descriptor(kind, name, &[3]string{"name", "rawName", "visibility"}, &f)
	return packets.DecodedActionInfo(obj, f[0], f[1], f[2]), !obj.IsUndefined(), err
}

// eventInfo reads an event descriptor as actionInfo reads an action's.
func (r *reader) eventInfo(kind, name string) (e packets.EventInfo, defined bool, err error) {
	var f [3]string
	obj, err := r.descriptor(kind, name, &[3]string{"name", "group"}, &f)
	return packets.DecodedEventInfo(obj, f[0], f[1]), !obj.IsUndefined(), err
}

// descriptor reads a descriptor, a map, null or undefined, and returns it
// in its encoded form. The string values of the fields named in keys are
// stored in the same places of vals; values of other types read as "".
func (r *reader) descriptor(kind, name string, keys, vals *[3]string) (packets.Value, error) {
	start := r.p
	it, v, isMap, err := r.mapHead(kind + "." + name)
	if !isMap || err != nil {
		return v, err
	}
	for n := it.l; r.more(&n); {
		key, err := r.key()
		if err != nil {
			return packets.Undefined, err
		}
		i := slices.Index(keys[:], key)
		if key == "" || i < 0 {
			if err := r.skip(); err != nil {
				return packets.Undefined, err
			}
			continue
		}
		// a later duplicate wins, as in a JS object
		if vals[i], err = r.optString(); err != nil {
			return packets.Undefined, err
		}
	}
	return packets.RawValue(codecs[r.f], r.d[start:r.p]), nil
}

// optString reads a string; any other value is skipped and reads as "".
func (r *reader) optString() (string, error) {
	if r.peek().kind == hString {
		return r.str("")
	}
	it, err := r.next()
	if err != nil {
		return "", err
	}
	if it.k == kString {
		return r.string(it.s), nil
	}
	_, err = r.finish(it, 5, false)
	return "", err
}
