package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/internal/kindwatch"
	"github.com/coxswain-io/coxswain/store"
)

// Config configures a Proxier.
type Config struct {
	// Store is watched for Services and Endpoints.
	Store store.Store
	// NetNS is the node's network namespace ("" = the process's own).
	NetNS string
	// Rules tunes rule generation.
	Rules Options
	// RestoreCommand and SaveCommand as in SyncerConfig.
	RestoreCommand, SaveCommand string
	// CheckInterval is how often the proxier checks that its jump rules are
	// still in place (and resyncs fully if not); 0 means 30 s.
	CheckInterval time.Duration
	// CleanupOnExit removes every rule the proxier owns when Start returns.
	CleanupOnExit bool
	// Metrics, if set, are updated on every sync.
	Metrics *Metrics
	// OnSync, if set, is called after every sync with its result and the
	// store revision it reflects (for metrics and tests). It must not block.
	OnSync func(res SyncResult, revision int64, err error)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Store == nil {
		return store.Errorf(store.ErrInvalid, "proxy: Store is required")
	}
	return nil
}

// fixedKey is the key of FixedRules among the parts; it sorts before every
// namespace/name key.
const fixedKey = ""

// Proxier keeps the node's service rules in sync with the Services and
// Endpoints in a store. Create it with New and run it with Start.
type Proxier struct {
	cfg    Config
	syncer *Syncer

	// mu guards the fields below; never held across a sync.
	mu        sync.Mutex
	services  map[string]*api.Service
	endpoints map[string]*api.Endpoints
	parts     map[string]*RuleSet // ServiceRules by service key; written only by the sync loop
	dirty     map[string]bool     // service keys whose parts must be rebuilt
	svcListed bool                // services listed at least once
	epListed  bool                // endpoints listed at least once
	revision  int64               // highest store revision seen
	since     time.Time           // when the oldest unsynced change arrived
	rules     int                 // rules in p.parts, kept for the Rules metric
	synced    int64               // revision of the last successful sync
	kick      chan struct{}
}

// New returns a Proxier.
func New(cfg Config) (*Proxier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.CheckInterval == 0 {
		cfg.CheckInterval = 30 * time.Second
	}
	return &Proxier{
		cfg:       cfg,
		syncer:    NewSyncer(SyncerConfig{NetNS: cfg.NetNS, RestoreCommand: cfg.RestoreCommand, SaveCommand: cfg.SaveCommand}),
		services:  map[string]*api.Service{},
		endpoints: map[string]*api.Endpoints{},
		parts:     map[string]*RuleSet{},
		dirty:     map[string]bool{},
		kick:      make(chan struct{}, 1),
	}, nil
}

// SyncedRevision returns the highest store revision (of the Service and
// Endpoints watches) whose changes the rules in place reflect.
func (p *Proxier) SyncedRevision() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.synced
}

// Start watches Services and Endpoints and syncs rules until ctx ends. With
// CleanupOnExit it then removes its rules.
func (p *Proxier) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, k := range []struct {
		kind string
		h    kindwatch.Handler
	}{{api.KindService, (*serviceHandler)(p)}, {api.KindEndpoints, (*endpointsHandler)(p)}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = kindwatch.Run(ctx, p.cfg.Store, k.kind, store.ListOptions{}, k.h)
		}()
	}
	err := p.loop(ctx)
	cancel()
	wg.Wait()
	if p.cfg.CleanupOnExit {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer ccancel()
		if cerr := p.syncer.Cleanup(cctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("proxy cleanup: %w", cerr))
		}
	}
	return err
}

func (p *Proxier) loop(ctx context.Context) error {
	check := time.NewTicker(p.cfg.CheckInterval)
	defer check.Stop()
	retry := time.NewTimer(0)
	<-retry.C
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.kick:
		case <-retry.C:
		case <-check.C:
			if ok, err := p.syncer.CheckJumps(); err != nil || !ok {
				slog.WarnContext(ctx, "proxy jump rules missing, resyncing", "err", err)
				p.syncer.Invalidate()
			} else {
				continue
			}
		}
		if err := p.syncOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			slog.ErrorContext(ctx, "proxy sync failed", "err", err, "retryIn", backoff)
			retry.Reset(backoff)
			if backoff < 10*time.Second {
				backoff *= 2
			}
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

func (p *Proxier) syncOnce(ctx context.Context) error {
	p.mu.Lock()
	if !p.svcListed || !p.epListed {
		p.mu.Unlock()
		return nil // wait for both lists, or we would remove live rules
	}
	changed := make([]string, 0, len(p.dirty)+1)
	for key := range p.dirty {
		if old, ok := p.parts[key]; ok {
			p.rules -= old.NumRules()
		}
		if svc, ok := p.services[key]; ok {
			p.parts[key] = ServiceRules(svc, p.endpoints[key], p.cfg.Rules)
			p.rules += p.parts[key].NumRules()
		} else {
			delete(p.parts, key)
		}
		changed = append(changed, key)
	}
	clear(p.dirty)
	if _, ok := p.parts[fixedKey]; !ok {
		p.parts[fixedKey] = FixedRules(p.cfg.Rules)
		p.rules += p.parts[fixedKey].NumRules()
		changed = append(changed, fixedKey)
	}
	rev, since, rules := p.revision, p.since, p.rules
	p.since = time.Time{}
	p.mu.Unlock()

	// p.parts is only written by this goroutine, so the syncer may read it
	// after the lock is released.
	res, err := p.syncer.SyncParts(ctx, p.parts, changed)
	if m := p.cfg.Metrics; m != nil {
		switch {
		case err != nil:
			m.SyncErrors.Inc()
		case res.Chains > 0 || res.Full:
			mode := "incremental"
			if res.Full {
				mode = "full"
			}
			m.SyncDuration.WithLabelValues(mode).Observe(res.Duration.Seconds())
		}
		if err == nil && !since.IsZero() {
			m.ProgrammingLatency.Observe(time.Since(since).Seconds())
		}
		m.Rules.Set(float64(rules))
	}
	if p.cfg.OnSync != nil {
		p.cfg.OnSync(res, rev, err)
	}
	if err != nil {
		p.mu.Lock()
		if p.since.IsZero() || (!since.IsZero() && since.Before(p.since)) {
			p.since = since // the changes are still unsynced
		}
		p.mu.Unlock()
		return err
	}
	if res.Chains > 0 {
		slog.DebugContext(ctx, "proxy synced", "full", res.Full, "chains", res.Chains, "lines", res.Lines, "took", res.Duration)
	}
	p.mu.Lock()
	p.synced = rev
	p.mu.Unlock()
	return nil
}

func (p *Proxier) changed(key string, rev int64) {
	p.dirty[key] = true
	if p.since.IsZero() {
		p.since = time.Now()
	}
	if rev > p.revision {
		p.revision = rev
	}
}

func (p *Proxier) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

type serviceHandler Proxier

// Replace implements kindwatch.Handler.
func (h *serviceHandler) Replace(objs []api.Object, rev int64) {
	p := (*Proxier)(h)
	p.mu.Lock()
	for k := range p.services {
		p.changed(k, rev)
	}
	p.services = map[string]*api.Service{}
	for _, o := range objs {
		if s, ok := o.(*api.Service); ok {
			k := kindwatch.Key(s)
			p.services[k] = s
			p.changed(k, rev)
		}
	}
	p.svcListed = true
	p.mu.Unlock()
	p.poke()
}

// Apply implements kindwatch.Handler.
func (h *serviceHandler) Apply(ev store.Event) {
	p := (*Proxier)(h)
	s, ok := ev.Object.(*api.Service)
	if !ok {
		return
	}
	k := kindwatch.Key(s)
	p.mu.Lock()
	if ev.Type == store.EventDeleted {
		delete(p.services, k)
	} else {
		p.services[k] = s
	}
	p.changed(k, ev.Revision)
	p.mu.Unlock()
	p.poke()
}

type endpointsHandler Proxier

// Replace implements kindwatch.Handler.
func (h *endpointsHandler) Replace(objs []api.Object, rev int64) {
	p := (*Proxier)(h)
	p.mu.Lock()
	for k := range p.endpoints {
		p.changed(k, rev)
	}
	p.endpoints = map[string]*api.Endpoints{}
	for _, o := range objs {
		if e, ok := o.(*api.Endpoints); ok {
			k := kindwatch.Key(e)
			p.endpoints[k] = e
			p.changed(k, rev)
		}
	}
	p.epListed = true
	p.mu.Unlock()
	p.poke()
}

// Apply implements kindwatch.Handler.
func (h *endpointsHandler) Apply(ev store.Event) {
	p := (*Proxier)(h)
	e, ok := ev.Object.(*api.Endpoints)
	if !ok {
		return
	}
	k := kindwatch.Key(e)
	p.mu.Lock()
	if ev.Type == store.EventDeleted {
		delete(p.endpoints, k)
	} else {
		p.endpoints[k] = e
	}
	p.changed(k, ev.Revision)
	p.mu.Unlock()
	p.poke()
}
