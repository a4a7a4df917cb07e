// Package podautoscaler is the HorizontalPodAutoscaler controller: it
// scales a Deployment, ReplicaSet or ReplicationController toward a target
// metric value.
//
// Every SyncPeriod (default 15s, on the injectable Clock) it reads the
// target's scale (spec.replicas and selector, through a Scaler; the default
// StoreScaler changes spec.replicas as a scale subresource would) and the
// running pods its selector matches, and computes a replica count per
// metric: Resource metrics from the pods' measured status.usage (written by
// the node agent) over their requests (targetCPUUtilizationPercentage, or
// an averageUtilization or averageValue target); Pods and External metrics
// from a user-supplied MetricsSource. The largest count wins, clamped to
// [minReplicas, maxReplicas]; within Tolerance (default 10%) of the target
// nothing changes. Scale-down applies the highest recommendation of the
// stabilization window (behavior.scaleDown.stabilizationWindowSeconds,
// default 5m) so a dip does not flap the size; scale-up applies at once
// unless behavior.scaleUp sets a window. The behavior's rate policies then
// bound each change (Pods or Percent per periodSeconds, selectPolicy
// Max/Min/Disabled; by default up by 4 pods or 100% per 15s, down by 100%
// per 15s). Status carries the current metrics, desired replicas,
// lastScaleTime and the AbleToScale, ScalingActive and ScalingLimited
// conditions.
//
// Not implemented: the Kubernetes handling of pods not yet ready or
// missing metrics (pods without a usage value are left out of the
// average).
package podautoscaler
