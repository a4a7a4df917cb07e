package events

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/store"
)

// Event types.
const (
	TypeNormal  = "Normal"
	TypeWarning = "Warning"
)

// DefaultNamespace holds events about cluster-scoped objects.
const DefaultNamespace = "default"

// cacheSize bounds the events a recorder remembers for cheap repeats.
const cacheSize = 4096

// Option configures a Recorder.
type Option func(*Recorder)

// WithClock sets the clock for timestamps; default the wall clock.
func WithClock(c clock.Clock) Option { return func(r *Recorder) { r.clock = c } }

// WithHost sets source.host (e.g. the node name of an agent).
func WithHost(host string) Option { return func(r *Recorder) { r.host = host } }

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(r *Recorder) { r.log = l } }

// Recorder writes Events to a store. It is safe for concurrent use.
type Recorder struct {
	s         store.Store
	events    store.Typed[*api.Event]
	component string
	host      string
	clock     clock.Clock
	log       *slog.Logger

	mu   sync.Mutex
	last map[string]*api.Event // by namespace/name: the last state written
}

// NewRecorder returns a recorder reporting as component (source.component
// and reportingComponent of its events).
func NewRecorder(s store.Store, component string, opts ...Option) *Recorder {
	r := &Recorder{
		s:         s,
		events:    store.For[*api.Event](s),
		component: component,
		clock:     clock.Real{},
		log:       slog.Default(),
		last:      map[string]*api.Event{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Eventf is Event with a formatted message.
func (r *Recorder) Eventf(ctx context.Context, obj api.Object, eventType, reason, format string, args ...any) (*api.Event, error) {
	return r.Event(ctx, obj, eventType, reason, fmt.Sprintf(format, args...))
}

// Event records that reason happened to obj, creating the Event or bumping
// the count of an identical one. It returns the Event as stored. Errors are
// also logged, so callers that treat events as best effort may ignore them.
func (r *Recorder) Event(ctx context.Context, obj api.Object, eventType, reason, message string) (*api.Event, error) {
	ev, err := r.record(ctx, obj, eventType, reason, message)
	if err != nil {
		r.log.Warn("could not record event", "reason", reason, "object", obj.GetMetadata().GetName(), "err", err)
	}
	return ev, err
}

func (r *Recorder) record(ctx context.Context, obj api.Object, eventType, reason, message string) (*api.Event, error) {
	info, err := r.s.Registry().KindOf(obj)
	if err != nil {
		return nil, fmt.Errorf("record event: %w", err)
	}
	m := obj.GetMetadata()
	ref := &api.ObjectReference{
		ApiVersion:      info.APIVersion,
		Kind:            info.Kind,
		Namespace:       m.GetNamespace(),
		Name:            m.GetName(),
		Uid:             m.GetUid(),
		ResourceVersion: m.GetResourceVersion(),
	}
	ns := m.GetNamespace()
	if ns == "" {
		ns = DefaultNamespace
	}
	name := eventName(ref, eventType, reason, message, r.component)
	key := ns + "/" + name
	now := timestamppb.New(r.clock.Now())

	// Fast path: bump the copy we wrote last, with its resourceVersion as
	// the precondition.
	r.mu.Lock()
	prev := r.last[key]
	r.mu.Unlock()
	if prev != nil {
		next := api.Clone(prev)
		next.Count++
		next.LastTimestamp = now
		next.InvolvedObject = ref
		if out, err := r.events.Update(ctx, next); err == nil {
			r.remember(key, out)
			return out, nil
		} else if !store.IsConflict(err) && !store.IsNotFound(err) {
			return nil, fmt.Errorf("record event: %w", err)
		}
	}

	ev := &api.Event{
		Metadata:           &api.ObjectMeta{Namespace: ns, Name: name},
		InvolvedObject:     ref,
		Reason:             reason,
		Message:            message,
		Type:               eventType,
		Source:             &api.EventSource{Component: r.component, Host: r.host},
		ReportingComponent: r.component,
		FirstTimestamp:     now,
		LastTimestamp:      now,
		Count:              1,
	}
	out, err := r.events.Create(ctx, ev)
	if store.IsAlreadyExists(err) {
		out, err = r.events.Mutate(ctx, ns, name, func(cur *api.Event) error {
			cur.Count++
			cur.LastTimestamp = now
			cur.InvolvedObject = ref
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("record event: %w", err)
	}
	r.remember(key, out)
	return out, nil
}

func (r *Recorder) remember(key string, ev *api.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.last) >= cacheSize {
		clear(r.last)
	}
	r.last[key] = ev
}

// eventName derives a stable name from what makes two events the same.
func eventName(ref *api.ObjectReference, eventType, reason, message, component string) string {
	h := fnv.New64a()
	for _, s := range []string{ref.Kind, ref.Namespace, ref.Name, ref.Uid, eventType, reason, message, component} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%s.%016x", ref.Name, h.Sum64())
}
