// Package proxy programs service virtual IPs, node ports and load balancing
// with iptables, in the structure of kube-proxy's iptables mode.
//
// # Rules
//
// BuildRules is a pure function from services and endpoints to a RuleSet: the
// chains this package owns in the nat table and their rules.
//
//	PREROUTING, OUTPUT  -> CX-SERVICES   one rule per (cluster IP, port) -> CX-SVC-*,
//	                                     per (external or LB IP, port) -> CX-EXT-*
//	PREROUTING, OUTPUT  -> CX-NODEPORTS  (destination is a local address)
//	                                     one rule per node port -> CX-EXT-*
//	CX-EXT-*   mark for masquerade, then -> CX-SVC-*; with
//	           externalTrafficPolicy Local: this node's endpoints only,
//	           unmasqueraded (in-cluster sources still -> CX-SVC-*)
//	CX-SVC-*   off-cluster sources marked for masquerade; ClientIP affinity
//	           (-m recent --rcheck); one rule per ready endpoint with
//	           -m statistic --mode random --probability 1/(n-i) -> CX-SEP-*
//	CX-SEP-*   traffic from the endpoint itself (hairpin) marked for
//	           masquerade; DNAT to ip:port (-m recent --set with affinity)
//	POSTROUTING -> CX-POSTROUTING        MASQUERADE --random-fully if marked
//	filter INPUT, FORWARD, OUTPUT (new connections) -> CX-REJECT
//	           a service port without ready endpoints is rejected (TCP
//	           reset, else ICMP port unreachable) instead of timing out
//
// Headless services (clusterIP None) and ExternalName services get no rules;
// only the ready addresses of Endpoints receive traffic.
//
// # Applying
//
// Syncer applies a RuleSet with iptables-restore, running inside a network
// namespace when one is given. Chosen from measurement on iptables 1.8.9 with
// the nf_tables backend (see docs/benchmarks.md):
//
//   - The first sync replaces the whole nat table in one transaction: the
//     rules of other owners (CNI portmap, ...) are read first and written
//     back unchanged beside ours. A rule another owner adds between that
//     read and the replace (a few ms to ~2 s at 10,000 services) is lost,
//     so an agent should start the proxy before it sets up the node's pods
//     at boot. (A --noflush restore that creates 10,000 services takes
//     ~45 s on nft, growing quadratically; the full replace takes 1-2 s.)
//   - Every later sync is incremental: only chains whose rules changed are
//     flushed and rewritten, removed chains are deleted, and the two large
//     shared chains (CX-SERVICES, CX-NODEPORTS) are edited rule by rule with
//     -D and -A, all in one --noflush restore (tens of ms with 10,000
//     services programmed; see docs/benchmarks.md). A change that creates
//     many chains (say, a thousand services at once) is split into several
//     restores of at most SyncerConfig.MaxNewChainsPerRestore new chains:
//     creating chains with --noflush grows quadratically within one restore
//     but only linearly across restores, and unlike a table replace this
//     never touches other owners' rules.
//   - The filter table is never replaced: CX-REJECT is flushed and
//     rewritten (full sync) or edited rule by rule (incremental).
//   - The jump rules from the built-in chains are kept with go-iptables.
//
// A failed restore drops the Syncer's view of what is applied, so the next
// sync is a full one again.
//
// Proxier is the node component: it watches Services and Endpoints through a
// store.Store and keeps the rules in sync (Start(ctx) error).
package proxy
