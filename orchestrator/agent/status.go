package agent

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/store"
)

// Pod condition types the agent reports.
const (
	PodScheduled    = "PodScheduled"
	PodInitialized  = "Initialized"
	ContainersReady = "ContainersReady"
	PodReady        = "Ready"
)

// containerIDPrefix marks the runtime in status.containerStatuses[].containerID.
const containerIDPrefix = "coxswain://"

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// buildStatus computes the pod's status from the runtime's containers. Times
// come from the runtime and from the previous status, so the same state
// gives an equal status (and no write).
func (a *Agent) buildStatus(pod *api.Pod, st *podState, ctrs []*runtime.ContainerStatus, podIP string, initDone, initFailed bool, policy string) *api.PodStatus {
	old := pod.GetStatus()
	byName := latestByName(ctrs)
	prevByName := map[string]*runtime.ContainerStatus{}
	for _, c := range ctrs {
		name := c.Labels[LabelContainer]
		if l := byName[name]; l != nil && c.Attempt < l.Attempt {
			if p := prevByName[name]; p == nil || c.Attempt > p.Attempt {
				prevByName[name] = c
			}
		}
	}
	status := &api.PodStatus{
		HostIp:    a.nodeIP,
		PodIp:     podIP,
		StartTime: old.GetStartTime(),
		QosClass:  old.GetQosClass(),
		// The scheduler's field; kept as it wrote it.
		NominatedNodeName: old.GetNominatedNodeName(),
	}
	if status.StartTime == nil {
		status.StartTime = timestamppb.New(a.now())
	}
	if status.QosClass == "" {
		status.QosClass = QOSClass(pod)
	}
	if podIP != "" {
		status.PodIps = []*api.PodIP{{Ip: podIP}}
	}
	now := a.now()
	for _, c := range pod.GetSpec().GetInitContainers() {
		cs := a.containerStatus(c, byName[c.GetName()], prevByName[c.GetName()], st, policy, true, now, "PodInitializing")
		status.InitContainerStatuses = append(status.InitContainerStatuses, cs)
	}
	var running, waiting, succeeded, failed, restarting int
	allReady := true
	for _, c := range pod.GetSpec().GetContainers() {
		cur := byName[c.GetName()]
		reason := "ContainerCreating"
		if !initDone {
			reason = "PodInitializing"
		}
		cs := a.containerStatus(c, cur, prevByName[c.GetName()], st, policy, false, now, reason)
		status.ContainerStatuses = append(status.ContainerStatuses, cs)
		if !cs.Ready {
			allReady = false
		}
		switch {
		case cur == nil || cur.State == runtime.ContainerCreated:
			waiting++
		case cur.State == runtime.ContainerRunning:
			running++
		case shouldRestart(policy, cur.ExitCode):
			restarting++
		case cur.ExitCode == 0:
			succeeded++
		default:
			failed++
		}
	}
	switch {
	case initFailed:
		status.Phase = PhaseFailed
		status.Reason = "InitContainerFailed"
	case !initDone || waiting > 0:
		status.Phase = PhasePending
	case running > 0 || restarting > 0:
		status.Phase = PhaseRunning
	case failed > 0:
		status.Phase = PhaseFailed
	default:
		status.Phase = PhaseSucceeded
	}
	if n := len(pod.GetSpec().GetContainers()); n == 0 {
		status.Phase = PhasePending
	}
	ready := allReady && initDone && status.Phase == PhaseRunning
	status.Conditions = []*api.Condition{
		condition(old, PodScheduled, true, "", now),
		condition(old, PodInitialized, initDone, reasonIf(!initDone, "ContainersNotInitialized"), now),
		condition(old, ContainersReady, ready, reasonIf(!ready, "ContainersNotReady"), now),
		condition(old, PodReady, ready, reasonIf(!ready, "ContainersNotReady"), now),
	}
	a.mu.Lock()
	if st.usage != nil {
		status.Usage = st.usage
		status.UsageTimestamp = ts(st.usageTime)
	}
	a.mu.Unlock()
	return status
}

func reasonIf(b bool, r string) string {
	if b {
		return r
	}
	return ""
}

// condition returns a condition, keeping the old transition time when its
// status did not change.
func condition(old *api.PodStatus, typ string, ok bool, reason string, now time.Time) *api.Condition {
	c := &api.Condition{Type: typ, Status: "False", Reason: reason}
	if ok {
		c.Status = "True"
	}
	for _, o := range old.GetConditions() {
		if o.GetType() == typ && o.GetStatus() == c.Status {
			c.LastTransitionTime = o.GetLastTransitionTime()
		}
	}
	if c.LastTransitionTime == nil {
		c.LastTransitionTime = timestamppb.New(now)
	}
	return c
}

// containerStatus reports one container from its current and previous
// runtime containers.
func (a *Agent) containerStatus(c *api.Container, cur, prev *runtime.ContainerStatus, st *podState, policy string, isInit bool, now time.Time, pendingReason string) *api.ContainerStatus {
	cs := &api.ContainerStatus{Name: c.GetName(), Image: c.GetImage(), State: &api.ContainerState{}}
	started := false
	if prev != nil {
		cs.LastState = &api.ContainerState{Terminated: terminated(prev)}
	}
	switch {
	case cur == nil || cur.State == runtime.ContainerCreated:
		w := &api.ContainerStateWaiting{Reason: pendingReason}
		if r, ok := st.waiting[c.GetName()]; ok {
			w.Reason, w.Message = r.reason, r.message
		}
		cs.State.Waiting = w
	case cur.State == runtime.ContainerRunning:
		cs.State.Running = &api.ContainerStateRunning{StartedAt: ts(cur.StartedAt)}
		started = a.started(c, cur, st)
		cs.Ready = !isInit && started && a.isReady(c, cur, st)
	default:
		t := terminated(cur)
		retry := shouldRestart(policy, cur.ExitCode)
		if isInit {
			retry = cur.ExitCode != 0 && policy != RestartNever
		}
		if retry {
			cs.LastState = &api.ContainerState{Terminated: t}
			reason := "CrashLoopBackOff"
			if r, ok := st.waiting[c.GetName()]; ok {
				reason = r.reason
			}
			cs.State.Waiting = &api.ContainerStateWaiting{Reason: reason,
				Message: fmt.Sprintf("back-off %s restarting failed container %s", a.backoff(&runtime.ContainerStatus{Attempt: cur.Attempt + 1}), c.GetName())}
		} else {
			cs.State.Terminated = t
		}
	}
	if cur != nil {
		cs.RestartCount = int32(cur.Attempt)
		cs.ContainerId = containerIDPrefix + cur.ID
		cs.ImageId = cur.ImageID
	}
	if !isInit {
		cs.Started = proto.Bool(started)
	}
	return cs
}

func terminated(c *runtime.ContainerStatus) *api.ContainerStateTerminated {
	t := &api.ContainerStateTerminated{
		ExitCode:    int32(c.ExitCode),
		Reason:      c.Reason,
		StartedAt:   ts(c.StartedAt),
		FinishedAt:  ts(c.FinishedAt),
		ContainerId: containerIDPrefix + c.ID,
	}
	if c.ExitCode > 128 && c.ExitCode < 128+65 {
		t.Signal = int32(c.ExitCode - 128)
	}
	if t.Reason == "" {
		t.Reason = "Error"
		if c.ExitCode == 0 {
			t.Reason = "Completed"
		}
	}
	return t
}

// writeStatus writes status unless it equals the stored one.
func (a *Agent) writeStatus(ctx context.Context, pod *api.Pod, status *api.PodStatus) error {
	if proto.Equal(pod.GetStatus(), status) {
		return nil
	}
	next := proto.Clone(pod).(*api.Pod)
	next.Status = status
	api.Meta(next).ResourceVersion = 0 // the agent owns pod status
	if _, err := store.For[*api.Pod](a.cfg.Store).UpdateStatus(ctx, next); err != nil {
		if store.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

// writeWaitingStatus reports a pod that cannot start its containers yet.
func (a *Agent) writeWaitingStatus(ctx context.Context, pod *api.Pod, reason, message string) {
	old := pod.GetStatus()
	status := proto.Clone(old).(*api.PodStatus)
	if status == nil {
		status = &api.PodStatus{}
	}
	status.Phase = PhasePending
	status.HostIp = a.nodeIP
	status.Reason, status.Message = reason, message
	if status.StartTime == nil {
		status.StartTime = timestamppb.New(a.now())
	}
	if len(status.Conditions) == 0 {
		status.Conditions = []*api.Condition{condition(old, PodScheduled, true, "", a.now())}
	}
	if err := a.writeStatus(ctx, pod, status); err != nil && ctx.Err() == nil {
		a.log.Warn("status write failed", "pod", pod.GetMetadata().GetNamespace()+"/"+pod.GetMetadata().GetName(), "err", err)
	}
}

// QOSClass returns the pod's quality-of-service class as Kubernetes defines
// it: BestEffort when no container sets a cpu or memory request or limit,
// Guaranteed when every container sets cpu and memory limits and its
// requests (where set) equal them, Burstable otherwise.
func QOSClass(pod *api.Pod) string {
	all := append(slices.Clone(pod.GetSpec().GetInitContainers()), pod.GetSpec().GetContainers()...)
	anySet, guaranteed := false, true
	for _, c := range all {
		req, lim := c.GetResources().GetRequests(), c.GetResources().GetLimits()
		for _, r := range []string{resource.CPU, resource.Memory} {
			rq, hasReq := req[r]
			l, hasLim := lim[r]
			if hasReq || hasLim {
				anySet = true
			}
			if !hasLim {
				guaranteed = false
				continue
			}
			if hasReq {
				a, errA := resource.ParseQuantity(rq)
				b, errB := resource.ParseQuantity(l)
				if errA != nil || errB != nil || a.Cmp(b) != 0 {
					guaranteed = false
				}
			}
		}
	}
	switch {
	case !anySet:
		return "BestEffort"
	case guaranteed:
		return "Guaranteed"
	default:
		return "Burstable"
	}
}
