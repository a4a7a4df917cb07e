package plugins

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

// Taint effects.
const (
	EffectNoSchedule       = "NoSchedule"
	EffectPreferNoSchedule = "PreferNoSchedule"
	EffectNoExecute        = "NoExecute"
)

// TaintNodeUnschedulable is the taint a cordoned node implicitly carries.
const TaintNodeUnschedulable = "node.kubernetes.io/unschedulable"

// ToleratesTaint reports whether toleration t tolerates taint.
func ToleratesTaint(t *api.Toleration, taint *api.Taint) bool {
	if t.GetEffect() != "" && t.GetEffect() != taint.GetEffect() {
		return false
	}
	switch t.GetOperator() {
	case "Exists":
		return t.GetKey() == "" || t.GetKey() == taint.GetKey()
	case "", "Equal":
		return t.GetKey() == taint.GetKey() && t.GetValue() == taint.GetValue()
	}
	return false
}

// TaintTolerated reports whether any of tolerations tolerates taint.
func TaintTolerated(tolerations []*api.Toleration, taint *api.Taint) bool {
	for _, t := range tolerations {
		if ToleratesTaint(t, taint) {
			return true
		}
	}
	return false
}

// FormatTaint prints a taint as "{key: value}" (or "{key}" without value).
func FormatTaint(t *api.Taint) string {
	if t.GetValue() == "" {
		return "{" + t.GetKey() + "}"
	}
	return "{" + t.GetKey() + ": " + t.GetValue() + "}"
}

// MatchNodeSelectorRequirement reports whether a node with labels l and name
// satisfies one requirement; field requirements (matchFields) use
// metadata.name as their only key.
func MatchNodeSelectorRequirement(r *api.NodeSelectorRequirement, l labels.Labels) (bool, error) {
	key, vals := r.GetKey(), r.GetValues()
	switch r.GetOperator() {
	case "In":
		return l.Has(key) && slices.Contains(vals, l.Get(key)), nil
	case "NotIn":
		return !l.Has(key) || !slices.Contains(vals, l.Get(key)), nil
	case "Exists":
		return l.Has(key), nil
	case "DoesNotExist":
		return !l.Has(key), nil
	case "Gt", "Lt":
		if len(vals) != 1 {
			return false, fmt.Errorf("operator %s needs exactly one value", r.GetOperator())
		}
		want, err := strconv.ParseInt(vals[0], 10, 64)
		if err != nil {
			return false, fmt.Errorf("operator %s: %w", r.GetOperator(), err)
		}
		if !l.Has(key) {
			return false, nil
		}
		have, err := strconv.ParseInt(l.Get(key), 10, 64)
		if err != nil {
			return false, nil
		}
		if r.GetOperator() == "Gt" {
			return have > want, nil
		}
		return have < want, nil
	}
	return false, fmt.Errorf("unknown node selector operator %q", r.GetOperator())
}

// MatchNodeSelectorTerm reports whether node satisfies every requirement of
// term. A term with no requirement matches nothing.
func MatchNodeSelectorTerm(term *api.NodeSelectorTerm, node *api.Node) bool {
	if len(term.GetMatchExpressions()) == 0 && len(term.GetMatchFields()) == 0 {
		return false
	}
	l := labels.Set(node.GetMetadata().GetLabels())
	for _, r := range term.GetMatchExpressions() {
		if ok, err := MatchNodeSelectorRequirement(r, l); !ok || err != nil {
			return false
		}
	}
	fields := labels.Set{"metadata.name": node.GetMetadata().GetName()}
	for _, r := range term.GetMatchFields() {
		if ok, err := MatchNodeSelectorRequirement(r, fields); !ok || err != nil {
			return false
		}
	}
	return true
}

// MatchNodeSelectorTerms reports whether node satisfies any of terms.
func MatchNodeSelectorTerms(terms []*api.NodeSelectorTerm, node *api.Node) bool {
	for _, t := range terms {
		if MatchNodeSelectorTerm(t, node) {
			return true
		}
	}
	return false
}

// PodMatchesNodeSelectorAndAffinity reports whether node satisfies the pod's
// spec.nodeSelector and its required node affinity.
func PodMatchesNodeSelectorAndAffinity(pod *api.Pod, node *api.Node) bool {
	nl := node.GetMetadata().GetLabels()
	for k, v := range pod.GetSpec().GetNodeSelector() {
		if have, ok := nl[k]; !ok || have != v {
			return false
		}
	}
	req := pod.GetSpec().GetAffinity().GetNodeAffinity().GetRequiredDuringSchedulingIgnoredDuringExecution()
	if req == nil {
		return true
	}
	return MatchNodeSelectorTerms(req.GetNodeSelectorTerms(), node)
}

// PodPriority returns spec.priority.
func PodPriority(pod *api.Pod) int32 { return pod.GetSpec().GetPriority() }

// normalize maps scores linearly onto [0, MaxNodeScore]. With reverse the
// lowest raw score gets MaxNodeScore. When every score is equal, they all get
// MaxNodeScore if reverse, else 0 for all-zero scores and MaxNodeScore
// otherwise.
func normalize(scores []framework.NodeScore, reverse bool) {
	if len(scores) == 0 {
		return
	}
	lo, hi := scores[0].Score, scores[0].Score
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		var v int64
		switch {
		case hi == lo && (reverse || hi != 0):
			v = framework.MaxNodeScore
		case hi == lo:
			v = 0
		default:
			v = (scores[i].Score - lo) * framework.MaxNodeScore / (hi - lo)
			if reverse {
				v = framework.MaxNodeScore - v
			}
		}
		scores[i].Score = v
	}
}
