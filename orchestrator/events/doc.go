// Package events records Event objects about other objects, for users to
// read ("why is my pod not running?").
//
// Events are deduplicated: the same object, type, reason, message and
// component map to one Event whose count grows and whose lastTimestamp
// moves, instead of a new object per occurrence. The Event's name is
// derived from those fields, so deduplication holds across recorders and
// restarts; each recorder also remembers the events it wrote last, so a
// repeat usually costs one compare-and-swap Update and no read.
package events
