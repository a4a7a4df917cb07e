// Package predicate filters the changes that wake a controller, before they
// reach its work queue. Objects passed to predicates are shared informer
// cache objects and must not be modified.
package predicate
