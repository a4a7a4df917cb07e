package framework

import (
	"fmt"
	"maps"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/api/resource"
)

// Default requests used by scoring (not by fitting) for containers that
// request nothing, so that best-effort pods still spread.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of each resource: cpu in milli-units, memory and
// ephemeral storage in bytes, a pod count, and extended resources (any other
// name, such as example.com/gpu) in whole units.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	AllowedPodNumber int64
	Scalar           map[string]int64
}

// ResourceFromList converts quantities into a Resource.
func ResourceFromList(l resource.List) Resource {
	var r Resource
	for name, q := range l {
		r.set(name, q)
	}
	return r
}

func (r *Resource) set(name string, q resource.Quantity) {
	switch name {
	case resource.CPU:
		r.MilliCPU = q.MilliValue()
	case resource.Memory:
		r.Memory = q.Value()
	case resource.EphemeralStorage:
		r.EphemeralStorage = q.Value()
	case resource.Pods:
		r.AllowedPodNumber = q.Value()
	default:
		if r.Scalar == nil {
			r.Scalar = make(map[string]int64)
		}
		r.Scalar[name] = q.Value()
	}
}

// quantityCache remembers parsed quantities: the same few strings ("100m",
// "512Mi") recur in every pod, and exact parsing allocates. Quantities are
// immutable, so sharing them is safe. The cache stops growing at
// maxCachedQuantities entries.
var (
	quantityCache   sync.Map // string -> resource.Quantity
	quantityEntries atomic.Int64
)

const maxCachedQuantities = 4096

func parseQuantity(s string) (resource.Quantity, error) {
	if q, ok := quantityCache.Load(s); ok {
		return q.(resource.Quantity), nil
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return q, err
	}
	if quantityEntries.Load() < maxCachedQuantities {
		if _, loaded := quantityCache.LoadOrStore(s, q); !loaded {
			quantityEntries.Add(1)
		}
	}
	return q, nil
}

// Add adds o to r.
func (r *Resource) Add(o Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.AllowedPodNumber += o.AllowedPodNumber
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = make(map[string]int64)
		}
		r.Scalar[k] += v
	}
}

// Sub subtracts o from r.
func (r *Resource) Sub(o Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.AllowedPodNumber -= o.AllowedPodNumber
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = make(map[string]int64)
		}
		r.Scalar[k] -= v
	}
}

// SetMax raises each of r's amounts to at least o's.
func (r *Resource) SetMax(o Resource) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	r.AllowedPodNumber = max(r.AllowedPodNumber, o.AllowedPodNumber)
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = make(map[string]int64)
		}
		r.Scalar[k] = max(r.Scalar[k], v)
	}
}

// Clone returns a deep copy.
func (r Resource) Clone() Resource {
	r.Scalar = maps.Clone(r.Scalar)
	return r
}

// Get returns the amount of the named resource in its Resource unit.
func (r Resource) Get(name string) int64 {
	switch name {
	case resource.CPU:
		return r.MilliCPU
	case resource.Memory:
		return r.Memory
	case resource.EphemeralStorage:
		return r.EphemeralStorage
	case resource.Pods:
		return r.AllowedPodNumber
	}
	return r.Scalar[name]
}

// AffinityTerm is a parsed PodAffinityTerm: pods matching Selector in
// Namespaces (or in namespaces matching NamespaceSelector) form the set
// that the term counts per TopologyKey domain.
type AffinityTerm struct {
	Namespaces        map[string]struct{}
	Selector          labels.Selector
	TopologyKey       string
	NamespaceSelector labels.Selector

	fast     PodSelector
	singleNS string // the only namespace, when there is exactly one and no selector
	anyNS    bool   // an empty namespace selector: every namespace
}

// PodSelector is a compiled label selector that matches plain matchLabels
// selectors with direct map lookups (the common case, and the hot path of
// affinity and spreading) and anything else through labels.Selector.
type PodSelector struct {
	sel    labels.Selector
	pairs  [][2]string
	simple bool
}

// CompileSelector compiles ls; nil selects nothing, empty selects everything.
func CompileSelector(ls *api.LabelSelector) (PodSelector, error) {
	sel, err := labels.FromLabelSelector(ls)
	if err != nil {
		return PodSelector{}, err
	}
	ps := PodSelector{sel: sel}
	if ls != nil && len(ls.GetMatchExpressions()) == 0 {
		ps.simple = true
		for k, v := range ls.GetMatchLabels() {
			ps.pairs = append(ps.pairs, [2]string{k, v})
		}
		sort.Slice(ps.pairs, func(i, j int) bool { return ps.pairs[i][0] < ps.pairs[j][0] })
	}
	return ps, nil
}

// Matches reports whether the labels are selected.
func (s *PodSelector) Matches(l map[string]string) bool {
	if s.simple {
		for _, p := range s.pairs {
			if v, ok := l[p[0]]; !ok || v != p[1] {
				return false
			}
		}
		return true
	}
	if s.sel == nil {
		return false
	}
	return s.sel.Matches(labels.Set(l))
}

// Selector returns the selector in labels form.
func (s *PodSelector) Selector() labels.Selector { return s.sel }

// Matches reports whether pod is selected by the term. Namespace selectors
// are matched against the namespace name only through Namespaces (the
// framework has no namespace objects); an empty namespace selector matches
// every namespace.
func (t *AffinityTerm) Matches(pod *api.Pod) bool {
	m := pod.GetMetadata()
	switch {
	case t.anyNS:
	case t.singleNS != "":
		if m.GetNamespace() != t.singleNS {
			return false
		}
	default:
		if _, ok := t.Namespaces[m.GetNamespace()]; !ok {
			return false
		}
	}
	return t.fast.Matches(m.GetLabels())
}

// WeightedAffinityTerm is a preferred term and its weight.
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int32
}

// PodInfo is a pod with everything the plugins need precomputed once: its
// requests and its parsed affinity terms.
type PodInfo struct {
	Pod *api.Pod
	// Requests is what the pod needs to fit: the sum of its containers'
	// requests, raised to the largest init container's, with one pod slot.
	Requests Resource
	// NonZeroRequests is Requests with defaults for containers that request
	// no cpu or memory; scoring uses it.
	NonZeroRequests            Resource
	RequiredAffinityTerms      []AffinityTerm
	RequiredAntiAffinityTerms  []AffinityTerm
	PreferredAffinityTerms     []WeightedAffinityTerm
	PreferredAntiAffinityTerms []WeightedAffinityTerm
	// ParseError is set when the pod's quantities or selectors are malformed;
	// the pod is then unschedulable.
	ParseError error
}

// NewPodInfo computes a PodInfo for pod (which it keeps, not copies).
func NewPodInfo(pod *api.Pod) *PodInfo {
	pi := &PodInfo{Pod: pod}
	spec := pod.GetSpec()
	var errs []error
	sum := func(cs []*api.Container, nonZero bool) Resource {
		var total Resource
		for _, c := range cs {
			reqs := c.GetResources().GetRequests()
			var r Resource
			for name, str := range reqs {
				q, err := parseQuantity(str)
				if err != nil {
					errs = append(errs, fmt.Errorf("container %s: %s: %w", c.GetName(), name, err))
					continue
				}
				r.set(name, q)
			}
			if nonZero {
				if _, ok := reqs[resource.CPU]; !ok {
					r.MilliCPU = DefaultMilliCPURequest
				}
				if _, ok := reqs[resource.Memory]; !ok {
					r.Memory = DefaultMemoryRequest
				}
			}
			total.Add(r)
		}
		return total
	}
	pi.Requests = sum(spec.GetContainers(), false)
	pi.NonZeroRequests = sum(spec.GetContainers(), true)
	for _, ic := range spec.GetInitContainers() {
		one := sum([]*api.Container{ic}, false)
		pi.Requests.SetMax(one)
		pi.NonZeroRequests.SetMax(one)
	}
	pi.Requests.AllowedPodNumber = 1
	pi.NonZeroRequests.AllowedPodNumber = 1
	aff := spec.GetAffinity()
	ns := pod.GetMetadata().GetNamespace()
	var err error
	if pi.RequiredAffinityTerms, err = affinityTerms(ns, aff.GetPodAffinity().GetRequiredDuringSchedulingIgnoredDuringExecution()); err != nil {
		errs = append(errs, err)
	}
	if pi.RequiredAntiAffinityTerms, err = affinityTerms(ns, aff.GetPodAntiAffinity().GetRequiredDuringSchedulingIgnoredDuringExecution()); err != nil {
		errs = append(errs, err)
	}
	if pi.PreferredAffinityTerms, err = weightedTerms(ns, aff.GetPodAffinity().GetPreferredDuringSchedulingIgnoredDuringExecution()); err != nil {
		errs = append(errs, err)
	}
	if pi.PreferredAntiAffinityTerms, err = weightedTerms(ns, aff.GetPodAntiAffinity().GetPreferredDuringSchedulingIgnoredDuringExecution()); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		pi.ParseError = fmt.Errorf("pod %s/%s: %v", ns, pod.GetMetadata().GetName(), errs)
	}
	return pi
}

// NewAffinityTerm parses one PodAffinityTerm of a pod in namespace ns.
func NewAffinityTerm(ns string, t *api.PodAffinityTerm) (AffinityTerm, error) {
	fast, err := CompileSelector(t.GetLabelSelector())
	if err != nil {
		return AffinityTerm{}, err
	}
	at := AffinityTerm{Selector: fast.sel, fast: fast, TopologyKey: t.GetTopologyKey(), Namespaces: map[string]struct{}{}}
	if t.GetNamespaceSelector() != nil {
		nsSel, err := labels.FromLabelSelector(t.GetNamespaceSelector())
		if err != nil {
			return AffinityTerm{}, err
		}
		at.NamespaceSelector = nsSel
	}
	for _, n := range t.GetNamespaces() {
		at.Namespaces[n] = struct{}{}
	}
	if len(t.GetNamespaces()) == 0 && t.GetNamespaceSelector() == nil {
		at.Namespaces[ns] = struct{}{}
	}
	at.anyNS = at.NamespaceSelector != nil && at.NamespaceSelector.Empty()
	if len(at.Namespaces) == 1 && !at.anyNS {
		for n := range at.Namespaces {
			at.singleNS = n
		}
	}
	return at, nil
}

func affinityTerms(ns string, terms []*api.PodAffinityTerm) ([]AffinityTerm, error) {
	var out []AffinityTerm
	for _, t := range terms {
		at, err := NewAffinityTerm(ns, t)
		if err != nil {
			return nil, err
		}
		out = append(out, at)
	}
	return out, nil
}

func weightedTerms(ns string, terms []*api.WeightedPodAffinityTerm) ([]WeightedAffinityTerm, error) {
	var out []WeightedAffinityTerm
	for _, t := range terms {
		at, err := NewAffinityTerm(ns, t.GetPodAffinityTerm())
		if err != nil {
			return nil, err
		}
		out = append(out, WeightedAffinityTerm{AffinityTerm: at, Weight: t.GetWeight()})
	}
	return out, nil
}

// HasAffinity reports whether the pod has any pod affinity or anti-affinity term.
func (p *PodInfo) HasAffinity() bool {
	return len(p.RequiredAffinityTerms)+len(p.RequiredAntiAffinityTerms)+len(p.PreferredAffinityTerms)+len(p.PreferredAntiAffinityTerms) > 0
}

// Key returns the pod's namespace/name.
func (p *PodInfo) Key() string { return PodKey(p.Pod) }

// PodKey returns namespace/name.
func PodKey(pod *api.Pod) string {
	return pod.GetMetadata().GetNamespace() + "/" + pod.GetMetadata().GetName()
}

// HostPort is one host port a pod uses.
type HostPort struct {
	IP       string // "" or "0.0.0.0" means every address
	Protocol string // TCP (default), UDP or SCTP
	Port     int32
}

// PodHostPorts returns the host ports the pod's containers ask for.
func PodHostPorts(pod *api.Pod) []HostPort {
	var out []HostPort
	for _, c := range pod.GetSpec().GetContainers() {
		for _, p := range c.GetPorts() {
			if p.GetHostPort() <= 0 {
				continue
			}
			proto := p.GetProtocol()
			if proto == "" {
				proto = "TCP"
			}
			ip := p.GetHostIp()
			if ip == "0.0.0.0" {
				ip = ""
			}
			out = append(out, HostPort{IP: ip, Protocol: proto, Port: p.GetHostPort()})
		}
	}
	return out
}

// Conflicts reports whether two host ports cannot both be bound.
func (h HostPort) Conflicts(o HostPort) bool {
	return h.Port == o.Port && h.Protocol == o.Protocol && (h.IP == "" || o.IP == "" || h.IP == o.IP)
}

// NodeInfo is the scheduler's view of one node: the Node object and the pods
// assigned (or assumed) to it, with their requests summed. NodeInfos in a
// Snapshot are read-only for plugins; the preemption simulation works on
// clones.
type NodeInfo struct {
	node *api.Node
	name string
	// Unschedulable, Taints and NodeLabels mirror the Node's fields, kept
	// inline because every Filter reads them for thousands of nodes.
	Unschedulable bool
	Taints        []*api.Taint
	NodeLabels    map[string]string
	// Pods on the node, including assumed ones (whose object may not show
	// spec.nodeName yet).
	Pods []*PodInfo
	// PodsWithAffinity are the pods with any pod (anti-)affinity term.
	PodsWithAffinity []*PodInfo
	// PodsWithRequiredAntiAffinity are the pods with a required anti-affinity term.
	PodsWithRequiredAntiAffinity []*PodInfo
	// UsedPorts are the host ports the pods use.
	UsedPorts []HostPort
	// Requested is the sum of the pods' Requests.
	Requested Resource
	// NonZeroRequested is the sum of the pods' NonZeroRequests.
	NonZeroRequested Resource
	// Allocatable is what the node offers (status.allocatable, or capacity).
	Allocatable Resource
	// Generation changes on every change to this NodeInfo.
	Generation int64
}

// NewNodeInfo returns a NodeInfo for node (which may be nil while only pods
// are known) holding pods.
func NewNodeInfo(node *api.Node, pods ...*PodInfo) *NodeInfo {
	ni := &NodeInfo{}
	ni.SetNode(node)
	for _, p := range pods {
		ni.AddPod(p)
	}
	return ni
}

// Node returns the Node object (nil if the node is not known yet).
func (n *NodeInfo) Node() *api.Node { return n.node }

// Name returns the node's name.
func (n *NodeInfo) Name() string { return n.name }

// Labels returns the node's labels.
func (n *NodeInfo) Labels() labels.Set { return labels.Set(n.NodeLabels) }

// SetNode sets the Node object and recomputes Allocatable. Malformed
// quantities count as zero.
func (n *NodeInfo) SetNode(node *api.Node) {
	n.node = node
	n.name = node.GetMetadata().GetName()
	n.Unschedulable = node.GetSpec().GetUnschedulable()
	n.Taints = node.GetSpec().GetTaints()
	n.NodeLabels = node.GetMetadata().GetLabels()
	src := node.GetStatus().GetAllocatable()
	if len(src) == 0 {
		src = node.GetStatus().GetCapacity()
	}
	n.Allocatable = Resource{}
	for name, s := range src {
		q, err := parseQuantity(s)
		if err != nil {
			continue
		}
		n.Allocatable.set(name, q)
	}
}

// AddPod adds a pod to the node.
func (n *NodeInfo) AddPod(p *PodInfo) {
	n.Pods = append(n.Pods, p)
	if p.HasAffinity() {
		n.PodsWithAffinity = append(n.PodsWithAffinity, p)
	}
	if len(p.RequiredAntiAffinityTerms) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, p)
	}
	n.UsedPorts = append(n.UsedPorts, PodHostPorts(p.Pod)...)
	n.Requested.Add(p.Requests)
	n.NonZeroRequested.Add(p.NonZeroRequests)
}

// RemovePod removes the pod with pod's uid (or, without uid, namespace and
// name). It reports whether the pod was there.
func (n *NodeInfo) RemovePod(pod *api.Pod) bool {
	idx := -1
	for i, p := range n.Pods {
		if samePod(p.Pod, pod) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return false
	}
	p := n.Pods[idx]
	n.Pods = removeAt(n.Pods, idx)
	n.PodsWithAffinity = removePod(n.PodsWithAffinity, pod)
	n.PodsWithRequiredAntiAffinity = removePod(n.PodsWithRequiredAntiAffinity, pod)
	n.Requested.Sub(p.Requests)
	n.NonZeroRequested.Sub(p.NonZeroRequests)
	n.UsedPorts = n.UsedPorts[:0]
	for _, q := range n.Pods {
		n.UsedPorts = append(n.UsedPorts, PodHostPorts(q.Pod)...)
	}
	return true
}

func samePod(a, b *api.Pod) bool {
	ua, ub := a.GetMetadata().GetUid(), b.GetMetadata().GetUid()
	if ua != "" && ub != "" {
		return ua == ub
	}
	return PodKey(a) == PodKey(b)
}

func removeAt(s []*PodInfo, i int) []*PodInfo {
	out := make([]*PodInfo, 0, len(s)-1)
	out = append(out, s[:i]...)
	return append(out, s[i+1:]...)
}

func removePod(s []*PodInfo, pod *api.Pod) []*PodInfo {
	for i, p := range s {
		if samePod(p.Pod, pod) {
			return removeAt(s, i)
		}
	}
	return s
}

// Clone returns a copy whose slices and sums can be changed independently.
// Pods and the Node object are shared (they are read-only).
func (n *NodeInfo) Clone() *NodeInfo {
	return &NodeInfo{
		node:                         n.node,
		name:                         n.name,
		Unschedulable:                n.Unschedulable,
		Taints:                       n.Taints,
		NodeLabels:                   n.NodeLabels,
		Pods:                         append([]*PodInfo(nil), n.Pods...),
		PodsWithAffinity:             append([]*PodInfo(nil), n.PodsWithAffinity...),
		PodsWithRequiredAntiAffinity: append([]*PodInfo(nil), n.PodsWithRequiredAntiAffinity...),
		UsedPorts:                    append([]HostPort(nil), n.UsedPorts...),
		Requested:                    n.Requested.Clone(),
		NonZeroRequested:             n.NonZeroRequested.Clone(),
		Allocatable:                  n.Allocatable.Clone(),
		Generation:                   n.Generation,
	}
}

// String prints the node name and its pods, for debugging.
func (n *NodeInfo) String() string {
	names := make([]string, 0, len(n.Pods))
	for _, p := range n.Pods {
		names = append(names, p.Key())
	}
	sort.Strings(names)
	return fmt.Sprintf("NodeInfo{%s pods=%v}", n.Name(), names)
}

// LabelKey is one label of pods in one namespace.
type LabelKey struct{ Namespace, Key, Value string }

// SinglePair returns the only key and value of a plain one-pair
// matchLabels selector.
func (s *PodSelector) SinglePair() (key, value string, ok bool) {
	if !s.simple || len(s.pairs) != 1 {
		return "", "", false
	}
	return s.pairs[0][0], s.pairs[0][1], true
}

// IndexKey returns the label a term selects when it names one namespace and
// one matchLabels pair, so that a PodLabelIndex can answer for it.
func (t *AffinityTerm) IndexKey() (LabelKey, bool) {
	if t.singleNS == "" {
		return LabelKey{}, false
	}
	k, v, ok := t.fast.SinglePair()
	return LabelKey{Namespace: t.singleNS, Key: k, Value: v}, ok
}
