package api

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Scope says whether a kind's objects live in a namespace.
type Scope int

const (
	// Namespaced kinds are addressed by namespace and name.
	Namespaced Scope = iota
	// ClusterScoped kinds have no namespace.
	ClusterScoped
)

// String returns "Namespaced" or "Cluster".
func (s Scope) String() string {
	if s == ClusterScoped {
		return "Cluster"
	}
	return "Namespaced"
}

// KindInfo describes one registered kind.
type KindInfo struct {
	// APIVersion is "v1" for the core group, otherwise "group/version".
	APIVersion string
	// Kind is the kind's name, unique within a registry (e.g. "Deployment").
	Kind string
	// Resource is the lower-case plural used in REST paths (e.g. "deployments").
	Resource string
	// Scope is Namespaced or ClusterScoped.
	Scope Scope
	// New returns a new empty object of the kind.
	New func() Object

	fullName  protoreflect.FullName
	hasStatus bool
	hasSpec   bool
}

// Group returns the API group of the kind ("" for the core group).
func (k KindInfo) Group() string {
	if i := strings.Index(k.APIVersion, "/"); i >= 0 {
		return k.APIVersion[:i]
	}
	return ""
}

// Version returns the version part of APIVersion.
func (k KindInfo) Version() string {
	if i := strings.Index(k.APIVersion, "/"); i >= 0 {
		return k.APIVersion[i+1:]
	}
	return k.APIVersion
}

// HasStatus reports whether the kind's message has a status field.
func (k KindInfo) HasStatus() bool { return k.hasStatus }

// HasSpec reports whether the kind's message has a spec field.
func (k KindInfo) HasSpec() bool { return k.hasSpec }

// MessageName is the full protobuf name of the kind's message.
func (k KindInfo) MessageName() protoreflect.FullName { return k.fullName }

// ErrUnknownKind is returned (wrapped) when a kind is not registered.
var ErrUnknownKind = errors.New("unknown kind")

// Registry maps apiVersion and kind to message types. It is safe for
// concurrent use. Register refuses duplicates; there are no init-time side
// effects: build one with NewRegistry or take the built-ins from Builtin.
type Registry struct {
	mu         sync.RWMutex
	byKind     map[string]*KindInfo
	byGVK      map[string]*KindInfo
	byResource map[string]*KindInfo
	byMessage  map[protoreflect.FullName]*KindInfo
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byKind:     map[string]*KindInfo{},
		byGVK:      map[string]*KindInfo{},
		byResource: map[string]*KindInfo{},
		byMessage:  map[protoreflect.FullName]*KindInfo{},
	}
}

// Register adds a kind. The message New returns must have a "metadata" field
// of type ObjectMeta. It fails if the kind name, apiVersion+kind, group+resource
// or message type is already registered.
func (r *Registry) Register(info KindInfo) error {
	if info.Kind == "" || info.APIVersion == "" || info.New == nil {
		return fmt.Errorf("register kind %q: kind, apiVersion and New are required", info.Kind)
	}
	if info.Resource == "" {
		info.Resource = DefaultResourceName(info.Kind)
	}
	obj := info.New()
	desc := obj.ProtoReflect().Descriptor()
	md := desc.Fields().ByName("metadata")
	if md == nil || md.Message() == nil || md.Message().FullName() != (&ObjectMeta{}).ProtoReflect().Descriptor().FullName() {
		return fmt.Errorf("register kind %s: message %s has no metadata field of type ObjectMeta", info.Kind, desc.FullName())
	}
	info.fullName = desc.FullName()
	info.hasStatus = desc.Fields().ByName("status") != nil
	info.hasSpec = desc.Fields().ByName("spec") != nil

	r.mu.Lock()
	defer r.mu.Unlock()
	gvk := info.APIVersion + "/" + info.Kind
	res := info.Group() + "/" + info.Resource
	switch {
	case r.byKind[info.Kind] != nil:
		return fmt.Errorf("register kind %s: kind name already registered", info.Kind)
	case r.byGVK[gvk] != nil:
		return fmt.Errorf("register kind %s: %s already registered", info.Kind, gvk)
	case r.byResource[res] != nil:
		return fmt.Errorf("register kind %s: resource %s already registered", info.Kind, res)
	case r.byMessage[info.fullName] != nil:
		return fmt.Errorf("register kind %s: message %s already registered as %s", info.Kind, info.fullName, r.byMessage[info.fullName].Kind)
	}
	p := &info
	r.byKind[info.Kind] = p
	r.byGVK[gvk] = p
	r.byResource[res] = p
	r.byMessage[info.fullName] = p
	return nil
}

// MustRegister is Register for program setup; it panics on error.
func (r *Registry) MustRegister(info KindInfo) {
	if err := r.Register(info); err != nil {
		panic(err)
	}
}

// Lookup returns the kind registered under a kind name.
func (r *Registry) Lookup(kind string) (KindInfo, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if k := r.byKind[kind]; k != nil {
		return *k, nil
	}
	return KindInfo{}, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
}

// LookupGVK returns the kind registered under apiVersion and kind.
func (r *Registry) LookupGVK(apiVersion, kind string) (KindInfo, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if k := r.byGVK[apiVersion+"/"+kind]; k != nil {
		return *k, nil
	}
	return KindInfo{}, fmt.Errorf("%w: apiVersion %q kind %q", ErrUnknownKind, apiVersion, kind)
}

// LookupResource returns the kind served under an API group and resource name.
func (r *Registry) LookupResource(group, resource string) (KindInfo, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if k := r.byResource[group+"/"+resource]; k != nil {
		return *k, nil
	}
	return KindInfo{}, fmt.Errorf("%w: resource %q in group %q", ErrUnknownKind, resource, group)
}

// KindOf returns the kind of obj by its message type.
func (r *Registry) KindOf(obj Object) (KindInfo, error) {
	name := obj.ProtoReflect().Descriptor().FullName()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if k := r.byMessage[name]; k != nil {
		return *k, nil
	}
	return KindInfo{}, fmt.Errorf("%w: message %s", ErrUnknownKind, name)
}

// Kinds returns every registered kind, sorted by kind name.
func (r *Registry) Kinds() []KindInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]KindInfo, 0, len(r.byKind))
	for _, k := range r.byKind {
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// DefaultResourceName derives the REST resource name from a kind:
// lower-case plural ("Ingress" -> "ingresses", "Policy" -> "policies").
func DefaultResourceName(kind string) string {
	s := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "ch"), strings.HasSuffix(s, "sh"):
		return s + "es"
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}
