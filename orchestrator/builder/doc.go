// Package builder wires a controller in one sentence:
//
//	builder.ControllerManagedBy(mgr).
//		For(api.KindReplicaSet).
//		Owns(api.KindPod).
//		WithWorkers(4).
//		Complete(reconciler)
//
// For names the kind the reconciler manages (its requests name objects of
// that kind); Owns wakes the owner when an object it controls (through a
// controller ownerReference) changes; Watches wakes whatever a map function
// returns. Informers come from the manager, one shared per kind.
package builder
