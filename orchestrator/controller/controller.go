package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/handler"
	"github.com/coxswain-io/coxswain/orchestrator/metrics"
	"github.com/coxswain-io/coxswain/orchestrator/predicate"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/orchestrator/workqueue"
	"github.com/coxswain-io/coxswain/store/informer"
)

// ErrAlreadyRunning is returned by Start while a previous Start is running.
var ErrAlreadyRunning = errors.New("controller already running")

// Options configure a Controller.
type Options struct {
	// Name identifies the controller in logs and metrics; required.
	Name string
	// Reconciler is called for each request; required.
	Reconciler reconcile.Reconciler
	// Workers is the number of concurrent reconciles; default 1.
	Workers int
	// RateLimiter paces retries; default workqueue.DefaultRateLimiter.
	RateLimiter workqueue.RateLimiter[reconcile.Request]
	// Clock times requeues; default the wall clock.
	Clock clock.Clock
	// Logger is the base logger; default slog.Default(). Every line the
	// controller logs carries controller=Name, and per request key=ns/name.
	Logger *slog.Logger
	// Metrics receives reconcile and queue metrics (the manager's, when
	// built with package builder); default metrics.Discard.
	Metrics metrics.Provider
	// SkipLeaderElection lets the controller run on every replica, not only
	// on the elected leader.
	SkipLeaderElection bool
}

// Validate checks the options.
func (o Options) Validate() error {
	switch {
	case o.Name == "":
		return errors.New("controller: Name is required")
	case o.Reconciler == nil:
		return fmt.Errorf("controller %s: Reconciler is required", o.Name)
	case o.Workers < 0:
		return fmt.Errorf("controller %s: Workers must not be negative", o.Name)
	}
	return nil
}

type source struct {
	inf   *informer.Informer
	mapFn handler.MapFunc
	preds []predicate.Predicate
}

// Controller is a work queue and workers around a Reconciler. Configure it
// with Watch, then run it with Start (it may be started again after a
// previous Start has returned, e.g. when leadership is regained; each run
// begins with every watched object enqueued).
type Controller struct {
	opts Options
	log  *slog.Logger
	ins  metrics.Instruments

	mu      sync.Mutex
	sources []source
	running bool
	queue   *workqueue.Queue[reconcile.Request]
}

// New returns a controller; it does nothing until Start.
func New(opts Options) (*Controller, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Workers == 0 {
		opts.Workers = 1
	}
	if opts.RateLimiter == nil {
		opts.RateLimiter = workqueue.DefaultRateLimiter[reconcile.Request]()
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.Discard{}
	}
	return &Controller{
		opts: opts,
		log:  opts.Logger.With("controller", opts.Name),
		ins:  opts.Metrics.Instruments(opts.Name).WithDefaults(),
	}, nil
}

// Name returns the controller's name.
func (c *Controller) Name() string { return c.opts.Name }

// NeedLeaderElection reports whether the controller runs only on the leader.
func (c *Controller) NeedLeaderElection() bool { return !c.opts.SkipLeaderElection }

// Watch makes changes seen by inf, admitted by every predicate, enqueue the
// requests mapFn returns. Watches added while the controller runs take
// effect at its next Start.
func (c *Controller) Watch(inf *informer.Informer, mapFn handler.MapFunc, preds ...predicate.Predicate) error {
	if inf == nil || mapFn == nil {
		return fmt.Errorf("controller %s: Watch needs an informer and a map function", c.opts.Name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sources = append(c.sources, source{inf: inf, mapFn: mapFn, preds: preds})
	return nil
}

// Enqueue adds req to the running controller's queue; it reports false when
// the controller is not running.
func (c *Controller) Enqueue(req reconcile.Request) bool {
	c.mu.Lock()
	q := c.queue
	c.mu.Unlock()
	if q == nil {
		return false
	}
	q.Add(req)
	return true
}

// Start runs the controller until ctx ends: it registers its handlers, waits
// for every watched informer to sync, runs Workers workers, and on ctx end
// stops taking work, waits for in-flight reconciles and returns nil. The
// informers must be started by the caller (the manager does it).
func (c *Controller) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return fmt.Errorf("controller %s: %w", c.opts.Name, ErrAlreadyRunning)
	}
	c.running = true
	q := workqueue.New(workqueue.Config[reconcile.Request]{RateLimiter: c.opts.RateLimiter, Clock: c.opts.Clock})
	c.queue = q
	sources := append([]source(nil), c.sources...)
	c.mu.Unlock()

	unregister := c.opts.Metrics.RegisterQueue(c.opts.Name, q.Len)
	var regs []*informer.Registration
	defer func() {
		for i, r := range regs {
			sources[i].inf.RemoveEventHandler(r)
		}
		q.ShutDown()
		unregister()
		c.mu.Lock()
		c.running, c.queue = false, nil
		c.mu.Unlock()
	}()
	for _, src := range sources {
		regs = append(regs, src.inf.AddEventHandler(c.handlerFor(ctx, q, src)))
	}

	c.log.Info("waiting for caches to sync")
	for _, src := range sources {
		if err := src.inf.WaitForSync(ctx); err != nil {
			return nil // ctx ended before sync: a normal stop
		}
	}
	c.log.Info("starting workers", "workers", c.opts.Workers)
	var wg sync.WaitGroup
	for range c.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNext(ctx, q) {
			}
		}()
	}
	<-ctx.Done()
	c.log.Info("stopping workers")
	q.ShutDown()
	wg.Wait()
	c.log.Info("stopped")
	return nil
}

func (c *Controller) handlerFor(ctx context.Context, q *workqueue.Queue[reconcile.Request], src source) informer.Handler {
	enqueue := func(obj api.Object) {
		for _, req := range src.mapFn(ctx, obj) {
			q.Add(req)
		}
	}
	return informer.HandlerFuncs{
		AddFunc: func(obj api.Object) {
			for _, p := range src.preds {
				if !p.Create(obj) {
					return
				}
			}
			enqueue(obj)
		},
		UpdateFunc: func(old, new api.Object) {
			for _, p := range src.preds {
				if !p.Update(old, new) {
					return
				}
			}
			enqueue(old)
			enqueue(new)
		},
		DeleteFunc: func(obj api.Object) {
			for _, p := range src.preds {
				if !p.Delete(obj) {
					return
				}
			}
			enqueue(obj)
		},
	}
}

// processNext reconciles one request; it returns false when the queue has
// shut down.
func (c *Controller) processNext(ctx context.Context, q *workqueue.Queue[reconcile.Request]) bool {
	req, ok := q.Get(ctx)
	if !ok {
		return false
	}
	defer q.Done(req)
	if ctx.Err() != nil {
		return true // draining after stop: level-triggered, the next run relists
	}
	m := &c.ins
	log := c.log.With("key", req.String())

	m.ActiveWorkers.Inc()
	start := c.opts.Clock.Now()
	res, err := c.reconcile(reconcile.WithLogger(ctx, log), req)
	m.ReconcileTime.Observe(c.opts.Clock.Since(start).Seconds())
	m.ActiveWorkers.Dec()

	switch {
	case err != nil && reconcile.IsTerminal(err):
		q.Forget(req)
		m.ReconcileErrors.Inc()
		m.Terminal.Inc()
		log.Error("reconcile failed; not retrying", "err", err)
	case err != nil:
		if ctx.Err() != nil {
			return true // cancelled by stop, not a failure worth retrying
		}
		q.AddRateLimited(req)
		m.ReconcileErrors.Inc()
		m.Retries.Inc()
		m.Error.Inc()
		log.Error("reconcile failed; retrying with backoff", "err", err, "retries", q.NumRequeues(req))
	case res.RequeueAfter > 0:
		q.Forget(req)
		// Counted from the start of the reconcile, not from now: a
		// reconciler computes the delay from a time it read then (say, to
		// a CronJob's next run), and however long it took since, or
		// however far a fake clock was stepped meanwhile, the key must
		// come back by that deadline, not that much after it.
		q.AddAt(req, start.Add(res.RequeueAfter))
		m.RequeueAfter.Inc()
		log.Debug("reconciled; requeue after delay", "after", res.RequeueAfter)
	case res.Requeue:
		q.AddRateLimited(req)
		m.Retries.Inc()
		m.Requeue.Inc()
		log.Debug("reconciled; requeue with backoff")
	default:
		q.Forget(req)
		m.Success.Inc()
		log.Debug("reconciled")
	}
	return true
}

// reconcile calls the reconciler, turning a panic into an error.
func (c *Controller) reconcile(ctx context.Context, req reconcile.Request) (res reconcile.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reconciler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return c.opts.Reconciler.Reconcile(ctx, req)
}
