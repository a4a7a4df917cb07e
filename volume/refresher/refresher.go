package refresher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
)

// PodDir is a pod whose volumes are set up, and its pod directory.
type PodDir struct {
	Pod *api.Pod
	Dir string
}

// PodSource lists the pods whose volumes are set up on this node. It is
// called from the refresher's goroutine; it must be safe to call
// concurrently with the agent's own work and must not block for long.
type PodSource interface {
	Pods() []PodDir
}

// PodSourceFunc adapts a function to PodSource.
type PodSourceFunc func() []PodDir

// Pods calls f.
func (f PodSourceFunc) Pods() []PodDir { return f() }

// Config configures a Refresher.
type Config struct {
	// Store is watched for ConfigMaps and Secrets. Required.
	Store store.Store
	// Registry updates the pods' volumes. Required.
	Registry *volume.Registry
	// Pods lists the pods to keep current. Required.
	Pods PodSource
	// Resync is how often every pod is updated regardless of events
	// (default 1 minute).
	Resync time.Duration
	// RetryDelay is the wait before re-watching after a watch fails
	// (default 1 second).
	RetryDelay time.Duration
	// Log receives errors and retries; discarded if nil.
	Log *slog.Logger
}

// Validate checks the config and fills in defaults.
func (c *Config) Validate() error {
	if c.Store == nil || c.Registry == nil || c.Pods == nil {
		return fmt.Errorf("refresher: Store, Registry and Pods are required: %w", volume.ErrInvalidSpec)
	}
	if c.Resync <= 0 {
		c.Resync = time.Minute
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Refresher keeps projected volumes current. Use New, then Start.
type Refresher struct {
	cfg Config
}

// New returns a Refresher for cfg.
func New(cfg Config) (*Refresher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Refresher{cfg: cfg}, nil
}

// watchedKinds are the kinds whose changes reach files.
var watchedKinds = []string{api.KindConfigMap, api.KindSecret}

// Start watches and updates until ctx ends; it then returns nil.
func (r *Refresher) Start(ctx context.Context) error {
	for ctx.Err() == nil {
		err := r.run(ctx)
		if ctx.Err() != nil {
			break
		}
		r.cfg.Log.WarnContext(ctx, "volume refresher: watch ended, resyncing", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(r.cfg.RetryDelay):
		}
	}
	return nil
}

// run updates every pod, then watches from the revision read before that
// pass (so no change is missed) until a watch fails.
func (r *Refresher) run(ctx context.Context) error {
	rev, err := r.cfg.Store.Revision(ctx)
	if err != nil {
		return err
	}
	r.updateAll(ctx)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chans := make([]<-chan store.Event, len(watchedKinds))
	watches := make([]store.Watch, len(watchedKinds))
	for i, kind := range watchedKinds {
		w, err := r.cfg.Store.Watch(wctx, kind, store.WatchOptions{Revision: rev})
		if err != nil {
			return fmt.Errorf("watch %s: %w", kind, err)
		}
		watches[i], chans[i] = w, w.Events()
	}
	ticker := time.NewTicker(r.cfg.Resync)
	defer ticker.Stop()
	for {
		var (
			ev  store.Event
			ok  bool
			idx int
		)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
			r.updateAll(ctx)
			continue
		case ev, ok = <-chans[0]:
			idx = 0
		case ev, ok = <-chans[1]:
			idx = 1
		}
		if !ok {
			err := watches[idx].Err()
			if err == nil {
				err = errors.New("watch closed")
			}
			return fmt.Errorf("watch %s: %w", watchedKinds[idx], err)
		}
		if ev.Object == nil {
			continue // bookmark
		}
		m := ev.Object.GetMetadata()
		r.updateUsers(ctx, watchedKinds[idx], m.GetNamespace(), m.GetName())
	}
}

func (r *Refresher) updateUsers(ctx context.Context, kind, namespace, name string) {
	for _, pd := range r.cfg.Pods.Pods() {
		if volume.Uses(pd.Pod, kind, namespace, name) {
			r.update(ctx, pd)
		}
	}
}

func (r *Refresher) updateAll(ctx context.Context) {
	for _, pd := range r.cfg.Pods.Pods() {
		r.update(ctx, pd)
	}
}

func (r *Refresher) update(ctx context.Context, pd PodDir) {
	if err := r.cfg.Registry.UpdatePod(ctx, pd.Pod, pd.Dir); err != nil && ctx.Err() == nil {
		m := pd.Pod.GetMetadata()
		r.cfg.Log.WarnContext(ctx, "volume refresher: update failed", "pod", m.GetNamespace()+"/"+m.GetName(), "err", err)
	}
}
