// Package testenv starts a whole control plane with fake nodes in memory, for
// tests of controllers and of programs embedding Coxswain.
package testenv
