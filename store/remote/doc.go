// Package remote serves a Store over HTTP and provides a client that is a Store.
package remote
