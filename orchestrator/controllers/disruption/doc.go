// Package disruption keeps PodDisruptionBudgets' status current and evicts
// pods without breaking them.
//
// The controller counts, for each PodDisruptionBudget, the pods its
// selector matches in its namespace (expectedPods), the ready ones among
// them (currentHealthy), the healthy count the budget requires
// (desiredHealthy, from minAvailable, or expectedPods minus maxUnavailable;
// percentages of expectedPods round up), and how many more may go now
// (disruptionsAllowed).
//
// Evict is the voluntary way to remove a pod: it recomputes every matching
// budget from the live pods and deletes the pod only if each still allows a
// disruption, charging the budgets in the same transaction as the delete
// (conditioned on their resourceVersion), so concurrent evictions can never
// take a budget below its floor. A blocked eviction returns a *BlockedError
// naming the budget; it matches ErrBlocked with errors.Is. A pod that is
// not ready can always be evicted: it is not counted as healthy.
package disruption
