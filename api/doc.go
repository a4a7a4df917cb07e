// Package api is Coxswain's object model: the protobuf messages of every
// built-in kind (generated from api/*.proto with protoc-gen-go), the Object
// interface they share, and the kind registry that maps apiVersion and kind
// to message types. Users register their own kinds (any message with an
// ObjectMeta field named metadata) in the same registry.
//
// Subpackages hold labels and selectors, field selectors, resource
// quantities, manifests, and validation and defaulting.
package api
