package testenv

import (
	"context"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/store"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// FailPod makes a pod's containers exit with exitCode and its phase Failed,
// as a node agent reports a pod with restartPolicy Never whose container
// died.
func (e *Env) FailPod(ctx context.Context, namespace, name string, exitCode int32) error {
	now := timestamppb.New(e.opts.Clock.Now())
	_, err := store.For[*api.Pod](e.Store).MutateStatus(ctx, namespace, name, func(p *api.Pod) error {
		if p.Status == nil {
			p.Status = &api.PodStatus{}
		}
		p.Status.Phase = podutil.PhaseFailed
		p.Status.Reason = "Error"
		setCondition(p.Status, podutil.ConditionReady, podutil.StatusFalse, now)
		setCondition(p.Status, "ContainersReady", podutil.StatusFalse, now)
		for _, c := range p.Status.ContainerStatuses {
			c.Ready = false
			c.State = &api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: exitCode, Reason: "Error", FinishedAt: now}}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("testenv: fail pod %s/%s: %w", namespace, name, err)
	}
	return nil
}

// SetPodReady sets a running pod's readiness, as a readiness probe that
// starts or stops passing would.
func (e *Env) SetPodReady(ctx context.Context, namespace, name string, ready bool) error {
	now := timestamppb.New(e.opts.Clock.Now())
	status := podutil.StatusFalse
	if ready {
		status = podutil.StatusTrue
	}
	_, err := store.For[*api.Pod](e.Store).MutateStatus(ctx, namespace, name, func(p *api.Pod) error {
		if p.Status == nil {
			p.Status = &api.PodStatus{}
		}
		setCondition(p.Status, podutil.ConditionReady, status, now)
		setCondition(p.Status, "ContainersReady", status, now)
		for _, c := range p.Status.ContainerStatuses {
			c.Ready = ready
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("testenv: set pod %s/%s ready=%v: %w", namespace, name, ready, err)
	}
	return nil
}

func setCondition(st *api.PodStatus, typ, status string, now *timestamppb.Timestamp) {
	c := podutil.Condition(st.Conditions, typ)
	if c == nil {
		c = &api.Condition{Type: typ}
		st.Conditions = append(st.Conditions, c)
	}
	if c.Status != status {
		c.LastTransitionTime = now
	}
	c.Status = status
}
