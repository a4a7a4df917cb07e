package cache

import (
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

func node(name string) *api.Node {
	return &api.Node{Metadata: &api.ObjectMeta{Name: name}, Status: &api.NodeStatus{Allocatable: map[string]string{"cpu": "4"}}}
}

func pod(name, nodeName, cpu string) *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "ns", Uid: "uid-" + name},
		Spec:     &api.PodSpec{NodeName: nodeName, Containers: []*api.Container{{Name: "c", Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": cpu}}}}},
	}
}

func TestAssumeConfirmForget(t *testing.T) {
	c := New()
	snap := framework.NewSnapshot()
	c.AddNode(node("n1"))
	c.AddNode(node("n2"))
	c.UpdateSnapshot(snap)
	if len(snap.NodeList) != 2 {
		t.Fatalf("nodes in snapshot: %d", len(snap.NodeList))
	}
	n1Before := snap.Get("n1")

	p := pod("a", "n1", "1")
	if err := c.AssumePod(framework.NewPodInfo(p), "n1"); err != nil {
		t.Fatal(err)
	}
	if err := c.AssumePod(framework.NewPodInfo(p), "n1"); err == nil {
		t.Fatal("assuming twice succeeded")
	}
	c.UpdateSnapshot(snap)
	if got := snap.Get("n1").Requested.MilliCPU; got != 1000 {
		t.Fatalf("assumed pod not counted: %d", got)
	}
	if snap.Get("n1") != n1Before {
		t.Fatal("unchanged node list should update infos in place")
	}
	// The watch shows the binding: still counted once, no longer assumed.
	c.AddPod(p)
	if c.IsAssumed(p) {
		t.Fatal("pod still assumed after binding observed")
	}
	c.UpdateSnapshot(snap)
	if got := snap.Get("n1").Requested.MilliCPU; got != 1000 || len(snap.Get("n1").Pods) != 1 {
		t.Fatalf("after confirm: cpu %d pods %d", got, len(snap.Get("n1").Pods))
	}
	// A forgotten assumed pod stops counting; a confirmed one is not forgotten.
	c.ForgetPod(p)
	q := pod("b", "n2", "2")
	_ = c.AssumePod(framework.NewPodInfo(q), "n2")
	c.ForgetPod(q)
	c.UpdateSnapshot(snap)
	if snap.Get("n1").Requested.MilliCPU != 1000 || snap.Get("n2").Requested.MilliCPU != 0 {
		t.Fatalf("after forget: n1 %d n2 %d", snap.Get("n1").Requested.MilliCPU, snap.Get("n2").Requested.MilliCPU)
	}
	c.RemovePod(p)
	c.RemoveNode(node("n2"))
	c.UpdateSnapshot(snap)
	if snap.Get("n1").Requested.MilliCPU != 0 || snap.Get("n2") != nil || len(snap.NodeList) != 1 {
		t.Fatalf("after removals: %v", snap.NodeList)
	}
}

func TestPodBeforeNode(t *testing.T) {
	c := New()
	snap := framework.NewSnapshot()
	c.AddPod(pod("a", "late", "1"))
	c.UpdateSnapshot(snap)
	if len(snap.NodeList) != 0 {
		t.Fatal("node without Node object listed")
	}
	c.AddNode(node("late"))
	c.UpdateSnapshot(snap)
	if n := snap.Get("late"); n == nil || n.Requested.MilliCPU != 1000 {
		t.Fatalf("pod seen before its node not counted: %v", n)
	}
	// Moving a pod to another node (a rebind seen by the watch) moves its requests.
	c.AddNode(node("other"))
	c.UpdatePod(pod("a", "other", "1"))
	c.UpdateSnapshot(snap)
	if snap.Get("late").Requested.MilliCPU != 0 || snap.Get("other").Requested.MilliCPU != 1000 {
		t.Fatal("update did not move the pod")
	}
}

func TestSnapshotIndexFollowsChanges(t *testing.T) {
	c := New()
	snap := framework.NewSnapshot()
	c.AddNode(node("n1"))
	c.AddNode(node("n2"))
	anti := pod("a", "n1", "1")
	anti.Metadata.Labels = map[string]string{"app": "db"}
	anti.Spec.Affinity = &api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []*api.PodAffinityTerm{{
		LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, TopologyKey: "kubernetes.io/hostname",
	}}}}
	c.AddPod(anti)
	c.UpdateSnapshot(snap)
	db := framework.LabelKey{Namespace: "ns", Key: "app", Value: "db"}
	if got := snap.PodsWithLabel(db); len(got) != 1 || got[snap.Get("n1")] != 1 {
		t.Fatalf("PodsWithLabel = %v", got)
	}
	if len(snap.HavePodsWithRequiredAntiAffinity()) != 1 || len(snap.HavePodsWithAffinity()) != 1 {
		t.Fatal("affinity lists not updated")
	}
	if got := snap.AntiAffinitySelecting(db)["kubernetes.io/hostname"]; got[snap.Get("n1")] != 1 {
		t.Fatalf("AntiAffinitySelecting = %v", got)
	}
	// Move the pod to n2, then delete it: the index follows.
	moved := pod("a", "n2", "1")
	moved.Metadata.Labels = anti.Metadata.Labels
	moved.Spec.Affinity = anti.Spec.Affinity
	c.UpdatePod(moved)
	c.UpdateSnapshot(snap)
	if got := snap.PodsWithLabel(db); len(got) != 1 || got[snap.Get("n2")] != 1 {
		t.Fatalf("after move: %v", got)
	}
	c.RemovePod(moved)
	c.UpdateSnapshot(snap)
	if len(snap.PodsWithLabel(db)) != 0 || len(snap.HavePodsWithAffinity()) != 0 || len(snap.AntiAffinitySelecting(db)) != 0 {
		t.Fatal("index keeps a deleted pod")
	}
	c.AddNode(&api.Node{Metadata: &api.ObjectMeta{Name: "n3", Labels: map[string]string{"zone": "z"}}})
	c.UpdateSnapshot(snap)
	if d := snap.TopologyDomains("zone"); len(d) != 1 || len(d["z"]) != 1 {
		t.Fatalf("TopologyDomains = %v", d)
	}
}
