// Package admission wraps a Store in a chain of defaulting, validation,
// quota and user-supplied admission plugins.
package admission
