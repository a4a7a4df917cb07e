package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/events"
	"github.com/coxswain-io/coxswain/orchestrator/leaderelection"
	"github.com/coxswain-io/coxswain/orchestrator/metrics"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
)

// ErrAlreadyStarted is returned by Start when the manager was started before.
var ErrAlreadyStarted = errors.New("manager already started")

// Options configure a Manager.
type Options struct {
	// Store is what every component reads and writes; required.
	Store store.Store
	// Logger is the base logger; default slog.Default().
	Logger *slog.Logger
	// Addr, if set, is the address /healthz, /readyz and /metrics (see
	// Metrics) are served on (e.g. "127.0.0.1:8080"; port 0 picks one, see Manager.Addr).
	Addr string
	// Listener, if set, is used instead of listening on Addr.
	Listener net.Listener
	// LeaderElection, if set, makes leader-only runnables run only while
	// this manager holds the lease. Its Store defaults to Options.Store.
	// Without it the manager is always the leader.
	LeaderElection *leaderelection.Config
	// Metrics receives the framework's metrics (package metrics) from
	// every controller built on this manager. If it is also an
	// http.Handler, as vmmetrics.Provider and prommetrics.Exporter are, it
	// is served at /metrics; otherwise /metrics is not served. Default:
	// metrics.Discard, which drops everything.
	Metrics metrics.Provider
	// InformerResync, if positive, is the resync period of shared informers.
	InformerResync time.Duration
}

// Check is a health or readiness check; it returns nil when healthy.
type Check func(r *http.Request) error

// Manager runs runnables with shared informers, leader election, health
// checks and metrics. Configure it, then call Start once.
type Manager struct {
	opts    Options
	log     *slog.Logger
	metrics metrics.Provider
	elector *leaderelection.Elector
	elected chan struct{}

	mu          sync.Mutex
	informers   map[string]*informer.Informer
	runnables   []Runnable // run everywhere
	leaderOnly  []Runnable
	healthz     map[string]Check
	readyz      map[string]Check
	started     bool
	stopping    bool            // set before waiting for runnables: start no more
	ctx         context.Context // the running manager's ctx, once started
	leaderCtx   context.Context // non-nil while leading
	wg          sync.WaitGroup
	leaderWG    *sync.WaitGroup
	errCh       chan error
	addr        net.Addr
	electedOnce sync.Once
}

// New returns a Manager.
func New(opts Options) (*Manager, error) {
	if opts.Store == nil {
		return nil, errors.New("manager: Store is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.Discard{}
	}
	mgr := &Manager{
		opts:      opts,
		log:       opts.Logger,
		metrics:   opts.Metrics,
		elected:   make(chan struct{}),
		informers: map[string]*informer.Informer{},
		healthz:   map[string]Check{},
		readyz:    map[string]Check{},
		errCh:     make(chan error, 1),
	}
	if le := opts.LeaderElection; le != nil {
		cfg := *le
		if cfg.Store == nil {
			cfg.Store = opts.Store
		}
		if cfg.Logger == nil {
			cfg.Logger = opts.Logger
		}
		var err error
		if mgr.elector, err = leaderelection.New(cfg); err != nil {
			return nil, fmt.Errorf("manager: %w", err)
		}
		mgr.healthz["leader-election"] = func(*http.Request) error { return mgr.elector.Healthy() }
	}
	return mgr, nil
}

// Store returns the manager's store.
func (m *Manager) Store() store.Store { return m.opts.Store }

// Logger returns the manager's base logger.
func (m *Manager) Logger() *slog.Logger { return m.log }

// Metrics returns the Provider controllers report into (Options.Metrics,
// or metrics.Discard).
func (m *Manager) Metrics() metrics.Provider { return m.metrics }

// Recorder returns an event recorder that reports as component.
func (m *Manager) Recorder(component string) *events.Recorder {
	return events.NewRecorder(m.opts.Store, component, events.WithLogger(m.log))
}

// Informer returns the shared informer of kind, creating it on first use.
// The manager starts it (on every replica, leader or not) and stops it.
func (m *Manager) Informer(kind string) (*informer.Informer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if inf, ok := m.informers[kind]; ok {
		return inf, nil
	}
	opts := []informer.Option{informer.WithLogger(m.log)}
	if m.opts.InformerResync > 0 {
		opts = append(opts, informer.WithResyncPeriod(m.opts.InformerResync))
	}
	inf, err := informer.New(m.opts.Store, kind, opts...)
	if err != nil {
		return nil, fmt.Errorf("manager: %w", err)
	}
	m.informers[kind] = inf
	if m.started {
		m.goRun(m.ctx, inf, nil)
	}
	return inf, nil
}

// Add registers a runnable. Runnables that need leader election (the
// default; see LeaderElectionRunnable) run only while this manager leads.
// Added after Start, a runnable starts at once (a leader-only one when this
// manager leads).
func (m *Manager) Add(r Runnable) error {
	if r == nil {
		return errors.New("manager: Add(nil)")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !needsLeader(r) {
		m.runnables = append(m.runnables, r)
		if m.started {
			m.goRun(m.ctx, r, nil)
		}
		return nil
	}
	m.leaderOnly = append(m.leaderOnly, r)
	if m.leaderCtx != nil {
		m.goRun(m.leaderCtx, r, m.leaderWG)
	}
	return nil
}

// AddHealthzCheck adds a liveness check served at /healthz. With leader
// election, a "leader-election" check is always present: it fails when this
// manager leads but has not renewed its lease for a lease duration.
func (m *Manager) AddHealthzCheck(name string, c Check) error {
	return m.addCheck(m.healthz, name, c)
}

// AddReadyzCheck adds a readiness check served at /readyz. Readiness also
// requires every shared informer to have synced.
func (m *Manager) AddReadyzCheck(name string, c Check) error {
	return m.addCheck(m.readyz, name, c)
}

func (m *Manager) addCheck(set map[string]Check, name string, c Check) error {
	if name == "" || c == nil {
		return errors.New("manager: a check needs a name and a func")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := set[name]; ok {
		return fmt.Errorf("manager: check %q already added", name)
	}
	set[name] = c
	return nil
}

// Elected returns a channel closed the first time this manager becomes
// leader (at once without leader election).
func (m *Manager) Elected() <-chan struct{} { return m.elected }

// IsLeader reports whether leader-only runnables are running here now.
func (m *Manager) IsLeader() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leaderCtx != nil
}

// Addr returns the address health and metrics are served on, once Start
// has begun serving; nil otherwise.
func (m *Manager) Addr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addr
}

// goRun starts r in a goroutine tracked by m.wg (and leaderWG, if not
// nil); a non-nil error stops the manager. Called with m.mu held, which
// keeps every Add on a WaitGroup before the Wait that follows clearing it.
func (m *Manager) goRun(ctx context.Context, r Runnable, leaderWG *sync.WaitGroup) {
	if m.stopping {
		return
	}
	m.wg.Add(1)
	if leaderWG != nil {
		leaderWG.Add(1)
	}
	go func() {
		defer m.wg.Done()
		if leaderWG != nil {
			defer leaderWG.Done()
		}
		if err := r.Start(ctx); err != nil {
			select {
			case m.errCh <- fmt.Errorf("runnable %T: %w", r, err):
			default:
			}
		}
	}()
}

// Start runs everything until ctx ends or a runnable fails, then stops
// every runnable and waits for them. It returns nil after a clean stop, the
// first runnable error otherwise.
func (m *Manager) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return ErrAlreadyStarted
	}
	m.started = true
	m.ctx = ctx
	m.mu.Unlock()

	srv, err := m.serve()
	if err != nil {
		return err
	}
	m.mu.Lock()
	for _, inf := range m.informers {
		m.goRun(ctx, inf, nil)
	}
	for _, r := range m.runnables {
		m.goRun(ctx, r, nil)
	}
	m.mu.Unlock()

	if m.elector == nil {
		m.lead(ctx)
	} else {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.campaign(ctx)
		}()
	}
	m.log.Info("manager started")

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-m.errCh:
		m.log.Error("runnable failed; stopping manager", "err", runErr)
	}
	cancel()
	m.mu.Lock()
	m.stopping = true
	m.mu.Unlock()
	m.wg.Wait()
	if srv != nil {
		shutCtx, c := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(shutCtx)
		c()
	}
	m.log.Info("manager stopped")
	return runErr
}

// campaign runs elections until ctx ends, starting leader-only runnables
// each time this manager wins and stopping them when it loses.
func (m *Manager) campaign(ctx context.Context) {
	for ctx.Err() == nil {
		err := m.elector.Run(ctx, func(leadCtx context.Context) {
			m.lead(leadCtx)
			<-leadCtx.Done()
			m.mu.Lock()
			wg := m.leaderWG
			m.leaderCtx, m.leaderWG = nil, nil
			m.mu.Unlock()
			wg.Wait()
			m.log.Info("stopped leader-only runnables")
		})
		if err != nil {
			m.log.Warn("leader election ended; campaigning again", "err", err)
		}
	}
}

// lead starts the leader-only runnables under leadCtx.
func (m *Manager) lead(leadCtx context.Context) {
	m.mu.Lock()
	m.leaderCtx, m.leaderWG = leadCtx, &sync.WaitGroup{}
	for _, r := range m.leaderOnly {
		m.goRun(leadCtx, r, m.leaderWG)
	}
	n := len(m.leaderOnly)
	m.mu.Unlock()
	m.electedOnce.Do(func() { close(m.elected) })
	m.log.Info("leading: started leader-only runnables", "count", n)
}

func (m *Manager) serve() (*http.Server, error) {
	ln := m.opts.Listener
	if ln == nil && m.opts.Addr == "" {
		return nil, nil
	}
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", m.opts.Addr); err != nil {
			return nil, fmt.Errorf("manager: listen: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/healthz", m.checkHandler(m.healthz, false))
	mux.Handle("/readyz", m.checkHandler(m.readyz, true))
	h, serveMetrics := m.metrics.(http.Handler)
	if serveMetrics {
		mux.Handle("/metrics", h)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	m.mu.Lock()
	m.addr = ln.Addr()
	m.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			select {
			case m.errCh <- fmt.Errorf("manager: serve: %w", err):
			default:
			}
		}
	}()
	m.log.Info("serving health checks", "addr", ln.Addr().String(), "metrics", serveMetrics)
	return srv, nil
}

// checkHandler runs every check (and, for readiness, informer sync) and
// answers 200 "ok" or 500 with one line per failure.
func (m *Manager) checkHandler(set map[string]Check, informers bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		names := make([]string, 0, len(set))
		checks := make(map[string]Check, len(set))
		for n, c := range set {
			names = append(names, n)
			checks[n] = c
		}
		var infs []*informer.Informer
		if informers {
			for _, inf := range m.informers {
				infs = append(infs, inf)
			}
		}
		m.mu.Unlock()
		sort.Strings(names)
		var failed []string
		for _, inf := range infs {
			if !inf.HasSynced() {
				failed = append(failed, fmt.Sprintf("informer %s: not synced", inf.Kind()))
			}
		}
		for _, n := range names {
			if err := checks[n](r); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", n, err))
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if len(failed) > 0 {
			sort.Strings(failed)
			w.WriteHeader(http.StatusInternalServerError)
			for _, f := range failed {
				fmt.Fprintln(w, f)
			}
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// ListerFor returns typed reads over m's shared informer of T's kind,
// creating the informer on first use.
func ListerFor[T api.Object](m *Manager) (informer.Lister[T], error) {
	var zero T
	info, err := m.opts.Store.Registry().KindOf(zero)
	if err != nil {
		return informer.Lister[T]{}, fmt.Errorf("manager: %w", err)
	}
	inf, err := m.Informer(info.Kind)
	if err != nil {
		return informer.Lister[T]{}, err
	}
	return informer.ListerFor[T](inf), nil
}
