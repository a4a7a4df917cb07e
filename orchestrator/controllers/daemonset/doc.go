// Package daemonset is the DaemonSet controller: one pod of each DaemonSet
// on every node it should run on.
//
// A node is eligible when it matches the pod template's nodeSelector and
// required node affinity and the template tolerates each of its NoSchedule
// and NoExecute taints (daemon pods also tolerate cordoned, not-ready and
// unreachable nodes, as in Kubernetes). The controller creates each pod
// already bound to its node (spec.nodeName, with the node agent's
// finalizer, as the scheduler would bind it), deletes pods on nodes that
// stopped being eligible or were removed, extra pods on one node, and
// finished pods (replaced on the next pass). Node changes wake every
// DaemonSet.
//
// Pods carry the label controller-revision-hash, a hash of the template.
// With the RollingUpdate strategy (the default) a template change replaces
// old pods node by node, deleting an available old pod only while fewer
// than maxUnavailable (default 1) of the desired pods are unavailable. With
// maxSurge (and no maxUnavailable) it instead starts the new pod beside the
// old one on up to maxSurge nodes at a time and deletes the old one once
// the new one is available. With OnDelete old pods stay until something
// else deletes them.
package daemonset
