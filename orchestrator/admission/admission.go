package admission

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/validation"
	"github.com/coxswain-io/coxswain/store"
)

// Operation is the kind of write being admitted.
type Operation string

// Operations the chain admits.
const (
	Create Operation = "CREATE"
	Update Operation = "UPDATE"
)

// Attributes describe one write being admitted.
type Attributes struct {
	// Operation is Create or Update.
	Operation Operation
	// Kind is the object's kind (api.KindPod, ...).
	Kind string
	// Object is the object to be written. Mutators may change it in place.
	Object api.Object
	// Old is the stored object for an Update, nil for a Create.
	Old api.Object
}

// Namespace returns the namespace of the object being written.
func (a *Attributes) Namespace() string { return a.Object.GetMetadata().GetNamespace() }

// Plugin is the base of every admission plugin.
type Plugin interface {
	// Name identifies the plugin in the chain's registry and in errors.
	Name() string
}

// Mutator is a plugin that may change objects before they are validated.
// Admit is called for every admitted write, from many goroutines at once.
// An error refuses the write.
type Mutator interface {
	Plugin
	Admit(ctx context.Context, a *Attributes) error
}

// Validator is a plugin that accepts or refuses objects after every Mutator
// ran. It must not change a.Object. Called from many goroutines at once.
type Validator interface {
	Plugin
	Validate(ctx context.Context, a *Attributes) error
}

// Committer is a plugin that adds operations to the transaction that writes
// the admitted objects (for example, a quota's usage, conditioned on the
// quota's resourceVersion). If the transaction fails with store.ErrConflict
// the chain runs the Committers again, up to a few times.
type Committer interface {
	Plugin
	Ops(ctx context.Context, s store.Store, writes []*Attributes) ([]store.Op, error)
}

// MutatorFunc adapts a function to a Mutator.
func MutatorFunc(name string, fn func(ctx context.Context, a *Attributes) error) Mutator {
	return mutatorFunc{name: name, fn: fn}
}

type mutatorFunc struct {
	name string
	fn   func(ctx context.Context, a *Attributes) error
}

func (m mutatorFunc) Name() string                                   { return m.name }
func (m mutatorFunc) Admit(ctx context.Context, a *Attributes) error { return m.fn(ctx, a) }

// ValidatorFunc adapts a function to a Validator.
func ValidatorFunc(name string, fn func(ctx context.Context, a *Attributes) error) Validator {
	return validatorFunc{name: name, fn: fn}
}

type validatorFunc struct {
	name string
	fn   func(ctx context.Context, a *Attributes) error
}

func (v validatorFunc) Name() string                                      { return v.name }
func (v validatorFunc) Validate(ctx context.Context, a *Attributes) error { return v.fn(ctx, a) }

// Chain is a store.Store that admits every Create and Update (also inside a
// Txn) through its plugins before passing it to the wrapped Store. Reads,
// watches, status writes and deletes go straight through.
type Chain struct {
	store.Store

	mu         sync.RWMutex
	names      map[string]bool
	mutators   []Mutator
	validators []Validator
	committers []Committer
	afterDel   []func(ctx context.Context, namespace string)
}

var _ store.Store = (*Chain)(nil)

// maxCommitRetries bounds the retries of a write whose Committer ops
// conflicted with a concurrent write.
const maxCommitRetries = 16

// New wraps s in a chain of plugins, registered in order (mutators run in
// registration order, then validators in registration order).
func New(s store.Store, plugins ...Plugin) (*Chain, error) {
	c := &Chain{Store: s, names: map[string]bool{}}
	for _, p := range plugins {
		if err := c.Register(p); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// NewDefault wraps s in the built-in chain (Defaults) plus the given
// plugins.
func NewDefault(s store.Store, plugins ...Plugin) (*Chain, error) {
	return New(s, append(Defaults(s), plugins...)...)
}

// Defaults returns the built-in plugins in their order: Defaulting,
// LimitRanger, Validation, ResourceQuota. s is the store they read
// LimitRanges and ResourceQuotas from (the wrapped store).
func Defaults(s store.Store) []Plugin {
	return []Plugin{Defaulting{}, &LimitRanger{Store: s}, Validation{}, &ResourceQuota{Store: s}}
}

// Register adds a plugin, which must implement Mutator, Validator,
// Committer or several of them. A name already registered is refused with
// store.ErrAlreadyExists.
func (c *Chain) Register(p Plugin) error {
	if p == nil || p.Name() == "" {
		return fmt.Errorf("admission: plugin without a name: %w", store.ErrInvalid)
	}
	m, isM := p.(Mutator)
	v, isV := p.(Validator)
	cm, isC := p.(Committer)
	if !isM && !isV && !isC {
		return fmt.Errorf("admission: plugin %q is neither a Mutator, a Validator nor a Committer: %w", p.Name(), store.ErrInvalid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names[p.Name()] {
		return fmt.Errorf("admission: plugin %q: %w", p.Name(), store.ErrAlreadyExists)
	}
	c.names[p.Name()] = true
	if isM {
		c.mutators = append(c.mutators, m)
	}
	if isV {
		c.validators = append(c.validators, v)
	}
	if isC {
		c.committers = append(c.committers, cm)
	}
	if d, ok := p.(interface {
		afterDelete(ctx context.Context, namespace string)
	}); ok {
		c.afterDel = append(c.afterDel, d.afterDelete)
	}
	return nil
}

// Plugins returns the names of the registered plugins.
func (c *Chain) Plugins() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, m := range c.mutators {
		add(m.Name())
	}
	for _, v := range c.validators {
		add(v.Name())
	}
	for _, cm := range c.committers {
		add(cm.Name())
	}
	return out
}

type snapshot struct {
	mutators   []Mutator
	validators []Validator
	committers []Committer
	afterDel   []func(ctx context.Context, namespace string)
}

func (c *Chain) snapshot() snapshot {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return snapshot{c.mutators, c.validators, c.committers, c.afterDel}
}

// admit runs the mutators and validators over one write.
func (sn snapshot) admit(ctx context.Context, a *Attributes) error {
	for _, m := range sn.mutators {
		if err := m.Admit(ctx, a); err != nil {
			return refusal(m.Name(), a, err)
		}
	}
	for _, v := range sn.validators {
		if err := v.Validate(ctx, a); err != nil {
			return refusal(v.Name(), a, err)
		}
	}
	return nil
}

// refusal wraps a plugin's error: validation errors become store.ErrInvalid,
// errors of no store class become store.ErrForbidden.
func refusal(plugin string, a *Attributes, err error) error {
	m := a.Object.GetMetadata()
	name := m.GetName()
	if name == "" {
		name = m.GetGenerateName() + "*"
	}
	what := fmt.Sprintf("admission: %s %q refused by %s", a.Kind, name, plugin)
	switch {
	case errors.Is(err, validation.ErrInvalid) && !errors.Is(err, store.ErrInvalid):
		return fmt.Errorf("%s: %w: %w", what, store.ErrInvalid, err)
	case hasStoreClass(err):
		return fmt.Errorf("%s: %w", what, err)
	default:
		return fmt.Errorf("%s: %w: %w", what, store.ErrForbidden, err)
	}
}

func hasStoreClass(err error) bool {
	for _, class := range []error{store.ErrInvalid, store.ErrForbidden, store.ErrNotFound, store.ErrConflict,
		store.ErrAlreadyExists, store.ErrUnavailable} {
		if errors.Is(err, class) {
			return true
		}
	}
	return false
}

// attributes builds the Attributes of a write of obj, reading the stored
// object for an Update.
func (c *Chain) attributes(ctx context.Context, op Operation, obj api.Object) (*Attributes, error) {
	if obj == nil {
		return nil, fmt.Errorf("admission: nil object: %w", store.ErrInvalid)
	}
	info, err := c.Registry().KindOf(obj)
	if err != nil {
		return nil, fmt.Errorf("admission: %w: %w", store.ErrInvalid, err)
	}
	a := &Attributes{Operation: op, Kind: info.Kind, Object: api.Clone(obj)}
	if op == Update {
		m := obj.GetMetadata()
		old, err := c.Store.Get(ctx, info.Kind, m.GetNamespace(), m.GetName())
		if err != nil {
			return nil, err
		}
		a.Old = old
		// A writer need not echo the uid: the stored one is implied.
		if am := api.Meta(a.Object); am.GetUid() == "" {
			am.Uid = old.GetMetadata().GetUid()
		}
	}
	return a, nil
}

// write admits writes and commits them, with the committers' ops, in one
// transaction, retrying when those ops conflicted.
func (c *Chain) write(ctx context.Context, ops []store.Op) ([]api.Object, error) {
	sn := c.snapshot()
	var writes []*Attributes
	admitted := make([]store.Op, len(ops))
	for i, op := range ops {
		admitted[i] = op
		var kind Operation
		switch op.Type {
		case store.OpCreate:
			kind = Create
		case store.OpUpdate:
			kind = Update
		default:
			continue
		}
		a, err := c.attributes(ctx, kind, op.Object)
		if err != nil {
			return nil, err
		}
		if err := sn.admit(ctx, a); err != nil {
			return nil, err
		}
		admitted[i].Object = a.Object
		writes = append(writes, a)
	}
	if len(sn.committers) == 0 || len(writes) == 0 {
		return c.Store.Txn(ctx, admitted...)
	}
	for attempt := 0; ; attempt++ {
		all := slices.Clone(admitted)
		for _, cm := range sn.committers {
			extra, err := cm.Ops(ctx, c.Store, writes)
			if err != nil {
				return nil, refusal(cm.Name(), writes[0], err)
			}
			all = append(all, extra...)
		}
		if len(all) == len(admitted) {
			return c.Store.Txn(ctx, admitted...)
		}
		res, err := c.Store.Txn(ctx, all...)
		if err == nil {
			return res[:len(admitted)], nil
		}
		// A conflict is a committer's precondition (a concurrent write
		// moved the quota: count again) or the caller's own (report it).
		if !store.IsConflict(err) || attempt >= maxCommitRetries || !c.anyMoved(ctx, all[len(admitted):]) {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// anyMoved reports whether an object a committer's op was conditioned on
// changed (or vanished) since.
func (c *Chain) anyMoved(ctx context.Context, ops []store.Op) bool {
	for _, op := range ops {
		kind, ns, name, rv := op.Kind, op.Namespace, op.Name, op.ResourceVersion
		if op.Object != nil {
			info, err := c.Registry().KindOf(op.Object)
			if err != nil {
				return true
			}
			m := op.Object.GetMetadata()
			kind, ns, name, rv = info.Kind, m.GetNamespace(), m.GetName(), m.GetResourceVersion()
		}
		if rv == 0 {
			continue
		}
		cur, err := c.Store.Get(ctx, kind, ns, name)
		if err != nil || cur.GetMetadata().GetResourceVersion() != rv {
			return true
		}
	}
	return false
}

// Create admits obj and creates it. The chain admits (and writes) a copy
// of obj, so store.WriteOption changes nothing here.
func (c *Chain) Create(ctx context.Context, obj api.Object, _ ...store.WriteOption) (api.Object, error) {
	res, err := c.write(ctx, []store.Op{store.CreateOp(obj)})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// Update admits obj (with the stored object as Old) and updates it.
// Options as for Create.
func (c *Chain) Update(ctx context.Context, obj api.Object, _ ...store.WriteOption) (api.Object, error) {
	res, err := c.write(ctx, []store.Op{store.UpdateOp(obj)})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// Txn admits every Create and Update op and applies all ops, plus the
// committers' ops, atomically.
func (c *Chain) Txn(ctx context.Context, ops ...store.Op) ([]api.Object, error) {
	return c.write(ctx, ops)
}

// Delete deletes the object and lets plugins that track usage (the
// ResourceQuota plugin) recount the namespace.
func (c *Chain) Delete(ctx context.Context, kind, namespace, name string, opts store.DeleteOptions) (api.Object, error) {
	out, err := c.Store.Delete(ctx, kind, namespace, name, opts)
	if err != nil {
		return nil, err
	}
	for _, fn := range c.snapshot().afterDel {
		fn(ctx, namespace)
	}
	return out, nil
}

// Defaulting is the built-in Mutator that fills unset fields with
// api/validation.Default.
type Defaulting struct{}

// Name returns "Defaulting".
func (Defaulting) Name() string { return "Defaulting" }

// Admit defaults a.Object in place.
func (Defaulting) Admit(_ context.Context, a *Attributes) error {
	validation.Default(a.Object)
	return nil
}

// Validation is the built-in Validator that checks every field with
// api/validation (ValidateObject on create, ValidateUpdate on update).
type Validation struct{}

// Name returns "Validation".
func (Validation) Name() string { return "Validation" }

// Validate checks a.Object. Errors match store.ErrInvalid once the chain
// wraps them.
func (Validation) Validate(_ context.Context, a *Attributes) error {
	if a.Old != nil {
		return validation.ValidateUpdate(a.Object, a.Old)
	}
	return validation.ValidateObject(a.Object)
}
