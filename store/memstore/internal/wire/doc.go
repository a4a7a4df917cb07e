// Package wire holds the protobuf messages of memstore's command log and
// snapshots (generated from wire.proto): the deterministic write commands a
// replica applies and the records of a snapshot stream.
package wire
