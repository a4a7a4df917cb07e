// Package validation checks objects against the rules of their kind and
// fills the defaults Kubernetes fills.
//
// ValidateObject reports every problem at once as an ErrorList of
// *FieldError, each naming its field path:
//
//	spec.template.spec.containers[0].image: required value
//
// The errors match ErrInvalid with errors.Is. The store's own error classes
// live in package store, which api must not import; an admission layer that
// stores objects translates ErrInvalid into store.ErrInvalid at that edge.
//
// Default fills unset fields with the values Kubernetes uses
// (restartPolicy Always, replicas 1, a RollingUpdate strategy of 25%/25%,
// Service type ClusterIP and targetPort = port, ...). Call Default before
// ValidateObject, as the API server does. Fields whose protobuf type cannot
// tell unset from zero (terminationGracePeriodSeconds) are defaulted when
// zero.
//
// ValidateUpdate adds the rules of a change: names, selectors, a Job's
// template, a Service's clusterIP and other fields that may not change.
//
// Built-in kinds get their full rule set; any other kind (a user's custom
// message) gets the metadata rules, plus whatever the program adds with
// Register.
package validation
