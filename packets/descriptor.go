package packets

import (
	"encoding/json"
	"fmt"
)

// An INFO packet carries a node's whole service catalog, and most of it is
// open objects no Go node needs to look into: params schemas, settings,
// metadata, cache and REST definitions. Decoding them into maps cost as much
// as the rest of the packet, so the descriptors keep them in the encoded
// form the serializer read, like params and data (see [Value]): the fields
// the registry reads on every INFO (name, rawName, visibility, group) are
// read out as the packet is decoded, everything else when somebody asks.

// descriptor is what action and event descriptors have in common: the
// descriptor object as it was sent or built, and the names the registry
// needs.
type descriptor struct {
	obj    Value
	name   string
	fields Object // obj as an Object, for local descriptors
}

// nullDescriptor and noDescriptor are shared and never written.
var nullDescriptor, noDescriptor = descriptor{obj: Null}, descriptor{}

// ActionInfo is an action's descriptor in an INFO packet: the object JS
// sends, with name and rawName and whatever else the action's definition
// holds (params, timeout, visibility, retryPolicy, ...). It is a reference
// to data that never changes, so it copies cheaply and keeps the maps of
// INFO small; the zero ActionInfo has no object at all.
type ActionInfo struct{ p *actionData }

type actionData struct {
	descriptor
	rawName, visibility string
}

// NewActionInfo makes the descriptor of a local action from its fields.
// The map must not be changed afterwards.
func NewActionInfo(fields map[string]any) ActionInfo {
	if fields == nil {
		return ActionInfo{&actionData{descriptor: nullDescriptor}}
	}
	return ActionInfo{&actionData{
		descriptor: localDescriptor(fields),
		rawName:    stringField(fields, "rawName"),
		visibility: stringField(fields, "visibility"),
	}}
}

// DecodedActionInfo is how a serializer hands over a descriptor it read:
// obj is the descriptor object (usually raw bytes, see [RawValue]) and the
// strings are its fields of those names, "" when absent or not strings.
func DecodedActionInfo(obj Value, name, rawName, visibility string) ActionInfo {
	return ActionInfo{&actionData{descriptor: descriptor{obj: obj, name: name}, rawName: rawName, visibility: visibility}}
}

func (a ActionInfo) d() *descriptor {
	if a.p == nil {
		return &noDescriptor
	}
	return &a.p.descriptor
}

// Name is the action's full name, "" when the descriptor has none.
func (a ActionInfo) Name() string { return a.d().name }

// RawName is the action's name inside its service, "" when unset.
func (a ActionInfo) RawName() string {
	if a.p == nil {
		return ""
	}
	return a.p.rawName
}

// Visibility is the action's visibility, "" when unset.
func (a ActionInfo) Visibility() string {
	if a.p == nil {
		return ""
	}
	return a.p.visibility
}

// Object is the whole descriptor object, null for a null descriptor and
// undefined for the zero ActionInfo.
func (a ActionInfo) Object() Value { return a.d().obj }

// Fields is the descriptor object of a local action as an [Object], the
// form writers write fastest; nil for a descriptor that was decoded, which
// Object gives as it came.
func (a ActionInfo) Fields() Object { return a.d().fields }

// Field returns one field of the descriptor, undefined when it has none.
// Only that field is decoded.
func (a ActionInfo) Field(key string) Value { return a.d().obj.Field(key) }

// Map decodes the whole descriptor into a new map; a null descriptor gives
// nil.
func (a ActionInfo) Map() (map[string]any, error) { return a.d().obj.Map() }

// MarshalJSON writes the descriptor object.
func (a ActionInfo) MarshalJSON() ([]byte, error) { return a.d().obj.MarshalJSON() }

// UnmarshalJSON reads a descriptor object or null.
func (a *ActionInfo) UnmarshalJSON(b []byte) error {
	fields, err := unmarshalDescriptor(b)
	if err == nil {
		*a = NewActionInfo(fields)
	}
	return err
}

// EventInfo is an event's descriptor in an INFO packet: name (or pattern),
// optional group and whatever else the event's definition holds. Like
// ActionInfo, it is a reference to data that never changes.
type EventInfo struct{ p *eventData }

type eventData struct {
	descriptor
	group string
}

// NewEventInfo makes the descriptor of a local event from its fields. The
// map must not be changed afterwards.
func NewEventInfo(fields map[string]any) EventInfo {
	if fields == nil {
		return EventInfo{&eventData{descriptor: nullDescriptor}}
	}
	return EventInfo{&eventData{descriptor: localDescriptor(fields), group: stringField(fields, "group")}}
}

// DecodedEventInfo is how a serializer hands over a descriptor it read: obj
// is the descriptor object and the strings are its fields of those names,
// "" when absent or not strings.
func DecodedEventInfo(obj Value, name, group string) EventInfo {
	return EventInfo{&eventData{descriptor: descriptor{obj: obj, name: name}, group: group}}
}

func (e EventInfo) d() *descriptor {
	if e.p == nil {
		return &noDescriptor
	}
	return &e.p.descriptor
}

// Name is the event name or pattern, "" when the descriptor has none.
func (e EventInfo) Name() string { return e.d().name }

// Group is the event's group, "" when the descriptor has none.
func (e EventInfo) Group() string {
	if e.p == nil {
		return ""
	}
	return e.p.group
}

// Object is the whole descriptor object, null for a null descriptor and
// undefined for the zero EventInfo.
func (e EventInfo) Object() Value { return e.d().obj }

// Fields is the descriptor object of a local event as an [Object]; nil for
// a descriptor that was decoded.
func (e EventInfo) Fields() Object { return e.d().fields }

// Field returns one field of the descriptor, undefined when it has none.
func (e EventInfo) Field(key string) Value { return e.d().obj.Field(key) }

// Map decodes the whole descriptor into a new map; a null descriptor gives
// nil.
func (e EventInfo) Map() (map[string]any, error) { return e.d().obj.Map() }

// MarshalJSON writes the descriptor object.
func (e EventInfo) MarshalJSON() ([]byte, error) { return e.d().obj.MarshalJSON() }

// UnmarshalJSON reads a descriptor object or null.
func (e *EventInfo) UnmarshalJSON(b []byte) error {
	fields, err := unmarshalDescriptor(b)
	if err == nil {
		*e = NewEventInfo(fields)
	}
	return err
}

func localDescriptor(fields map[string]any) descriptor {
	return descriptor{obj: ValueOf(fields), name: stringField(fields, "name"), fields: ObjectOf(fields)}
}

func unmarshalDescriptor(b []byte) (map[string]any, error) {
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("packets: descriptor: %w", err)
	}
	return fields, nil
}

func stringField(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}
