// Package alloc holds the network allocators of the control plane: pod CIDRs
// for nodes (CIDRAllocator), cluster IPs for services (IPAllocator) and node
// ports (PortAllocator).
//
// The allocators are pure in-memory bitmaps. They are deterministic (a fresh
// allocator hands out the lowest free value first, then continues after the
// last one it gave, so a just-released value is not reused at once) and can
// be rebuilt from existing objects with Occupy, so a controller that restarts
// rebuilds its state from the store and carries on. AssignPodCIDRs and
// AssignServices are that reconcile logic over a store.Store: they rebuild an
// allocator from every object, then fill in what is missing.
//
// Allocators are safe for concurrent use.
package alloc
