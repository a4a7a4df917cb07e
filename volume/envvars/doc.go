// Package envvars resolves a container's environment — env (value,
// valueFrom configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef) and
// envFrom (ConfigMaps and Secrets, with a prefix) — into KEY=VALUE strings
// the runtime passes to the process. The node agent calls Resolver.Resolve
// before it starts a container.
//
// Order and precedence follow Kubernetes: envFrom sources first, in order,
// then env, in order; a later definition of a name replaces an earlier one
// (the name keeps the position of its first definition). A literal value may
// refer to variables defined before it as $(NAME); $$ escapes a dollar, and
// a reference to an undefined name is left as written.
//
// Missing objects and keys are errors naming them (wrapping
// store.ErrNotFound) unless the reference is optional, in which case the
// variable (or the whole envFrom source) is skipped. envFrom keys that are
// not valid variable names (empty or containing '=') are skipped and
// reported in Result.Skipped.
package envvars
