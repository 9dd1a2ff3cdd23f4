// Package objcodec is the shared engine of the schema-less binary
// serializers: MessagePack as the JS library msgpack5 writes it, MessagePack
// as notepack.io writes it, and CBOR as cbor-x writes it with the options
// moleculer gives it (useRecords: false, useTag259ForMaps: false).
//
// A payload is one map whose keys are the field names of the JSON
// serializer. The encoder writes every number the way the JS library writes
// a JS number, so that what a Go node sends decodes in JS to the same values
// a JS node would have sent (and is byte for byte what JS writes for the same
// payload). The decoder accepts every width and form of number for every
// numeric field, as JS does, and keeps params and data as sub-slices of the
// input until a handler decodes them.
//
// Decoded values are JSON-like: map[string]any, []any, float64 for every
// number, string, bool, nil, []byte for binary data and time.Time for a JS
// Date. Decoding into Go types follows encoding/json: struct fields are
// matched by their json tags (then without regard to case), json.Unmarshaler
// and encoding.TextUnmarshaler are honoured, and a number decodes into an
// integer field when it is integral and in range. Encoding Go values follows
// encoding/json as well (json tags, omitempty, omitzero, json.Marshaler,
// encoding.TextMarshaler, sorted map keys), except that byte slices are
// written as binary and time.Time as the format's date type.
package objcodec
