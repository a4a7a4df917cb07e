// Package handler maps a changed object to the reconcile requests it should
// wake: the object itself (For), its controller owner (Owns), or anything a
// user function computes (Watches). On an update both the old and the new
// state are mapped, so a change of owner or label wakes both sides; the work
// queue removes duplicates.
package handler
