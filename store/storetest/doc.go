// Package storetest is the conformance suite every store backend must pass.
package storetest
