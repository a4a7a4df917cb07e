// Package memstore is the in-memory MVCC store backend.
package memstore
