package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/alloc"
	"github.com/coxswain-io/coxswain/orchestrator/admission"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/deployment"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/gc"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/replicaset"
	"github.com/coxswain-io/coxswain/orchestrator/leaderelection"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/scheduler"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/raftstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

// SystemNamespace holds the control plane's own objects (the leader Lease).
const SystemNamespace = "coxswain-system"

// LeaderLeaseName is the Lease the members elect their leader through.
const LeaderLeaseName = "coxd-controllers"

// runMode runs cfg.Mode until ctx ends.
func runMode(ctx context.Context, cfg *settings, log *slog.Logger) error {
	if cfg.PprofAddr != "" {
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			if err := servePprof(pctx, cfg.PprofAddr, log); err != nil {
				log.Error("pprof", "err", err)
			}
		}()
	}
	switch cfg.Mode {
	case "server", "all":
		return runServer(ctx, cfg, log)
	default:
		return runNodeMode(ctx, cfg, log)
	}
}

// openStore opens this member's raftstore.
func openStore(ctx context.Context, cfg *settings, log *slog.Logger) (*raftstore.Store, error) {
	peers, _ := cfg.peers()
	rc := raftstore.Config{
		ID:            cfg.MemberID,
		Dir:           filepath.Join(cfg.DataDir, "store"),
		Addr:          cfg.RaftAddr,
		AdvertiseAddr: cfg.RaftAdvertise,
		Bootstrap:     cfg.Bootstrap,
		Registry:      cfg.Registry,
		Logger:        log.With("component", "raftstore"),
	}
	for _, p := range peers {
		rc.Peers = append(rc.Peers, raftstore.Peer{ID: p.id, Addr: p.addr})
	}
	log.Info("opening store", "dir", rc.Dir, "member", rc.ID, "raftAddr", rc.Addr, "bootstrap", rc.Bootstrap, "peers", len(rc.Peers))
	st, err := raftstore.Open(ctx, rc)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// runServer runs a control-plane member (and, in "all" mode, the node).
func runServer(ctx context.Context, cfg *settings, log *slog.Logger) error {
	rs, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := rs.Close(); err != nil {
			log.Warn("closing store", "err", err)
		}
	}()
	if cfg.Join != "" {
		if err := requestJoin(ctx, cfg, splitList(cfg.Join), log.With("component", "join")); err != nil {
			return err
		}
	}
	if cfg.Bootstrap || cfg.RaftAddr != "" {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := rs.WaitReady(wctx)
		cancel()
		if err != nil {
			return fmt.Errorf("waiting for the store's leader: %w", err)
		}
	}
	chain, err := admission.NewDefault(rs)
	if err != nil {
		return fmt.Errorf("admission: %w", err)
	}
	if err := ensureNamespaces(ctx, chain, "default", SystemNamespace); err != nil {
		return err
	}

	prom, err := newMetrics()
	if err != nil {
		return err
	}
	mgr, err := manager.New(manager.Options{
		Store:   chain,
		Logger:  log,
		Addr:    cfg.HealthAddr,
		Metrics: prom,
		LeaderElection: &leaderelection.Config{
			Namespace:       SystemNamespace,
			Name:            LeaderLeaseName,
			Identity:        cfg.MemberID,
			LeaseDuration:   cfg.LeaseDuration,
			RenewDeadline:   cfg.LeaseDuration * 2 / 3,
			RetryPeriod:     cfg.LeaseDuration / 7,
			ReleaseOnCancel: true,
			Logger:          log.With("component", "leader-election"),
		},
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}

	api, err := newAPIServer(ctx, cfg, rs, chain, prom.Registry(), log)
	if err != nil {
		return err
	}
	if err := mgr.Add(manager.Everywhere(api)); err != nil {
		return err
	}
	if err := addControllers(mgr, cfg, log); err != nil {
		return err
	}
	if cfg.RaftAddr != "" {
		if err := mgr.Add(&membership{rs: rs, store: chain, log: log.With("component", "membership")}); err != nil {
			return err
		}
	}
	if cfg.Mode == "all" {
		if err := mgr.Add(manager.Everywhere(manager.RunnableFunc(func(ctx context.Context) error {
			verify, err := selfClientConfig(cfg)
			if err != nil {
				return err
			}
			return runNode(ctx, cfg, chain, verify, prom.Registry(), log)
		}))); err != nil {
			return err
		}
	}
	log.Info("coxd server starting", "mode", cfg.Mode, "api", cfg.APIAddr, "health", cfg.HealthAddr, "member", cfg.MemberID)
	return mgr.Start(ctx)
}

// newAPIServer builds the remote API over the admission chain.
func newAPIServer(ctx context.Context, cfg *settings, rs *raftstore.Store, chain store.Store, reg prometheus.Registerer, log *slog.Logger) (*remote.Server, error) {
	sc := remote.ServerConfig{
		Store:   chain,
		Address: cfg.APIAddr,
		Version: version,
		Logger:  log.With("component", "api"),
		Metrics: reg,
	}
	if cfg.TLSCert != "" {
		t, err := remote.ServerTLS(cfg.TLSCert, cfg.TLSKey, cfg.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("api tls: %w", err)
		}
		sc.TLS = t
	}
	var auths []remote.Authenticator
	if cfg.ClientCA != "" {
		auths = append(auths, remote.ClientCertAuthenticator())
	}
	if cfg.TokenFile != "" {
		ta, err := remote.LoadTokenFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("token file: %w", err)
		}
		auths = append(auths, ta)
	}
	switch len(auths) {
	case 0:
	case 1:
		sc.Authenticator = auths[0]
	default:
		sc.Authenticator = remote.Chain(auths...)
	}
	if cfg.Authz == "rbac" {
		if err := remote.EnsureDefaultRoles(ctx, rs); err != nil {
			return nil, fmt.Errorf("default roles: %w", err)
		}
		sc.Authorizer = remote.NewRBACAuthorizer(rs)
	}
	srv, err := remote.NewServer(sc)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	return srv, nil
}

// addControllers registers the leader-only control loops.
func addControllers(mgr *manager.Manager, cfg *settings, log *slog.Logger) error {
	if err := replicaset.Add(mgr, replicaset.Options{}); err != nil {
		return fmt.Errorf("replicaset controller: %w", err)
	}
	if err := deployment.Add(mgr, deployment.Options{}); err != nil {
		return fmt.Errorf("deployment controller: %w", err)
	}
	if _, err := gc.Add(mgr, gc.Options{}); err != nil {
		return fmt.Errorf("garbage collector: %w", err)
	}
	sched, err := scheduler.New(mgr.Store(), scheduler.Config{Logger: log.With("component", "scheduler"), RecordScheduledEvents: true})
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	if err := mgr.Add(sched); err != nil {
		return err
	}
	if err := addExtraControllers(mgr, cfg, log); err != nil {
		return err
	}
	return mgr.Add(&allocator{
		store:       mgr.Store(),
		clusterCIDR: cfg.ClusterCIDR,
		mask:        cfg.NodeCIDRMask,
		ranges:      alloc.ServiceRanges{ServiceCIDR: cfg.ServiceCIDR, NodePortRange: cfg.NodePortRange},
		log:         log.With("component", "allocator"),
	})
}

// ensureNamespaces creates the namespaces coxd relies on.
func ensureNamespaces(ctx context.Context, s store.Store, names ...string) error {
	for _, n := range names {
		_, err := s.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: n}})
		if err != nil && !store.IsAlreadyExists(err) {
			return fmt.Errorf("namespace %s: %w", n, err)
		}
	}
	return nil
}

// allocator gives Nodes their pod CIDRs and Services their cluster IPs and
// node ports, level-triggered: on every change of either kind, and every
// resync period.
type allocator struct {
	store       store.Store
	clusterCIDR string
	mask        int
	ranges      alloc.ServiceRanges
	log         *slog.Logger
}

// allocResync is how often the allocator runs without a change.
const allocResync = 30 * time.Second

// Start runs the allocator until ctx ends.
func (a *allocator) Start(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	for _, kind := range []string{api.KindNode, api.KindService} {
		go a.watch(ctx, kind, wake)
	}
	t := time.NewTicker(allocResync)
	defer t.Stop()
	for {
		a.sync(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-t.C:
		}
	}
}

// sync assigns what is missing.
func (a *allocator) sync(ctx context.Context) {
	if _, err := alloc.AssignPodCIDRs(ctx, a.store, a.clusterCIDR, a.mask); err != nil && ctx.Err() == nil {
		a.log.Warn("pod CIDRs", "err", err)
	}
	if svcs, err := alloc.AssignServices(ctx, a.store, a.ranges); err != nil && ctx.Err() == nil {
		a.log.Warn("service IPs", "err", err)
	} else if len(svcs) > 0 {
		a.log.Info("assigned service addresses", "services", svcs)
	}
}

// watch signals wake on every change of kind, rewatching after errors.
func (a *allocator) watch(ctx context.Context, kind string, wake chan<- struct{}) {
	for ctx.Err() == nil {
		w, err := a.store.Watch(ctx, kind, store.WatchOptions{})
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				a.log.Debug("watch", "kind", kind, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		for range w.Events() {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		w.Stop()
	}
}

// selfClientConfig is how the node API of "all" mode reaches this
// process's own API to check callers: over loopback, trusting the API's own
// certificate when it serves TLS (which suits a self-signed one).
func selfClientConfig(cfg *settings) (remote.ClientConfig, error) {
	host, port, err := net.SplitHostPort(cfg.APIAddr)
	if err != nil {
		return remote.ClientConfig{}, fmt.Errorf("-api-addr: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	cc := remote.ClientConfig{Servers: []string{"http://" + net.JoinHostPort(host, port)}, Registry: cfg.Registry}
	if cfg.TLSCert != "" {
		cc.Servers[0] = "https://" + net.JoinHostPort(host, port)
		t, err := remote.ClientTLS(cfg.TLSCert, "", "")
		if err != nil {
			return cc, fmt.Errorf("api tls: %w", err)
		}
		cc.TLS = t
	}
	return cc, nil
}
