package proxy

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/coxswain-io/coxswain/api"
)

// Chains this package owns in the nat table. Every chain it creates starts
// with ChainPrefix.
const (
	ChainPrefix      = "CX-"
	ChainServices    = "CX-SERVICES"
	ChainNodePorts   = "CX-NODEPORTS"
	ChainPostrouting = "CX-POSTROUTING"
	ChainMarkMasq    = "CX-MARK-MASQ"
	// ChainReject is the filter-table chain rejecting connections to
	// service ports without a ready endpoint. In a RuleSet it appears under
	// FilterChain(ChainReject).
	ChainReject = "CX-REJECT"
	prefixSvc   = "CX-SVC-"
	prefixSep   = "CX-SEP-"
	prefixExt   = "CX-EXT-"
)

// DefaultMasqueradeMark is the packet mark bit that asks for masquerade.
const DefaultMasqueradeMark = "0x4000"

// DefaultAffinityTimeout is the ClientIP affinity timeout when the service
// does not set one (3 hours, as in Kubernetes).
const DefaultAffinityTimeout = 10800

// Options tune rule generation.
type Options struct {
	// ClusterCIDR is the pod range. Traffic to a cluster IP from outside it
	// is masqueraded. Empty: only hairpin and node-port traffic is.
	ClusterCIDR string
	// MasqueradeAll masquerades all traffic to cluster IPs.
	MasqueradeAll bool
	// MasqueradeMark is the mark bit; empty means DefaultMasqueradeMark.
	MasqueradeMark string
	// NodeName is the node the rules are for. With it, services with
	// externalTrafficPolicy Local send outside traffic (node ports,
	// external and load balancer IPs) only to endpoints on this node,
	// without masquerade, so the client address is kept; without local
	// endpoints that traffic is dropped.
	NodeName string
}

// RuleSet is the content of the chains this package owns: chain name ->
// rules in order, each rule the arguments after "-A CHAIN". Chains are in the
// nat table, except those keyed FilterChain(name), which are in the filter
// table.
type RuleSet struct {
	Chains map[string][]string
}

// NumRules returns the total number of rules.
func (r *RuleSet) NumRules() int {
	n := 0
	for _, rules := range r.Chains {
		n += len(rules)
	}
	return n
}

// filterPrefix marks RuleSet keys of filter-table chains.
const filterPrefix = "filter:"

// FilterChain returns the RuleSet key of a filter-table chain.
func FilterChain(name string) string { return filterPrefix + name }

// tableOf splits a RuleSet key into its table and chain name.
func tableOf(key string) (table, chain string) {
	if strings.HasPrefix(key, filterPrefix) {
		return "filter", key[len(filterPrefix):]
	}
	return "nat", key
}

// unordered reports whether a chain's rules may be edited one by one: its
// rules are mutually exclusive, so their order does not matter. These are
// the chains every service adds rules to.
func unordered(chain string) bool {
	return chain == ChainServices || chain == ChainNodePorts || chain == filterPrefix+ChainReject
}

// ServicePortName identifies one port of a service: "namespace/name:port".
type ServicePortName struct {
	Namespace, Name, Port string
	Protocol              string
}

// String returns "namespace/name:port/protocol".
func (s ServicePortName) String() string {
	return s.Namespace + "/" + s.Name + ":" + s.Port + "/" + s.Protocol
}

func chainName(prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:16]
}

// ServiceChain returns the name of a service port's chain.
func ServiceChain(sp ServicePortName) string { return chainName(prefixSvc, sp.String()) }

// EndpointChain returns the name of the chain of a service port's endpoint
// in slot i (endpoints sorted by address). Chains are named by slot, not by
// address, so a changed endpoint rewrites an existing chain instead of
// creating one and deleting another: on nf_tables that keeps an update to a
// few small chain rewrites however large the table is.
func EndpointChain(sp ServicePortName, slot int) string {
	return chainName(prefixSep, sp.String())[:len(prefixSep)+14] + "-" + strconv.Itoa(slot)
}

func externalChain(sp ServicePortName) string { return chainName(prefixExt, sp.String()) }

// Endpoint is one ready backend of a service port.
type Endpoint struct {
	IP   netip.Addr
	Port int32
	// NodeName is the endpoint's node, if known.
	NodeName string
}

// String returns ip:port.
func (e Endpoint) String() string { return netip.AddrPortFrom(e.IP, uint16(e.Port)).String() }

// ReadyEndpoints returns the ready backends of the service port named
// portName in eps (ports match by name; a service with one unnamed port
// matches an endpoint port with an empty name), sorted.
func ReadyEndpoints(eps *api.Endpoints, portName, protocol string) []Endpoint {
	var out []Endpoint
	seen := map[Endpoint]bool{}
	for _, ss := range eps.GetSubsets() {
		var port int32
		found := false
		for _, p := range ss.GetPorts() {
			if p.GetName() == portName && protocolOf(p.GetProtocol()) == protocol {
				port, found = p.GetPort(), true
				break
			}
		}
		if !found {
			continue
		}
		for _, a := range ss.GetAddresses() {
			ip, err := netip.ParseAddr(a.GetIp())
			if err != nil {
				continue
			}
			e := Endpoint{IP: ip, Port: port, NodeName: a.GetNodeName()}
			key := Endpoint{IP: ip, Port: port}
			if !seen[key] {
				seen[key] = true
				out = append(out, e)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].IP.Compare(out[j].IP); c != 0 {
			return c < 0
		}
		return out[i].Port < out[j].Port
	})
	return out
}

func protocolOf(p string) string {
	if p == "" {
		return "TCP"
	}
	return strings.ToUpper(p)
}

// HasVIP reports whether svc gets a virtual IP: not headless, not
// ExternalName, and with a cluster IP set.
func HasVIP(svc *api.Service) bool {
	ip := svc.GetSpec().GetClusterIp()
	return ip != "" && ip != "None" && svc.GetSpec().GetType() != "ExternalName"
}

func hasNodePorts(svc *api.Service) bool {
	t := svc.GetSpec().GetType()
	return t == "NodePort" || t == "LoadBalancer"
}

// BuildRules returns the rule set for services and their endpoints
// (Endpoints objects match services by namespace and name). It is pure and
// deterministic: the same input gives the same rules.
func BuildRules(services []*api.Service, endpoints []*api.Endpoints, opts Options) *RuleSet {
	eps := make(map[string]*api.Endpoints, len(endpoints))
	for _, e := range endpoints {
		eps[e.GetMetadata().GetNamespace()+"/"+e.GetMetadata().GetName()] = e
	}
	svcs := append([]*api.Service(nil), services...)
	sort.Slice(svcs, func(i, j int) bool {
		a, c := svcs[i].GetMetadata(), svcs[j].GetMetadata()
		if a.GetNamespace() != c.GetNamespace() {
			return a.GetNamespace() < c.GetNamespace()
		}
		return a.GetName() < c.GetName()
	})
	parts := make([]*RuleSet, 0, len(svcs)+1)
	parts = append(parts, FixedRules(opts))
	for _, svc := range svcs {
		parts = append(parts, ServiceRules(svc, eps[svc.GetMetadata().GetNamespace()+"/"+svc.GetMetadata().GetName()], opts))
	}
	return Merge(parts...)
}

// ServiceRules returns one service's part of the rule set: its own chains,
// plus its rules in the shared CX-SERVICES and CX-NODEPORTS chains. eps may
// be nil. Merge joins the parts.
func ServiceRules(svc *api.Service, eps *api.Endpoints, opts Options) *RuleSet {
	b := &builder{opts: opts, mark: markOf(opts), rs: &RuleSet{Chains: map[string][]string{}}}
	b.service(svc, eps)
	return b.rs
}

// FixedRules returns the chains that do not depend on any service: the
// masquerade chains and the (empty) shared chains.
func FixedRules(opts Options) *RuleSet {
	mark := markOf(opts)
	return &RuleSet{Chains: map[string][]string{
		ChainServices:            nil,
		ChainNodePorts:           nil,
		FilterChain(ChainReject): nil,
		ChainMarkMasq:            {"-j MARK --set-xmark " + mark + "/" + mark},
		ChainPostrouting: {
			"-m mark ! --mark " + mark + "/" + mark + " -j RETURN",
			"-j MARK --set-xmark " + mark + "/0x0",
			"-j MASQUERADE --random-fully",
		},
	}}
}

// Merge joins rule set parts, in order: the shared chains (CX-SERVICES,
// CX-NODEPORTS, CX-REJECT) get every part's rules, other chains belong to one
// part.
func Merge(parts ...*RuleSet) *RuleSet {
	n := 3
	for _, p := range parts {
		n += len(p.Chains)
	}
	rs := &RuleSet{Chains: make(map[string][]string, n)}
	shared := map[string][]string{ChainServices: nil, ChainNodePorts: nil, FilterChain(ChainReject): nil}
	for _, p := range parts {
		for c, rules := range p.Chains {
			if unordered(c) {
				shared[c] = append(shared[c], rules...)
			} else {
				rs.Chains[c] = rules
			}
		}
	}
	for c, rules := range shared {
		rs.Chains[c] = rules
	}
	return rs
}

func markOf(opts Options) string {
	if opts.MasqueradeMark == "" {
		return DefaultMasqueradeMark
	}
	return opts.MasqueradeMark
}

type builder struct {
	opts Options
	mark string
	rs   *RuleSet
}

func (b *builder) add(chain string, rule string) {
	b.rs.Chains[chain] = append(b.rs.Chains[chain], rule)
}

func (b *builder) service(svc *api.Service, eps *api.Endpoints) {
	if !HasVIP(svc) {
		return
	}
	vip, err := netip.ParseAddr(svc.GetSpec().GetClusterIp())
	if err != nil || !vip.Is4() {
		return // iptables is IPv4; an IPv6 VIP needs ip6tables
	}
	m := svc.GetMetadata()
	externals := externalIPs(svc)
	affinity := svc.GetSpec().GetSessionAffinity() == "ClientIP"
	timeout := int(svc.GetSpec().GetSessionAffinityConfig().GetClientIp().GetTimeoutSeconds())
	if timeout <= 0 {
		timeout = DefaultAffinityTimeout
	}
	for _, p := range svc.GetSpec().GetPorts() {
		proto := protocolOf(p.GetProtocol())
		lproto := strings.ToLower(proto)
		sp := ServicePortName{Namespace: m.GetNamespace(), Name: m.GetName(), Port: p.GetName(), Protocol: proto}
		ready := ipv4Only(ReadyEndpoints(eps, p.GetName(), proto))
		dport := strconv.Itoa(int(p.GetPort()))
		if len(ready) == 0 {
			// No backend: reject new connections at once rather than
			// letting them time out.
			// TCP gets a reset (immediate for the client); other
			// protocols an ICMP port unreachable.
			reject := FilterChain(ChainReject)
			with := "icmp-port-unreachable"
			if lproto == "tcp" {
				with = "tcp-reset"
			}
			b.add(reject, fmt.Sprintf("-d %s/32 -p %s -m %s --dport %s -j REJECT --reject-with %s", vip, lproto, lproto, dport, with))
			if hasNodePorts(svc) && p.GetNodePort() != 0 {
				b.add(reject, fmt.Sprintf("-m addrtype --dst-type LOCAL -p %s -m %s --dport %d -j REJECT --reject-with %s", lproto, lproto, p.GetNodePort(), with))
			}
			for _, ip := range externals {
				b.add(reject, fmt.Sprintf("-d %s/32 -p %s -m %s --dport %s -j REJECT --reject-with %s", ip, lproto, lproto, dport, with))
			}
			continue
		}
		svcChain := ServiceChain(sp)
		b.add(ChainServices, fmt.Sprintf("-d %s/32 -p %s -m %s --dport %s -j %s", vip, lproto, lproto, dport, svcChain))
		b.rs.Chains[svcChain] = []string{}
		switch {
		case b.opts.MasqueradeAll:
			b.add(svcChain, "-j "+ChainMarkMasq)
		case b.opts.ClusterCIDR != "":
			b.add(svcChain, fmt.Sprintf("! -s %s -j %s", b.opts.ClusterCIDR, ChainMarkMasq))
		}
		// Traffic from outside the cluster (node ports, external and
		// load balancer IPs) goes through the service's external chain,
		// which marks it for masquerade so replies come back this way.
		seps := make([]string, len(ready))
		for i := range ready {
			seps[i] = EndpointChain(sp, i)
		}
		nodePort := hasNodePorts(svc) && p.GetNodePort() != 0
		if nodePort || len(externals) > 0 {
			ext := externalChain(sp)
			if svc.GetSpec().GetExternalTrafficPolicy() == "Local" && b.opts.NodeName != "" {
				b.rs.Chains[ext] = b.localOnly(svcChain, ready, seps)
			} else {
				b.rs.Chains[ext] = []string{"-j " + ChainMarkMasq, "-j " + svcChain}
			}
			if nodePort {
				b.add(ChainNodePorts, fmt.Sprintf("-p %s -m %s --dport %d -j %s", lproto, lproto, p.GetNodePort(), ext))
			}
			for _, ip := range externals {
				b.add(ChainServices, fmt.Sprintf("-d %s/32 -p %s -m %s --dport %s -j %s", ip, lproto, lproto, dport, ext))
			}
		}
		if affinity {
			for _, sep := range seps {
				b.add(svcChain, fmt.Sprintf("-m recent --name %s --mask 255.255.255.255 --rsource --rcheck --seconds %d --reap -j %s", sep, timeout, sep))
			}
		}
		n := len(ready)
		for i, e := range ready {
			sep := seps[i]
			if i < n-1 {
				b.add(svcChain, fmt.Sprintf("-m statistic --mode random --probability %.10f -j %s", 1/float64(n-i), sep))
			} else {
				b.add(svcChain, "-j "+sep)
			}
			rules := []string{fmt.Sprintf("-s %s/32 -j %s", e.IP, ChainMarkMasq)}
			recent := ""
			if affinity {
				recent = fmt.Sprintf("-m recent --name %s --mask 255.255.255.255 --rsource --set ", sep)
			}
			rules = append(rules, fmt.Sprintf("-p %s %s-m %s -j DNAT --to-destination %s", lproto, recent, lproto, e))
			b.rs.Chains[sep] = rules
		}
	}
}

// localOnly returns the external chain of an externalTrafficPolicy Local
// service: sources inside the cluster go to the service chain as usual;
// others are spread over this node's endpoints only, unmasqueraded, or
// dropped when there is none.
func (b *builder) localOnly(svcChain string, ready []Endpoint, seps []string) []string {
	var rules []string
	if b.opts.ClusterCIDR != "" {
		rules = append(rules, fmt.Sprintf("-s %s -j %s", b.opts.ClusterCIDR, svcChain))
	}
	var local []string
	for i, e := range ready {
		if e.NodeName == b.opts.NodeName {
			local = append(local, seps[i])
		}
	}
	if len(local) == 0 {
		return append(rules, "-j DROP")
	}
	for i, sep := range local {
		if i < len(local)-1 {
			rules = append(rules, fmt.Sprintf("-m statistic --mode random --probability %.10f -j %s", 1/float64(len(local)-i), sep))
		} else {
			rules = append(rules, "-j "+sep)
		}
	}
	return rules
}

// externalIPs returns a service's IPv4 spec.externalIPs and load balancer
// ingress IPs, sorted and without duplicates or its cluster IP.
func externalIPs(svc *api.Service) []netip.Addr {
	seen := map[netip.Addr]bool{}
	if ip, err := netip.ParseAddr(svc.GetSpec().GetClusterIp()); err == nil {
		seen[ip] = true
	}
	var out []netip.Addr
	add := func(s string) {
		if ip, err := netip.ParseAddr(s); err == nil && ip.Is4() && !seen[ip] {
			seen[ip] = true
			out = append(out, ip)
		}
	}
	for _, s := range svc.GetSpec().GetExternalIps() {
		add(s)
	}
	for _, ing := range svc.GetStatus().GetLoadBalancer().GetIngress() {
		add(ing.GetIp())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

func ipv4Only(eps []Endpoint) []Endpoint {
	out := eps[:0]
	for _, e := range eps {
		if e.IP.Is4() {
			out = append(out, e)
		}
	}
	return out
}
