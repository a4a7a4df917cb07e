package scheduler

import (
	"context"
	"sync"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

// nominator tracks pending pods nominated to a node by preemption
// (status.nominatedNodeName), so that while their victims terminate, pods of
// lower or equal priority do not take the room made for them.
type nominator struct {
	mu     sync.Mutex
	byNode map[string]map[string]*framework.PodInfo // node -> pod key -> pod
	byPod  map[string]string                        // pod key -> node
}

func newNominator() *nominator {
	return &nominator{byNode: map[string]map[string]*framework.PodInfo{}, byPod: map[string]string{}}
}

// set records pod's nomination, or removes it when the pod is bound,
// deleted or not nominated.
func (n *nominator) set(pod *api.Pod, deleted bool) {
	key := framework.PodKey(pod)
	node := pod.GetStatus().GetNominatedNodeName()
	if deleted || assigned(pod) || pod.GetMetadata().GetDeletionTimestamp() != nil {
		node = ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if old, ok := n.byPod[key]; ok {
		delete(n.byNode[old], key)
		if len(n.byNode[old]) == 0 {
			delete(n.byNode, old)
		}
		delete(n.byPod, key)
	}
	if node == "" {
		return
	}
	m := n.byNode[node]
	if m == nil {
		m = map[string]*framework.PodInfo{}
		n.byNode[node] = m
	}
	m[key] = framework.NewPodInfo(pod)
	n.byPod[key] = node
}

// forPod returns, per node, the nominated pods that pod must leave room
// for: others with at least its priority. Nil when there are none.
func (n *nominator) forPod(pod *framework.PodInfo) map[string][]*framework.PodInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.byNode) == 0 {
		return nil
	}
	key, prio := pod.Key(), pod.Pod.GetSpec().GetPriority()
	var out map[string][]*framework.PodInfo
	for node, pods := range n.byNode {
		for k, p := range pods {
			if k == key || p.Pod.GetSpec().GetPriority() < prio {
				continue
			}
			if out == nil {
				out = map[string][]*framework.PodInfo{}
			}
			out[node] = append(out[node], p)
		}
	}
	return out
}

// filterWithNominated runs the filters on node as if the nominated pods
// were already on it.
func filterWithNominated(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, pi *framework.PodInfo, node *framework.NodeInfo, noms []*framework.PodInfo) *framework.Status {
	st := state.Clone()
	ni := node.Clone()
	for _, p := range noms {
		ni.AddPod(p)
		if s := fwk.RunPreFilterExtensionAddPod(ctx, st, pi, p, ni); !s.IsSuccess() {
			return s
		}
	}
	return fwk.RunFilterPlugins(ctx, st, pi, ni)
}
