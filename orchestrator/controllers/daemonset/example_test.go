package daemonset_test

import (
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/daemonset"
)

// ShouldRun decides where a DaemonSet's pods go: here only on nodes with
// an SSD, tolerating a dedicated taint.
func ExampleShouldRun() {
	tmpl := &api.PodTemplateSpec{Spec: &api.PodSpec{
		NodeSelector: map[string]string{"disk": "ssd"},
		Tolerations:  []*api.Toleration{{Key: "dedicated", Operator: "Exists", Effect: "NoSchedule"}},
	}}
	nodes := []*api.Node{
		{Metadata: &api.ObjectMeta{Name: "a", Labels: map[string]string{"disk": "ssd"}}},
		{Metadata: &api.ObjectMeta{Name: "b", Labels: map[string]string{"disk": "hdd"}}},
		{Metadata: &api.ObjectMeta{Name: "c", Labels: map[string]string{"disk": "ssd"}},
			Spec: &api.NodeSpec{Taints: []*api.Taint{{Key: "dedicated", Value: "db", Effect: "NoSchedule"}}}},
		{Metadata: &api.ObjectMeta{Name: "d", Labels: map[string]string{"disk": "ssd"}},
			Spec: &api.NodeSpec{Taints: []*api.Taint{{Key: "gpu", Effect: "NoExecute"}}}},
	}
	for _, n := range nodes {
		fmt.Println(n.GetMetadata().GetName(), daemonset.ShouldRun(tmpl, n))
	}
	// Output:
	// a true
	// b false
	// c true
	// d false
}
