// Package wirepb holds the generated protobuf envelopes of the remote API's
// application/x-protobuf encoding: TypedObject, ObjectList, WatchEvent,
// DeleteOptions and the transaction messages. See remote_wire.proto.
package wirepb
