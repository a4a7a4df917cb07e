package fastclone

import "google.golang.org/protobuf/proto"

// What the external tests (package fastclone_test, which may import the
// api package that imports this one) need of the internals.

// MaxArray is the longest repeated message field copied into one array.
const MaxArray = maxArray

// HasPlan reports whether m's type is copied with a plan (not proto.Clone).
func HasPlan(m proto.Message) bool { return planFor(reflectType(m)).ok }
