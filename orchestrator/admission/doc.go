// Package admission wraps a Store in a chain of admission plugins: every
// Create and Update (directly or inside a Txn) passes through the chain's
// mutating plugins, then its validating plugins, before it reaches the
// wrapped Store; the chain is itself a store.Store, so every component runs
// unchanged on top of it.
//
// Built-in plugins (see Defaults):
//
//   - Defaulting fills unset fields (api/validation.Default).
//   - LimitRanger applies a namespace's LimitRange defaults to containers
//     and refuses pods and claims outside its min/max bounds.
//   - Validation checks every field (api/validation.ValidateObject, and
//     ValidateUpdate on updates).
//   - ResourceQuota refuses a create that would take a namespace past one of
//     its ResourceQuotas, naming the quota and by how much, and keeps the
//     quota's status.used current. The usage write and the object's create
//     commit in one transaction conditioned on the quota's resourceVersion,
//     so concurrent creates can never overshoot a quota.
//
// Users register their own plugins (anything implementing Mutator,
// Validator or both) with Chain.Register, which refuses duplicate names.
//
// Refusals wrap store.ErrForbidden (quota, limits, user plugins that return
// it) or store.ErrInvalid (validation failures), testable with errors.Is.
//
// AddQuotaController keeps status.used current between creates (a pod that
// finished stops counting) when the chain runs under a manager.
//
// Limits: status writes (UpdateStatus) and deletes are not admitted; quota
// usage is recounted from the namespace's objects on every admitted create
// (exact, but the cost grows with the objects in the namespace: see
// BenchmarkCreatePod; ResourceQuota.Incremental charges against the
// quota's status instead, with the quota controller to release usage) and
// after every delete made through the chain;
// quotas count creates, not updates, and ignore quota scopes.
package admission
