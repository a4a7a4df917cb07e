package framework

import (
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
)

// StateKey names one piece of data in a CycleState; plugins use their own
// name (or a name derived from it) to avoid clashes.
type StateKey string

// StateData is data a plugin stores in a CycleState. Clone must return a
// copy that the preemption simulation can change without touching the
// original (data that is never changed may return itself).
type StateData interface {
	Clone() StateData
}

// ErrNotFound is returned by CycleState.Read for a key never written.
var ErrNotFound = fmt.Errorf("not found in cycle state")

// CycleState is the data shared by the plugins during one scheduling cycle
// of one pod. It is safe for concurrent use; writes normally happen in
// PreFilter and PreScore, reads in Filter and Score. Reads take no lock
// (the map is replaced, not changed, on every write), so the thousands of
// reads of one cycle across cores never contend.
type CycleState struct {
	mu sync.Mutex // serializes writers
	m  atomic.Pointer[map[StateKey]StateData]
	// skipFilter holds the plugins that returned Skip from PreFilter, and
	// filters the Filter plugins left to run; written only by the framework
	// between phases.
	skipFilter map[string]bool
	filters    []FilterPlugin
	filtersSet bool

	restrict       map[*NodeInfo]struct{} // intersection of RestrictNodes calls
	restrictList   []*NodeInfo
	restrictStatus *Status
	restricted     bool
}

// RestrictNodes records, from PreFilter, that only nodes can pass the
// calling plugin's Filter, and the status every other node gets. The
// scheduler then filters only the intersection of all restrictions, which
// saves work when a plugin already knows most nodes are out (a topology
// spread constraint that allows few zones, for example). Not safe to call
// concurrently with itself.
func (c *CycleState) RestrictNodes(nodes []*NodeInfo, others *Status) {
	if !c.restricted {
		c.restricted = true
		c.restrictList = nodes
		c.restrictStatus = others
		return
	}
	if c.restrict == nil {
		c.restrict = make(map[*NodeInfo]struct{}, len(c.restrictList))
		for _, n := range c.restrictList {
			c.restrict[n] = struct{}{}
		}
	}
	keep := make(map[*NodeInfo]struct{})
	var list []*NodeInfo
	for _, n := range nodes {
		if _, ok := c.restrict[n]; ok {
			keep[n] = struct{}{}
			list = append(list, n)
		}
	}
	c.restrict, c.restrictList = keep, list
}

// NodeRestriction returns the nodes PreFilter restricted the cycle to and
// the status of the others; ok is false without a restriction.
func (c *CycleState) NodeRestriction() (nodes []*NodeInfo, others *Status, ok bool) {
	return c.restrictList, c.restrictStatus, c.restricted
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState {
	return &CycleState{}
}

func (c *CycleState) load() map[StateKey]StateData {
	if p := c.m.Load(); p != nil {
		return *p
	}
	return nil
}

// Read returns the data under key, or an error wrapping ErrNotFound.
func (c *CycleState) Read(key StateKey) (StateData, error) {
	if v, ok := c.load()[key]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
}

// Write stores data under key.
func (c *CycleState) Write(key StateKey, data StateData) {
	c.mu.Lock()
	m := maps.Clone(c.load())
	if m == nil {
		m = make(map[StateKey]StateData, 4)
	}
	m[key] = data
	c.m.Store(&m)
	c.mu.Unlock()
}

// Delete removes key.
func (c *CycleState) Delete(key StateKey) {
	c.mu.Lock()
	m := maps.Clone(c.load())
	delete(m, key)
	c.m.Store(&m)
	c.mu.Unlock()
}

// Clone returns a state whose data are clones of c's.
func (c *CycleState) Clone() *CycleState {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &CycleState{skipFilter: c.skipFilter, filters: c.filters, filtersSet: c.filtersSet}
	src := c.load()
	m := make(map[StateKey]StateData, len(src))
	for k, v := range src {
		m[k] = v.Clone()
	}
	out.m.Store(&m)
	return out
}

// ReadAs reads key and asserts its type.
func ReadAs[T StateData](c *CycleState, key StateKey) (T, error) {
	var zero T
	v, err := c.Read(key)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("%s: state has type %T, want %T", key, v, zero)
	}
	return t, nil
}
