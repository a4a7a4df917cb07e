// Package e2e holds the root-only test that runs the network pieces together
// on two "nodes", each a network namespace on a shared test bridge: CNI pod
// networking, host-gw routes, the service proxy and cluster DNS. It has no
// non-test code.
package e2e
