package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/store"
)

// ErrLeadershipLost is returned by Run when the lease could not be renewed
// or was taken over.
var ErrLeadershipLost = errors.New("leadership lost")

// Config configures an Elector.
type Config struct {
	// Store holds the Lease; required.
	Store store.Store
	// Namespace and Name address the Lease; Name is required, Namespace
	// defaults to "default".
	Namespace, Name string
	// Identity names this candidate; required and unique among candidates.
	Identity string
	// LeaseDuration is how long a lease stays valid without renewal;
	// default 15s.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it
	// steps down; default 10s. Must be less than LeaseDuration.
	RenewDeadline time.Duration
	// RetryPeriod is the interval between attempts to acquire or renew;
	// default 2s. Must be less than RenewDeadline.
	RetryPeriod time.Duration
	// ReleaseOnCancel clears the holder when Run's ctx ends, so another
	// candidate can take over at once instead of after LeaseDuration.
	ReleaseOnCancel bool
	// Clock is the time source; default the wall clock.
	Clock clock.Clock
	// Logger; default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 15 * time.Second
	}
	if c.RenewDeadline == 0 {
		c.RenewDeadline = 10 * time.Second
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = 2 * time.Second
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate checks the configuration (after defaults are applied by New).
func (c Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("leaderelection: Store is required")
	case c.Name == "":
		return errors.New("leaderelection: Name is required")
	case c.Identity == "":
		return errors.New("leaderelection: Identity is required")
	case c.RetryPeriod <= 0 || c.RenewDeadline <= c.RetryPeriod:
		return fmt.Errorf("leaderelection: need 0 < RetryPeriod (%v) < RenewDeadline (%v)", c.RetryPeriod, c.RenewDeadline)
	case c.LeaseDuration <= c.RenewDeadline:
		return fmt.Errorf("leaderelection: need RenewDeadline (%v) < LeaseDuration (%v)", c.RenewDeadline, c.LeaseDuration)
	}
	return nil
}

// Elector campaigns for one lease. It is safe for concurrent use; Run must
// not be called concurrently with itself.
type Elector struct {
	cfg   Config
	lease store.Typed[*api.Lease]
	log   *slog.Logger

	mu           sync.Mutex
	leading      bool
	observedRV   int64
	observedAt   time.Time
	observedHold string
	lastRenew    time.Time // last successful acquire or renew
}

// New returns an Elector.
func New(cfg Config) (*Elector, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Elector{
		cfg:   cfg,
		lease: store.For[*api.Lease](cfg.Store),
		log:   cfg.Logger.With("lease", cfg.Namespace+"/"+cfg.Name, "identity", cfg.Identity),
	}, nil
}

// IsLeader reports whether this candidate currently holds the lease.
func (e *Elector) IsLeader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading
}

// Healthy returns an error when this candidate believes it leads but has
// not renewed its lease for longer than LeaseDuration: its leader work may
// be running while another candidate has taken over, so a health check
// should fail and the process be restarted.
func (e *Elector) Healthy() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.leading {
		return nil
	}
	if since := e.cfg.Clock.Since(e.lastRenew); since > e.cfg.LeaseDuration {
		return fmt.Errorf("leaderelection: leading but lease not renewed for %v (lease duration %v)", since, e.cfg.LeaseDuration)
	}
	return nil
}

// Leader returns the holder this candidate last observed ("" if none).
func (e *Elector) Leader() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.observedHold
}

// Run campaigns until it holds the lease, then calls onLead with a context
// that is cancelled when leadership ends, and keeps renewing. It returns
// nil when ctx ends (after onLead has returned and, with ReleaseOnCancel,
// the lease was released), or ErrLeadershipLost when renewal failed or the
// lease was taken; onLead has returned by then. Run may be called again to
// campaign anew.
func (e *Elector) Run(ctx context.Context, onLead func(ctx context.Context)) error {
	if !e.acquire(ctx) {
		return nil
	}
	leadCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		onLead(leadCtx)
	}()
	e.renew(leadCtx)
	cancel()
	<-done
	e.setLeading(false)
	if ctx.Err() != nil {
		if e.cfg.ReleaseOnCancel {
			e.release()
		}
		return nil
	}
	e.log.Warn("leadership lost")
	return ErrLeadershipLost
}

func (e *Elector) setLeading(v bool) {
	e.mu.Lock()
	e.leading = v
	e.mu.Unlock()
}

// acquire tries every RetryPeriod until it holds the lease (true) or ctx
// ends (false).
func (e *Elector) acquire(ctx context.Context) bool {
	e.log.Info("campaigning for leadership")
	for {
		ok, err := e.tryAcquireOrRenew(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Debug("acquire attempt failed", "err", err)
		}
		if ok {
			e.setLeading(true)
			e.log.Info("became leader")
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-e.cfg.Clock.After(e.cfg.RetryPeriod):
		}
	}
}

// renew renews every RetryPeriod until ctx ends or it has failed to renew
// for RenewDeadline (or sees another holder).
func (e *Elector) renew(ctx context.Context) {
	last := e.cfg.Clock.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.cfg.Clock.After(e.cfg.RetryPeriod):
		}
		ok, err := e.tryAcquireOrRenew(ctx)
		if ok {
			last = e.cfg.Clock.Now()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errHeldByOther) {
			e.log.Warn("lease taken by another candidate", "holder", e.Leader())
			return
		}
		if e.cfg.Clock.Since(last) >= e.cfg.RenewDeadline {
			e.log.Warn("could not renew lease before the deadline", "err", err)
			return
		}
		e.log.Debug("renew attempt failed", "err", err)
	}
}

var errHeldByOther = errors.New("lease held by another candidate")

// tryAcquireOrRenew makes one attempt to take or renew the lease.
func (e *Elector) tryAcquireOrRenew(ctx context.Context) (bool, error) {
	now := e.cfg.Clock.Now()
	seconds := int32((e.cfg.LeaseDuration + time.Second - 1) / time.Second)
	cur, err := e.lease.Get(ctx, e.cfg.Namespace, e.cfg.Name)
	if store.IsNotFound(err) {
		l := &api.Lease{
			Metadata: &api.ObjectMeta{Namespace: e.cfg.Namespace, Name: e.cfg.Name},
			Spec: &api.LeaseSpec{
				HolderIdentity:       e.cfg.Identity,
				LeaseDurationSeconds: seconds,
				AcquireTime:          timestamppb.New(now),
				RenewTime:            timestamppb.New(now),
			},
		}
		created, err := e.lease.Create(ctx, l)
		if err != nil {
			return false, fmt.Errorf("create lease: %w", err)
		}
		e.observe(created, now)
		e.renewed(now)
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("get lease: %w", err)
	}
	e.observe(cur, now)
	holder := cur.GetSpec().GetHolderIdentity()
	if holder != "" && holder != e.cfg.Identity {
		e.mu.Lock()
		valid := now.Before(e.observedAt.Add(e.cfg.LeaseDuration))
		e.mu.Unlock()
		if valid {
			return false, errHeldByOther
		}
	}
	next := api.Clone(cur)
	if next.Spec == nil {
		next.Spec = &api.LeaseSpec{}
	}
	if holder != e.cfg.Identity {
		next.Spec.AcquireTime = timestamppb.New(now)
		next.Spec.LeaseTransitions++
	}
	next.Spec.HolderIdentity = e.cfg.Identity
	next.Spec.LeaseDurationSeconds = seconds
	next.Spec.RenewTime = timestamppb.New(now)
	updated, err := e.lease.Update(ctx, next) // CAS on cur's resourceVersion
	if err != nil {
		return false, fmt.Errorf("update lease: %w", err)
	}
	e.observe(updated, now)
	e.renewed(now)
	return true, nil
}

func (e *Elector) renewed(now time.Time) {
	e.mu.Lock()
	e.lastRenew = now
	e.mu.Unlock()
}

// observe records the lease as seen at now; the expiry clock restarts
// whenever the lease changed since last seen.
func (e *Elector) observe(l *api.Lease, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rv := l.GetMetadata().GetResourceVersion(); rv != e.observedRV {
		e.observedRV = rv
		e.observedAt = now
	}
	e.observedHold = l.GetSpec().GetHolderIdentity()
}

// release clears the holder if this candidate still holds the lease.
func (e *Elector) release() {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RenewDeadline)
	defer cancel()
	cur, err := e.lease.Get(ctx, e.cfg.Namespace, e.cfg.Name)
	if err != nil || cur.GetSpec().GetHolderIdentity() != e.cfg.Identity {
		return
	}
	next := api.Clone(cur)
	next.Spec.HolderIdentity = ""
	next.Spec.RenewTime = timestamppb.New(e.cfg.Clock.Now())
	if _, err := e.lease.Update(ctx, next); err != nil {
		e.log.Warn("could not release lease", "err", err)
		return
	}
	e.log.Info("released lease")
}
