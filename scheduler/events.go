package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Event reasons the scheduler writes.
const (
	ReasonFailedScheduling = "FailedScheduling"
	ReasonScheduled        = "Scheduled"
	ReasonPreempted        = "Preempted"
)

// Pod condition written by the scheduler.
const (
	ConditionPodScheduled = "PodScheduled"
	ReasonUnschedulable   = "Unschedulable"
)

var eventSeq atomic.Uint64

// eventWriter creates Events about pods directly in the store.
type eventWriter struct {
	s         store.Store
	component string
	now       func() time.Time
}

func (w *eventWriter) emit(ctx context.Context, pod *api.Pod, typ, reason, msg string) error {
	m := pod.GetMetadata()
	ts := timestamppb.New(w.now())
	ev := &api.Event{
		Metadata: &api.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x%04x", m.GetName(), w.now().UnixNano(), eventSeq.Add(1)&0xffff),
			Namespace: m.GetNamespace(),
		},
		InvolvedObject: &api.ObjectReference{
			ApiVersion:      "v1",
			Kind:            api.KindPod,
			Namespace:       m.GetNamespace(),
			Name:            m.GetName(),
			Uid:             m.GetUid(),
			ResourceVersion: m.GetResourceVersion(),
		},
		Reason:             reason,
		Message:            msg,
		Source:             &api.EventSource{Component: w.component},
		FirstTimestamp:     ts,
		LastTimestamp:      ts,
		Count:              1,
		Type:               typ,
		ReportingComponent: w.component,
	}
	_, err := w.s.Create(ctx, ev)
	return err
}

var errBound = errors.New("pod is already bound")

// setUnschedulable writes PodScheduled=False with msg (and the nominated
// node, if any) unless the pod already says exactly that. It reports whether
// it wrote.
func setUnschedulable(ctx context.Context, s store.Store, pod *api.Pod, msg, nominated string, now time.Time) (bool, error) {
	wrote := false
	_, err := store.For[*api.Pod](s).MutateStatus(ctx, pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName(), func(p *api.Pod) error {
		wrote = false
		if p.GetSpec().GetNodeName() != "" {
			return errBound
		}
		if p.GetMetadata().GetUid() != pod.GetMetadata().GetUid() {
			return store.ErrNotFound
		}
		if p.Status == nil {
			p.Status = &api.PodStatus{}
		}
		changed := setCondition(p.Status, ConditionPodScheduled, "False", ReasonUnschedulable, msg, now)
		if nominated != "" && p.Status.NominatedNodeName != nominated {
			p.Status.NominatedNodeName = nominated
			changed = true
		}
		if !changed {
			return errUnchanged
		}
		wrote = true
		return nil
	})
	if errors.Is(err, errUnchanged) || errors.Is(err, errBound) {
		return false, nil
	}
	return wrote, err
}

var errUnchanged = errors.New("unchanged")

// setCondition sets a condition and reports whether anything changed.
func setCondition(st *api.PodStatus, typ, status, reason, msg string, now time.Time) bool {
	for _, c := range st.Conditions {
		if c.GetType() != typ {
			continue
		}
		if c.Status == status && c.Reason == reason && c.Message == msg {
			return false
		}
		if c.Status != status {
			c.LastTransitionTime = timestamppb.New(now)
		}
		c.Status, c.Reason, c.Message = status, reason, msg
		c.LastProbeTime = timestamppb.New(now)
		return true
	}
	st.Conditions = append(st.Conditions, &api.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg,
		LastTransitionTime: timestamppb.New(now), LastProbeTime: timestamppb.New(now),
	})
	return true
}

// hasUnscheduledCondition reports whether the pod carries PodScheduled=False.
func hasUnscheduledCondition(pod *api.Pod) bool {
	for _, c := range pod.GetStatus().GetConditions() {
		if c.GetType() == ConditionPodScheduled && c.GetStatus() == "False" {
			return true
		}
	}
	return false
}
