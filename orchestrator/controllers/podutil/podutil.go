// Package podutil holds the small pod predicates the built-in controllers
// share: readiness, activity, availability and the owner references they
// write.
package podutil

import (
	"time"

	"github.com/coxswain-io/coxswain/api"
)

// Pod phases.
const (
	PhasePending   = "Pending"
	PhaseRunning   = "Running"
	PhaseSucceeded = "Succeeded"
	PhaseFailed    = "Failed"
)

// Condition types and statuses of pods and nodes.
const (
	ConditionReady = "Ready"
	StatusTrue     = "True"
	StatusFalse    = "False"
	StatusUnknown  = "Unknown"
)

// Condition returns the condition of type typ, or nil.
func Condition(conds []*api.Condition, typ string) *api.Condition {
	for _, c := range conds {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

// IsReady reports whether the pod's Ready condition is True.
func IsReady(p *api.Pod) bool {
	c := Condition(p.GetStatus().GetConditions(), ConditionReady)
	return c != nil && c.GetStatus() == StatusTrue
}

// IsAvailable reports whether the pod has been ready for at least
// minReadySeconds at now.
func IsAvailable(p *api.Pod, minReadySeconds int32, now time.Time) bool {
	c := Condition(p.GetStatus().GetConditions(), ConditionReady)
	if c == nil || c.GetStatus() != StatusTrue {
		return false
	}
	if minReadySeconds <= 0 {
		return true
	}
	since := c.GetLastTransitionTime()
	if since == nil {
		return false
	}
	return !since.AsTime().Add(time.Duration(minReadySeconds) * time.Second).After(now)
}

// AvailableAt returns when a ready pod becomes available, given
// minReadySeconds; the zero time if it is not ready.
func AvailableAt(p *api.Pod, minReadySeconds int32) time.Time {
	c := Condition(p.GetStatus().GetConditions(), ConditionReady)
	if c == nil || c.GetStatus() != StatusTrue || c.GetLastTransitionTime() == nil {
		return time.Time{}
	}
	return c.GetLastTransitionTime().AsTime().Add(time.Duration(minReadySeconds) * time.Second)
}

// IsTerminating reports whether the object's deletion has begun.
func IsTerminating(obj api.Object) bool {
	return obj.GetMetadata().GetDeletionTimestamp() != nil
}

// IsFinished reports whether the pod has Succeeded or Failed.
func IsFinished(p *api.Pod) bool {
	ph := p.GetStatus().GetPhase()
	return ph == PhaseSucceeded || ph == PhaseFailed
}

// IsActive reports whether the pod counts towards a replica count: not
// terminating and not finished.
func IsActive(p *api.Pod) bool {
	return !IsTerminating(p) && !IsFinished(p)
}

// ControllerRef returns an owner reference that makes the owner the
// controller of a dependent and blocks the owner's foreground deletion
// until the dependent is gone.
func ControllerRef(apiVersion, kind string, owner *api.ObjectMeta) *api.OwnerReference {
	return &api.OwnerReference{
		ApiVersion:         apiVersion,
		Kind:               kind,
		Name:               owner.GetName(),
		Uid:                owner.GetUid(),
		Controller:         true,
		BlockOwnerDeletion: true,
	}
}
