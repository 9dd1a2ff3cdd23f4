// Package packets is the model of the twelve Moleculer packets: one Go type
// per packet payload, with the field names and JSON shapes JS uses.
//
// Payloads are what a serializer turns into bytes and back. Arbitrary values
// (a request's params, a response's or an event's data, and the meta of all
// three) are carried as a
// [Value], which keeps the difference between undefined (absent on the
// wire) and null, and which can stay in a serializer's encoded form until a
// handler decodes it into the type it wants. INFO's open objects (a
// service's settings and metadata, the action and event descriptors with
// their params schemas) stay encoded the same way: [ActionInfo] and
// [EventInfo] carry the few names the registry needs, read while decoding,
// and [Value.Field] reads one field of an encoded object without decoding
// the rest.
package packets
