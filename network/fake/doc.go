// Package fake is an in-memory pod network for tests.
package fake
