// Package routes keeps host-gw routes between nodes: on each node, a route to
// every other node's pod CIDR via that node's InternalIP, kept in sync from
// Node objects by watch. It is the default network.RouteManager; an overlay
// or SDN replaces it by implementing that interface.
//
// Routes are tagged with a routing protocol number (DefaultProtocol) so the
// manager knows which routes are its own: it removes its stale routes and
// never touches others'. The nodes must share a layer-2 segment (the
// gateway must be directly reachable), as host-gw requires.
package routes
