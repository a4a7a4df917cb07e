// Package fields implements field selectors: equality tests on an object's
// fields named by their JSON path, such as
//
//	spec.nodeName=n1,status.phase!=Succeeded,metadata.name=x
//
// Paths use the proto JSON (lowerCamelCase) field names of the api kinds and
// are evaluated with protoreflect, so any registered kind (a user's too) can
// be selected on without code. A path ends at a scalar field (string, bool,
// number, enum) or at a key of a string map ("metadata.labels.app"). Unset
// fields read as their zero value: "" for strings, so "spec.nodeName="
// selects unscheduled pods.
//
// Values may contain ',', '=', '!' and '\' when escaped with a backslash.
// A Selector reports the exact-match terms it requires (RequiresExactMatch)
// so that stores can answer it from an index instead of testing every object.
package fields
