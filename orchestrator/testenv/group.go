package testenv

import (
	"context"
	"errors"
	"sync"

	"github.com/coxswain-io/coxswain/orchestrator/manager"
)

// group runs the control plane's components (controllers, scheduler, node
// agents) as one runnable of the manager, under a context of its own, so
// that Env.Stop can stop them, and wait for them, before the manager stops
// the shared informers they read: nothing is still unregistering a handler
// or reading a cache while the caches shut down.
type group struct {
	runnables []manager.Runnable

	mu      sync.Mutex
	cancel  context.CancelFunc
	stopped bool
	done    chan struct{}
}

func newGroup() *group { return &group{done: make(chan struct{})} }

func (g *group) add(r manager.Runnable) { g.runnables = append(g.runnables, r) }

// Start runs every runnable until ctx ends or stop is called. The first
// error stops the others and is returned.
func (g *group) Start(ctx context.Context) error {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		close(g.done)
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	g.cancel = cancel
	g.mu.Unlock()
	defer close(g.done)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(g.runnables))
	for i, r := range g.runnables {
		wg.Go(func() {
			if err := r.Start(ctx); err != nil {
				errs[i] = err
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// stop cancels the group and waits for it, if it started.
func (g *group) stop() {
	g.mu.Lock()
	g.stopped = true
	cancel := g.cancel
	g.mu.Unlock()
	if cancel == nil {
		return // never started: the manager's stop is enough
	}
	cancel()
	<-g.done
}
