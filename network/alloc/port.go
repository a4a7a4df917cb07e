package alloc

import (
	"fmt"

	"github.com/coxswain-io/coxswain/store"
)

// DefaultNodePortRange is the node port range Kubernetes uses.
const DefaultNodePortRange = "30000-32767"

// PortAllocator hands out ports from an inclusive range (node ports).
type PortAllocator struct {
	first, last int
	bm          *bitmap
}

// NewPortAllocator returns an allocator over "first-last", e.g. "30000-32767".
func NewPortAllocator(portRange string) (*PortAllocator, error) {
	var first, last int
	if _, err := fmt.Sscanf(portRange, "%d-%d", &first, &last); err != nil {
		return nil, store.Errorf(store.ErrInvalid, "port range %q: want FIRST-LAST", portRange)
	}
	if first < 1 || last > 65535 || first > last {
		return nil, store.Errorf(store.ErrInvalid, "port range %q: out of 1-65535 or reversed", portRange)
	}
	return &PortAllocator{first: first, last: last, bm: newBitmap(last - first + 1)}, nil
}

// Range returns the first and last port.
func (a *PortAllocator) Range() (first, last int) { return a.first, a.last }

// Allocate hands out the next free port, or fails with ErrFull.
func (a *PortAllocator) Allocate() (int, error) {
	off, ok := a.bm.allocateNext()
	if !ok {
		return 0, fmt.Errorf("port range %d-%d: %w", a.first, a.last, ErrFull)
	}
	return a.first + off, nil
}

// Occupy marks port allocated; ErrAllocated if taken, ErrNotInRange if outside.
func (a *PortAllocator) Occupy(port int) error {
	if port < a.first || port > a.last {
		return fmt.Errorf("port %d not in %d-%d: %w", port, a.first, a.last, ErrNotInRange)
	}
	if !a.bm.take(port - a.first) {
		return fmt.Errorf("node port %d: %w", port, ErrAllocated)
	}
	return nil
}

// Release frees port.
func (a *PortAllocator) Release(port int) {
	if port >= a.first && port <= a.last {
		a.bm.release(port - a.first)
	}
}

// Has reports whether port is allocated.
func (a *PortAllocator) Has(port int) bool {
	return port >= a.first && port <= a.last && a.bm.contains(port-a.first)
}

// Free returns how many ports are left.
func (a *PortAllocator) Free() int { return a.bm.free() }
