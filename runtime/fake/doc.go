// Package fake is an in-memory runtime.Runtime for tests.
package fake
