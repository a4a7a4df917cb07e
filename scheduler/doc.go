// Package scheduler is the scheduling framework (filter, score, reserve,
// bind plugins), its default plugins and the default scheduler.
package scheduler
