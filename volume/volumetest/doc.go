// Package volumetest is the conformance suite every volume plugin passes.
//
// Run drives one Mounter through set-up, idempotent set-up, content checks,
// update (for Updaters), tear-down (which must leave no directory and no
// mount behind, and must not touch data outside the volume directory) and
// the registry's pod-level entry points. Mounting plugins need root; the
// suite itself does not.
package volumetest
