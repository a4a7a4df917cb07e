package scheduler

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func TestLowerPriorityPodLeavesNominatedRoom(t *testing.T) {
	s := memstore.New()
	t.Cleanup(func() { _ = s.Close() })
	sch, err := New(s, Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	sch.cache.AddNode(&api.Node{Metadata: &api.ObjectMeta{Name: "n1"}, Status: &api.NodeStatus{Allocatable: map[string]string{"cpu": "1"}}})
	mk := func(name string, prio int32) *api.Pod {
		return &api.Pod{
			Metadata: &api.ObjectMeta{Name: name, Namespace: "ns", Uid: name},
			Spec: &api.PodSpec{Priority: prio, Containers: []*api.Container{{Name: "c", Resources: &api.ResourceRequirements{
				Requests: map[string]string{"cpu": "1"},
			}}}},
		}
	}
	preemptor := mk("preemptor", 100)
	preemptor.Status = &api.PodStatus{NominatedNodeName: "n1"}
	sch.noms.set(preemptor, false)

	fwk := sch.profiles[DefaultSchedulerName]
	try := func(p *api.Pod) error {
		sch.cache.UpdateSnapshot(sch.snapshot)
		fwk.SetSnapshot(sch.snapshot)
		_, err := sch.schedulePod(context.Background(), fwk, framework.NewCycleState(), framework.NewPodInfo(p))
		return err
	}
	var fit *FitError
	if err := try(mk("lower", 50)); !errors.As(err, &fit) {
		t.Fatalf("lower-priority pod: err = %v, want a FitError", err)
	}
	if err := try(mk("higher", 200)); err != nil {
		t.Fatalf("higher-priority pod: %v", err)
	}
	if err := try(preemptor); err != nil {
		t.Fatalf("the nominated pod itself: %v", err)
	}
	sch.noms.set(preemptor, true)
	if err := try(mk("lower", 50)); err != nil {
		t.Fatalf("after the nomination is gone: %v", err)
	}
}
