package framework

import "sync"

// PodLabelIndex is implemented by snapshots that index pods, so affinity
// and spreading plugins can count matching pods in time proportional to the
// matches instead of to every pod in the cluster. Plugins use it when the
// lister implements it and fall back to walking nodes otherwise. Results
// are read-only.
type PodLabelIndex interface {
	// PodsWithLabel returns, per node, how many pods have the label.
	PodsWithLabel(k LabelKey) map[*NodeInfo]int32
	// AntiAffinitySelecting returns, per topology key and node, how many
	// indexable required anti-affinity terms of pods on the node select
	// pods with the label (see AffinityTerm.IndexKey).
	AntiAffinitySelecting(k LabelKey) map[string]map[*NodeInfo]int32
	// NodesWithUnindexedAntiAffinity returns the nodes holding pods with
	// required anti-affinity terms that IndexKey cannot express.
	NodesWithUnindexedAntiAffinity() map[*NodeInfo]int32
	// PodsWithPreferredAffinity returns how many pods have preferred pod
	// (anti-)affinity terms.
	PodsWithPreferredAffinity() int
	// TopologyDomains returns the nodes that carry each value of a node
	// label key, each list in the snapshot's node order.
	TopologyDomains(key string) map[string][]*NodeInfo
}

type podIndex struct {
	byLabel   map[LabelKey]map[*NodeInfo]int32
	antiByKey map[LabelKey]map[string]map[*NodeInfo]int32
	slowAnti  map[*NodeInfo]int32
	// positions of nodes in Snapshot.AffinityList and AntiAffinityList
	affPos, antiPos map[*NodeInfo]int
	preferredPods   int // pods with preferred (anti-)affinity terms
	domainsMu       sync.Mutex
	domains         map[string]map[string][]*NodeInfo
}

func addCount(m map[*NodeInfo]int32, n *NodeInfo, d int32) {
	if c := m[n] + d; c == 0 {
		delete(m, n)
	} else {
		m[n] = c
	}
}

// indexNode adds (delta 1) or removes (delta -1) n's pods from the index.
func (s *Snapshot) indexNode(n *NodeInfo, delta int32) {
	ix := &s.index
	if ix.byLabel == nil {
		ix.byLabel = make(map[LabelKey]map[*NodeInfo]int32)
		ix.antiByKey = make(map[LabelKey]map[string]map[*NodeInfo]int32)
		ix.slowAnti = make(map[*NodeInfo]int32)
		ix.affPos = make(map[*NodeInfo]int)
		ix.antiPos = make(map[*NodeInfo]int)
	}
	if len(n.PodsWithAffinity) > 0 {
		s.AffinityList = listMember(s.AffinityList, ix.affPos, n, delta > 0)
	}
	if len(n.PodsWithRequiredAntiAffinity) > 0 {
		s.AntiAffinityList = listMember(s.AntiAffinityList, ix.antiPos, n, delta > 0)
	}
	for _, p := range n.PodsWithAffinity {
		if len(p.PreferredAffinityTerms)+len(p.PreferredAntiAffinityTerms) > 0 {
			ix.preferredPods += int(delta)
		}
	}
	for _, p := range n.Pods {
		m := p.Pod.GetMetadata()
		ns := m.GetNamespace()
		for k, v := range m.GetLabels() {
			lk := LabelKey{ns, k, v}
			nodes := ix.byLabel[lk]
			if nodes == nil {
				nodes = make(map[*NodeInfo]int32)
				ix.byLabel[lk] = nodes
			}
			addCount(nodes, n, delta)
			if len(nodes) == 0 {
				delete(ix.byLabel, lk)
			}
		}
		slow := false
		for i := range p.RequiredAntiAffinityTerms {
			t := &p.RequiredAntiAffinityTerms[i]
			lk, ok := t.IndexKey()
			if !ok {
				slow = true
				continue
			}
			byTopo := ix.antiByKey[lk]
			if byTopo == nil {
				byTopo = make(map[string]map[*NodeInfo]int32)
				ix.antiByKey[lk] = byTopo
			}
			nodes := byTopo[t.TopologyKey]
			if nodes == nil {
				nodes = make(map[*NodeInfo]int32)
				byTopo[t.TopologyKey] = nodes
			}
			addCount(nodes, n, delta)
			if len(nodes) == 0 {
				delete(byTopo, t.TopologyKey)
				if len(byTopo) == 0 {
					delete(ix.antiByKey, lk)
				}
			}
		}
		if slow {
			addCount(ix.slowAnti, n, delta)
		}
	}
}

// listMember adds n to or removes it from list, keeping pos (n's index in
// list) current; removal swaps the last element in, so it is O(1).
func listMember(list []*NodeInfo, pos map[*NodeInfo]int, n *NodeInfo, in bool) []*NodeInfo {
	i, ok := pos[n]
	switch {
	case in && !ok:
		pos[n] = len(list)
		return append(list, n)
	case !in && ok:
		last := len(list) - 1
		list[i] = list[last]
		pos[list[i]] = i
		list[last] = nil
		delete(pos, n)
		return list[:last]
	}
	return list
}

// PodsWithPreferredAffinity implements PodLabelIndex.
func (s *Snapshot) PodsWithPreferredAffinity() int { return s.index.preferredPods }

// InvalidateDomains drops the cached TopologyDomains after node labels or
// the node list changed.
func (s *Snapshot) InvalidateDomains() {
	s.index.domainsMu.Lock()
	s.index.domains = nil
	s.index.domainsMu.Unlock()
}

// UnindexNode removes n's pods from the snapshot's pod index; call it before
// changing n in place, and IndexNode after.
func (s *Snapshot) UnindexNode(n *NodeInfo) { s.indexNode(n, -1) }

// IndexNode adds n's pods to the snapshot's pod index.
func (s *Snapshot) IndexNode(n *NodeInfo) { s.indexNode(n, 1) }

// PodsWithLabel implements PodLabelIndex.
func (s *Snapshot) PodsWithLabel(k LabelKey) map[*NodeInfo]int32 { return s.index.byLabel[k] }

// AntiAffinitySelecting implements PodLabelIndex.
func (s *Snapshot) AntiAffinitySelecting(k LabelKey) map[string]map[*NodeInfo]int32 {
	return s.index.antiByKey[k]
}

// NodesWithUnindexedAntiAffinity implements PodLabelIndex.
func (s *Snapshot) NodesWithUnindexedAntiAffinity() map[*NodeInfo]int32 { return s.index.slowAnti }

// TopologyDomains implements PodLabelIndex.
func (s *Snapshot) TopologyDomains(key string) map[string][]*NodeInfo {
	ix := &s.index
	ix.domainsMu.Lock()
	defer ix.domainsMu.Unlock()
	if d, ok := ix.domains[key]; ok {
		return d
	}
	d := make(map[string][]*NodeInfo)
	for _, n := range s.NodeList {
		if v, ok := n.NodeLabels[key]; ok {
			d[v] = append(d[v], n)
		}
	}
	if ix.domains == nil {
		ix.domains = make(map[string]map[string][]*NodeInfo)
	}
	ix.domains[key] = d
	return d
}

var _ PodLabelIndex = (*Snapshot)(nil)
