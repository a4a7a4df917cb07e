// Package cache keeps the scheduler's node state: every Node and the pods
// assigned or assumed to it, summed per node. It is fed by watches (adds,
// updates, deletes) and by the scheduler's own decisions (AssumePod before
// binding, ForgetPod when binding fails); an assumed pod counts until the
// watch shows it bound. UpdateSnapshot copies only the nodes changed since
// the previous snapshot.
package cache

import (
	"fmt"
	"sort"
	"sync"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

type podState struct {
	info    *framework.PodInfo
	node    string
	assumed bool
}

// Cache is the node-state cache. All methods are safe for concurrent use.
type Cache struct {
	mu         sync.Mutex
	nodes      map[string]*framework.NodeInfo
	pods       map[string]*podState // by pod uid (or namespace/name)
	generation int64
	dirty      map[string]struct{}
	listDirty  bool
}

// New returns an empty cache.
func New() *Cache {
	return &Cache{
		nodes: make(map[string]*framework.NodeInfo),
		pods:  make(map[string]*podState),
		dirty: make(map[string]struct{}),
	}
}

func podID(pod *api.Pod) string {
	if uid := pod.GetMetadata().GetUid(); uid != "" {
		return uid
	}
	return framework.PodKey(pod)
}

func (c *Cache) touch(name string) {
	c.generation++
	if n := c.nodes[name]; n != nil {
		n.Generation = c.generation
	}
	c.dirty[name] = struct{}{}
}

func (c *Cache) nodeInfo(name string) *framework.NodeInfo {
	n := c.nodes[name]
	if n == nil {
		n = framework.NewNodeInfo(nil)
		c.nodes[name] = n
	}
	return n
}

// AddNode adds or replaces a Node.
func (c *Cache) AddNode(node *api.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := node.GetMetadata().GetName()
	n := c.nodeInfo(name)
	if n.Node() == nil {
		c.listDirty = true
	}
	n.SetNode(node)
	c.touch(name)
}

// RemoveNode removes a Node. Pods still assigned to it stay counted until
// they are deleted, so that a node coming back sees them.
func (c *Cache) RemoveNode(node *api.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := node.GetMetadata().GetName()
	n := c.nodes[name]
	if n == nil {
		return
	}
	c.listDirty = true
	if len(n.Pods) == 0 {
		delete(c.nodes, name)
	} else {
		n.SetNode(nil)
	}
	c.touch(name)
}

// AssumePod counts the pod on node before its binding is observed. The pod
// object is kept as is (its spec.nodeName may still be empty).
func (c *Cache) AssumePod(pi *framework.PodInfo, node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := podID(pi.Pod)
	if _, ok := c.pods[id]; ok {
		return fmt.Errorf("pod %s is already in the cache", pi.Key())
	}
	c.pods[id] = &podState{info: pi, node: node, assumed: true}
	c.nodeInfo(node).AddPod(pi)
	c.touch(node)
	return nil
}

// ForgetPod drops an assumed pod whose binding failed.
func (c *Cache) ForgetPod(pod *api.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := podID(pod)
	ps, ok := c.pods[id]
	if !ok || !ps.assumed {
		return
	}
	c.removeLocked(id, ps)
}

func (c *Cache) removeLocked(id string, ps *podState) {
	delete(c.pods, id)
	if n := c.nodes[ps.node]; n != nil {
		n.RemovePod(ps.info.Pod)
		c.touch(ps.node)
		if n.Node() == nil && len(n.Pods) == 0 {
			delete(c.nodes, ps.node)
		}
	}
}

// IsAssumed reports whether pod is assumed and not yet observed bound.
func (c *Cache) IsAssumed(pod *api.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[podID(pod)]
	return ok && ps.assumed
}

// AddPod records an assigned pod seen by the watch, confirming an assumed one.
func (c *Cache) AddPod(pod *api.Pod) { c.setPod(pod) }

// UpdatePod records a change to an assigned pod.
func (c *Cache) UpdatePod(pod *api.Pod) { c.setPod(pod) }

func (c *Cache) setPod(pod *api.Pod) {
	id := podID(pod)
	node := pod.GetSpec().GetNodeName()
	c.mu.Lock()
	ps, ok := c.pods[id]
	if ok && ps.node == node && ps.assumed {
		// Binding observed: keep the assumed info, which has the same spec
		// and labels; PodInfos are shared with snapshots and never changed
		// in place. Later updates replace it.
		ps.assumed = false
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	pi := framework.NewPodInfo(pod) // parse outside the lock
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[id]; ok {
		c.removeLocked(id, ps)
	}
	c.pods[id] = &podState{info: pi, node: node}
	c.nodeInfo(node).AddPod(pi)
	c.touch(node)
}

// RemovePod drops a deleted pod.
func (c *Cache) RemovePod(pod *api.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := podID(pod)
	if ps, ok := c.pods[id]; ok {
		c.removeLocked(id, ps)
	}
}

// NodeCount returns the number of known Nodes.
func (c *Cache) NodeCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ni := range c.nodes {
		if ni.Node() != nil {
			n++
		}
	}
	return n
}

// PodCount returns the number of pods in the cache (assumed included).
func (c *Cache) PodCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pods)
}

// UpdateSnapshot brings s up to date, cloning only nodes changed since the
// last call. The same Snapshot must be passed every time.
func (c *Cache) UpdateSnapshot(s *framework.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.Nodes == nil {
		s.Nodes = make(map[string]*framework.NodeInfo)
	}
	if s.Generation == c.generation {
		return
	}
	for name := range c.dirty {
		old := s.Nodes[name]
		n, ok := c.nodes[name]
		if !ok || n.Node() == nil {
			if old != nil {
				s.UnindexNode(old)
				delete(s.Nodes, name)
			}
			continue
		}
		clone := n.Clone()
		if old != nil {
			s.UnindexNode(old)
			if old.Node() != clone.Node() {
				s.InvalidateDomains()
			}
			// Replace in place so NodeList and the index keep pointing at
			// the current info.
			*old = *clone
			s.IndexNode(old)
			continue
		}
		s.Nodes[name] = clone
		s.IndexNode(clone)
		c.listDirty = true
	}
	clear(c.dirty)
	if c.listDirty {
		s.NodeList = s.NodeList[:0]
		for _, n := range s.Nodes {
			s.NodeList = append(s.NodeList, n)
		}
		sort.Slice(s.NodeList, func(i, j int) bool { return s.NodeList[i].Name() < s.NodeList[j].Name() })
		c.listDirty = false
		s.InvalidateDomains()
	}
	s.Generation = c.generation
}
