package framework

// Snapshot is an immutable-per-cycle view of every node, implementing
// NodeInfoLister. The scheduler's cache refreshes it incrementally before
// each cycle (only nodes whose generation changed are copied), so plugins
// read it without locks.
type Snapshot struct {
	// Nodes maps names to infos; List holds the same infos in a stable order.
	Nodes map[string]*NodeInfo
	// NodeList is every node with a Node object, in a stable order.
	NodeList []*NodeInfo
	// AffinityList and AntiAffinityList are the nodes with pods that have
	// (anti-)affinity terms.
	AffinityList     []*NodeInfo
	AntiAffinityList []*NodeInfo
	// Generation is the cache generation the snapshot reflects.
	Generation int64

	index podIndex
}

// NewSnapshot builds a snapshot from node infos (used by tests and by
// plugins' own tools; the scheduler's cache maintains its own).
func NewSnapshot(nodes ...*NodeInfo) *Snapshot {
	s := &Snapshot{Nodes: make(map[string]*NodeInfo, len(nodes))}
	for _, n := range nodes {
		s.Nodes[n.Name()] = n
		s.NodeList = append(s.NodeList, n)
		s.IndexNode(n)
	}
	return s
}

// List returns the NodeInfo of every node with a Node object, in a stable
// order. The slice is the snapshot's NodeList itself; callers must not
// modify it.
func (s *Snapshot) List() []*NodeInfo { return s.NodeList }

// Get returns the named node or nil.
func (s *Snapshot) Get(name string) *NodeInfo {
	n := s.Nodes[name]
	if n == nil || n.Node() == nil {
		return nil
	}
	return n
}

// HavePodsWithAffinity returns the nodes with pods that have affinity terms.
func (s *Snapshot) HavePodsWithAffinity() []*NodeInfo { return s.AffinityList }

// HavePodsWithRequiredAntiAffinity returns the nodes with pods that have
// required anti-affinity terms.
func (s *Snapshot) HavePodsWithRequiredAntiAffinity() []*NodeInfo { return s.AntiAffinityList }

var _ NodeInfoLister = (*Snapshot)(nil)
