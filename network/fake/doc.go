// Package fake is an in-memory network.PodNetwork for tests: it allocates
// pod addresses from a CIDR and keeps real bookkeeping (set-up sandboxes,
// their addresses, host ports), with hooks to inject errors. It passes the
// same conformance suite (network/networktest) as network/cni.
//
// Limits: nothing is configured in the kernel, so no traffic flows; the
// sandbox's NetNS path is recorded but not checked.
package fake
