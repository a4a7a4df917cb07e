package memstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/internal/fastclone"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore/internal/wire"
)

// Command is one deterministic write: the operations of a Create, Update,
// UpdateStatus, Delete or Txn (or a compaction), with everything that is not
// a function of the store's state decided up front by Prepare: uids,
// generated names, and the command's time, from which creation and deletion
// timestamps are taken. Applying the same commands in the same order to
// stores restored from the same snapshot gives the same objects and
// revisions on every replica.
//
// A Command owns its objects; Apply consumes it, so apply a command once,
// or Marshal it and apply decoded copies.
type Command struct {
	time          int64
	ops           []cmdOp
	one           [1]cmdOp // backs ops for the common single-op command
	compact       int64
	compactBefore int64
}

type cmdOp struct {
	typ    store.OpType
	kind   string
	ns     string
	name   string
	obj    api.Object
	rv     int64
	uid    string
	policy string
	// handedOver: obj is the caller's own object, not a copy
	// (store.Consume).
	handedOver bool
}

// Prepare checks ops as far as they can be checked without the store's state
// and turns them into a Command: it clones the objects, fills generated
// names and uids, merges Secret stringData into data, and stamps the time.
// Errors are of class store.ErrInvalid.
func (s *Store) Prepare(ctx context.Context, ops ...store.Op) (*Command, error) {
	return s.prepare(ctx, false, ops...)
}

// PrepareOwned is Prepare for a caller that gives the ops' objects up
// (store.Consume): the command takes them rather than copies, and may
// modify them.
func (s *Store) PrepareOwned(ctx context.Context, ops ...store.Op) (*Command, error) {
	return s.prepare(ctx, true, ops...)
}

// prepare is Prepare; with consume, the command takes the ops' objects
// rather than copies of them.
func (s *Store) prepare(ctx context.Context, consume bool, ops ...store.Op) (*Command, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return nil, store.Errorf(store.ErrInvalid, "no operations")
	}
	cmd := &Command{time: s.cfg.clock().UnixNano()}
	if len(ops) == 1 {
		cmd.ops = cmd.one[:0]
	} else {
		cmd.ops = make([]cmdOp, 0, len(ops))
	}
	for i, op := range ops {
		c, err := s.prepareOp(op, consume)
		if err != nil {
			if len(ops) > 1 {
				return nil, fmt.Errorf("op %d: %w", i, err)
			}
			return nil, err
		}
		cmd.ops = append(cmd.ops, c)
	}
	if len(cmd.ops) > 1 {
		seen := make(map[string]bool, len(cmd.ops))
		for _, c := range cmd.ops {
			if c.typ == store.OpCheck {
				continue
			}
			k := key(c.kind, c.ns, c.name)
			if seen[k] {
				return nil, store.Errorf(store.ErrInvalid, "transaction writes %s %s/%s more than once", c.kind, c.ns, c.name)
			}
			seen[k] = true
		}
	}
	return cmd, nil
}

// NewCompactCommand returns the command that compacts history at and
// before revision (see Store.Compact).
func NewCompactCommand(revision int64) *Command { return &Command{compact: revision} }

// NewCompactBeforeCommand returns the command that compacts history written
// before t (command time).
func NewCompactBeforeCommand(t int64) *Command { return &Command{compactBefore: t} }

func (s *Store) prepareOp(op store.Op, consume bool) (cmdOp, error) {
	c := cmdOp{typ: op.Type, handedOver: consume}
	switch op.Type {
	case store.OpCreate, store.OpUpdate, store.OpUpdateStatus:
		if op.Object == nil {
			return c, store.Errorf(store.ErrInvalid, "nil object")
		}
		ki, err := s.kindOfObject(op.Object)
		if err != nil {
			return c, err
		}
		var obj api.Object
		switch {
		case consume:
			// The caller gave the object up: Apply reads what it needs
			// of it (for UpdateStatus, only metadata and status; for
			// Update, not the status, which it replaces).
			obj = op.Object
		case op.Type == store.OpUpdateStatus && ki.statusField != nil:
			obj = statusOnly(ki, op.Object)
		case op.Type == store.OpUpdate && ki.statusField != nil:
			// Apply replaces the status with the stored one: don't copy it.
			obj = fastclone.CloneWithout(op.Object, ki.statusGoName)
		default:
			obj = fastclone.Clone(op.Object)
		}
		m := api.Meta(obj)
		c.kind, c.ns, c.name, c.obj = ki.Kind, m.GetNamespace(), m.GetName(), obj
		if op.Type == store.OpCreate {
			m.Uid = newUID()
			if c.name == "" && m.GetGenerateName() != "" {
				c.name = m.GetGenerateName() + randomSuffix()
				m.Name = c.name
			}
		}
		if op.Type == store.OpUpdateStatus && ki.statusField == nil {
			return c, store.Errorf(store.ErrInvalid, "kind %s has no status", ki.Kind)
		}
		if op.Type != store.OpUpdateStatus {
			mergeStringData(obj)
		}
		if err := checkAddress(ki, c.ns, c.name); err != nil {
			return c, err
		}
	case store.OpDelete, store.OpCheck:
		ki, err := s.kind(op.Kind)
		if err != nil {
			return c, err
		}
		c.kind, c.ns, c.name = ki.Kind, op.Namespace, op.Name
		if err := checkAddress(ki, c.ns, c.name); err != nil {
			return c, err
		}
		if op.Type == store.OpDelete {
			c.rv, c.uid, c.policy = op.Delete.ResourceVersion, op.Delete.UID, op.Delete.PropagationPolicy
			if op.ResourceVersion != 0 && c.rv == 0 {
				c.rv = op.ResourceVersion
			}
			switch c.policy {
			case "", store.PropagationBackground, store.PropagationForeground, store.PropagationOrphan:
			default:
				return c, store.Errorf(store.ErrInvalid, "unknown propagation policy %q", c.policy)
			}
		} else {
			c.rv = op.ResourceVersion
		}
	default:
		return c, store.Errorf(store.ErrInvalid, "unknown op type %d", op.Type)
	}
	return c, nil
}

func checkAddress(ki *kindInfo, ns, name string) error {
	if name == "" {
		return store.Errorf(store.ErrInvalid, "%s: metadata.name (or generateName) is required", ki.Kind)
	}
	if len(name) > 253 || strings.ContainsAny(name, "/\x00") {
		return store.Errorf(store.ErrInvalid, "%s %q: name must be at most 253 characters without '/'", ki.Kind, name)
	}
	if strings.ContainsAny(ns, "/\x00") {
		return store.Errorf(store.ErrInvalid, "%s %q: bad namespace %q", ki.Kind, name, ns)
	}
	switch {
	case ki.Scope == api.ClusterScoped && ns != "":
		return store.Errorf(store.ErrInvalid, "%s %q: kind is cluster-scoped, namespace must be empty", ki.Kind, name)
	case ki.Scope == api.Namespaced && ns == "":
		return store.Errorf(store.ErrInvalid, "%s %q: metadata.namespace is required", ki.Kind, name)
	}
	return nil
}

func mergeStringData(obj api.Object) {
	sec, ok := obj.(*api.Secret)
	if !ok || len(sec.StringData) == 0 {
		return
	}
	if sec.Data == nil {
		sec.Data = make(map[string][]byte, len(sec.StringData))
	}
	for k, v := range sec.StringData {
		sec.Data[k] = []byte(v)
	}
	sec.StringData = nil
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

const suffixAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func randomSuffix() string {
	var b [5]byte
	for i := range b {
		b[i] = suffixAlphabet[mrand.IntN(len(suffixAlphabet))]
	}
	return string(b[:])
}

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// Marshal encodes the command as protobuf, for a replicated log.
func (c *Command) Marshal() ([]byte, error) {
	w := &wire.Command{TimeUnixNano: c.time, CompactRevision: c.compact, CompactBeforeUnixNano: c.compactBefore}
	for _, op := range c.ops {
		wo := &wire.Op{
			Type: int32(op.typ), Kind: op.kind, Namespace: op.ns, Name: op.name,
			ResourceVersion: op.rv, Uid: op.uid, PropagationPolicy: op.policy,
		}
		if op.obj != nil {
			b, err := marshalOpts.Marshal(op.obj)
			if err != nil {
				return nil, fmt.Errorf("marshal command object: %w", err)
			}
			wo.Object = b
		}
		w.Ops = append(w.Ops, wo)
	}
	return marshalOpts.Marshal(w)
}

// UnmarshalCommand decodes a command Marshal encoded; reg resolves kinds.
func UnmarshalCommand(data []byte, reg *api.Registry) (*Command, error) {
	var w wire.Command
	if err := proto.Unmarshal(data, &w); err != nil {
		return nil, store.Errorf(store.ErrInvalid, "decode command: %v", err)
	}
	c := &Command{time: w.GetTimeUnixNano(), compact: w.GetCompactRevision(), compactBefore: w.GetCompactBeforeUnixNano()}
	for _, wo := range w.GetOps() {
		op := cmdOp{
			typ: store.OpType(wo.GetType()), kind: wo.GetKind(), ns: wo.GetNamespace(), name: wo.GetName(),
			rv: wo.GetResourceVersion(), uid: wo.GetUid(), policy: wo.GetPropagationPolicy(),
		}
		if wo.GetObject() != nil {
			info, err := reg.Lookup(wo.GetKind())
			if err != nil {
				return nil, store.Errorf(store.ErrInvalid, "decode command: %v", err)
			}
			obj := info.New()
			if err := proto.Unmarshal(wo.GetObject(), obj); err != nil {
				return nil, store.Errorf(store.ErrInvalid, "decode command object: %v", err)
			}
			op.obj = obj
		}
		c.ops = append(c.ops, op)
	}
	return c, nil
}

// statusOnly copies just the metadata and status of obj: all UpdateStatus
// reads.
func statusOnly(ki *kindInfo, obj api.Object) api.Object {
	if ki.metaGoName != "" && ki.statusGoName != "" {
		return fastclone.CloneOnly(obj, ki.metaGoName, ki.statusGoName)
	}
	// Not a generated struct: copy the two fields through reflection.
	src := obj.ProtoReflect()
	dst := src.New()
	for _, fd := range []protoreflect.FieldDescriptor{ki.metaField, ki.statusField} {
		if src.Has(fd) {
			dst.Set(fd, protoreflect.ValueOfMessage(fastclone.Message(src.Get(fd).Message().Interface()).ProtoReflect()))
		}
	}
	return dst.Interface().(api.Object)
}
