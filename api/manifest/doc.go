// Package manifest reads and writes objects as YAML or JSON manifests in
// Kubernetes shape:
//
//	apiVersion: apps/v1
//	kind: Deployment
//	metadata: {name: web, namespace: shop}
//	spec: ...
//
// Decode takes a stream of one or more documents separated by "---" (JSON
// is accepted too, being a subset of YAML) and returns typed objects through
// an api.Registry: apiVersion and kind pick the protobuf message, and every
// other field is set by walking the message with protoreflect. Field names
// are the messages' JSON names (lowerCamelCase). Special shapes follow
// Kubernetes: api.IntOrString is a bare scalar (3 or "25%"),
// google.protobuf.Timestamp an RFC 3339 string, bytes base64, integers plain
// numbers (numeric strings such as resourceVersion: "12" are accepted).
//
// YAML anchors, aliases and merge keys ("<<: *base") work as in
// Kubernetes, within a budget that stops exponential alias expansion.
//
// Decoding is strict: an unknown kind, an unknown field, a duplicate key or a
// value of the wrong type is an *Error naming the document index, the field
// path (spec.template.spec.containers[0].imagee) and the line. The decoder
// never panics, whatever its input.
//
// DecodeDocuments reports each document on its own, and Document.LineOf
// maps a field path (from a validation error, say) back to its line.
//
// Encode writes an object back in the same shape, apiVersion and kind first,
// omitting unset fields, so that Decode(Encode(obj)) equals obj.
package manifest
