package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/cni"
	"github.com/coxswain-io/coxswain/network/dns"
	"github.com/coxswain-io/coxswain/network/proxy"
	"github.com/coxswain-io/coxswain/network/routes"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote"
)

// runNodeMode runs a node agent against the API servers of cfg.
func runNodeMode(ctx context.Context, cfg *settings, log *slog.Logger) error {
	cc := remote.ClientConfig{Servers: cfg.servers(), Token: cfg.Token, Registry: cfg.Registry, Logger: log.With("component", "client")}
	if cfg.TokenPath != "" {
		b, err := os.ReadFile(cfg.TokenPath)
		if err != nil {
			return fmt.Errorf("token: %w", err)
		}
		cc.Token = strings.TrimSpace(string(b))
	}
	if cfg.CAFile != "" || cfg.ClientCert != "" {
		t, err := remote.ClientTLS(cfg.CAFile, cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			return fmt.Errorf("client tls: %w", err)
		}
		cc.TLS = t
	}
	client, err := remote.NewClient(cc)
	if err != nil {
		return fmt.Errorf("api client: %w", err)
	}
	prom, err := newMetrics()
	if err != nil {
		return err
	}
	mgr, err := manager.New(manager.Options{Store: client, Logger: log, Addr: cfg.HealthAddr, Metrics: prom})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if err := mgr.Add(manager.Everywhere(manager.RunnableFunc(func(ctx context.Context) error {
		return runNode(ctx, cfg, client, cc, prom.Registry(), log)
	}))); err != nil {
		return err
	}
	log.Info("coxd node starting", "node", cfg.NodeName, "servers", cfg.servers(), "health", cfg.HealthAddr)
	return mgr.Start(ctx)
}

// runNode runs the node's parts (runtime, agent, proxy, routes) over st
// until ctx ends or one of them fails; the proxy registers its metrics in
// reg.
func runNode(ctx context.Context, cfg *settings, st store.Store, verify remote.ClientConfig, reg prometheus.Registerer, log *slog.Logger) error {
	root := cfg.nodeRootDir()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("node root: %w", err)
	}
	rt, err := libcontainer.New(libcontainer.Config{
		StateDir:   filepath.Join(root, "runtime"),
		CgroupRoot: cfg.CgroupRoot,
		Logger:     log,
	})
	if err != nil {
		return fmt.Errorf("runtime: %w", err)
	}
	podCIDR := cfg.PodCIDR
	if podCIDR == "" {
		log.Info("waiting for the control plane to assign a pod CIDR", "node", cfg.NodeName)
		if podCIDR, err = awaitPodCIDR(ctx, st, cfg.NodeName); err != nil {
			return err
		}
	}
	log.Info("pod network", "cidr", podCIDR, "netns", cfg.NetNS)
	cc := cni.Config{NodeNetNS: cfg.NetNS, StateDir: filepath.Join(root, "cni"), PodCIDR: podCIDR}
	if cfg.CNIBinDir != "" {
		cc.PluginDirs = []string{cfg.CNIBinDir}
	}
	netw, err := cni.New(cc)
	if err != nil {
		return fmt.Errorf("cni: %w", err)
	}
	clusterDNS := cfg.ClusterDNS
	if clusterDNS == "" && cfg.DNSAddr != "" {
		// The bridge's address, the first of the pod CIDR, is what pods
		// reach the node's namespace at.
		if p, err := netip.ParsePrefix(podCIDR); err == nil {
			clusterDNS = p.Masked().Addr().Next().String()
		}
	}
	var dnsServers []string
	if clusterDNS != "" {
		dnsServers = []string{clusterDNS}
	}
	ag, err := agent.New(ctx, agent.Config{
		ClusterDNS:        dnsServers,
		NodeName:          cfg.NodeName,
		Store:             st,
		Runtime:           rt,
		Network:           netw,
		HostNetNS:         cfg.NetNS,
		RootDir:           filepath.Join(root, "agent"),
		NodeIP:            cfg.NodeIP,
		MaxPods:           cfg.MaxPods,
		HeartbeatInterval: cfg.Heartbeat,
		LeaseDuration:     4 * cfg.Heartbeat,
		Logger:            log,
	})
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	parts := map[string]func(context.Context) error{
		"runtime": rt.Start,
		"agent":   ag.Start,
	}
	if cfg.Proxy {
		pm, err := proxy.NewMetrics(reg)
		if err != nil {
			return fmt.Errorf("proxy metrics: %w", err)
		}
		px, err := proxy.New(proxy.Config{Store: st, NetNS: cfg.NetNS, CleanupOnExit: cfg.CleanupOnExit, Metrics: pm})
		if err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
		parts["proxy"] = px.Start
	}
	if cfg.DNSAddr != "" {
		var upstream []string
		for _, u := range strings.Split(cfg.DNSUpstream, ",") {
			if u = strings.TrimSpace(u); u != "" {
				upstream = append(upstream, u)
			}
		}
		d, err := dns.New(dns.Config{Store: st, Addr: cfg.DNSAddr, NetNS: cfg.NetNS, Upstream: upstream})
		if err != nil {
			return fmt.Errorf("dns: %w", err)
		}
		parts["dns"] = d.Start
	}
	if cfg.ServiceCIDR != "" {
		sr := &serviceRoute{cidr: cfg.ServiceCIDR, bridge: "cx0", netns: cfg.NetNS, log: log}
		parts["service-route"] = sr.Start
	}
	if cfg.Routes {
		r, err := routes.New(routes.Config{Store: st, NodeName: cfg.NodeName, NetNS: cfg.NetNS, CleanupOnExit: cfg.CleanupOnExit})
		if err != nil {
			return fmt.Errorf("routes: %w", err)
		}
		parts["routes"] = r.Start
	}
	if cfg.NodeAPIAddr != "" {
		ln, err := net.Listen("tcp", cfg.NodeAPIAddr)
		if err != nil {
			return fmt.Errorf("node API: %w", err)
		}
		url := cfg.nodeAPIURL(ln.Addr())
		napi := newNodeAPI(cfg.NodeName, cfg.NodeAPIAddr, rt, verify, log)
		parts["node-api"] = func(ctx context.Context) error {
			if err := advertise(ctx, st, cfg.NodeName, url); err != nil {
				ln.Close()
				return err
			}
			log.Info("node API listening", "url", url)
			return napi.Serve(ctx, ln)
		}
	}
	return runAll(ctx, parts, log)
}

// nodeAPIURL is the URL the node API is advertised at.
func (c *settings) nodeAPIURL(a net.Addr) string {
	if c.NodeAPIURL != "" {
		return c.NodeAPIURL
	}
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = c.NodeIP
		if host == "" {
			host = "127.0.0.1"
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// runAll runs every part until ctx ends or one fails; then it cancels the
// others and waits for them.
func runAll(ctx context.Context, parts map[string]func(context.Context) error, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for name, start := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := start(ctx)
			if err != nil && ctx.Err() == nil {
				log.Error("node part failed", "part", name, "err", err)
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("%s: %w", name, err)
				}
				mu.Unlock()
			}
			cancel()
		}()
	}
	wg.Wait()
	return first
}

// awaitPodCIDR registers the node (if it is not yet) and waits until the
// control plane has given it a pod CIDR.
func awaitPodCIDR(ctx context.Context, st store.Store, name string) (string, error) {
	nodes := store.For[*api.Node](st)
	_, err := nodes.Create(ctx, &api.Node{
		Metadata: &api.ObjectMeta{Name: name, Labels: map[string]string{agent.LabelHostname: name}},
		Spec:     &api.NodeSpec{},
	})
	if err != nil && !store.IsAlreadyExists(err) {
		return "", fmt.Errorf("register node %s: %w", name, err)
	}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		n, err := nodes.Get(ctx, "", name)
		switch {
		case err == nil && n.GetSpec().GetPodCidr() != "":
			return n.GetSpec().GetPodCidr(), nil
		case err != nil && !store.IsNotFound(err) && !errors.Is(err, store.ErrUnavailable):
			return "", fmt.Errorf("node %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for the pod CIDR of node %s: %w", name, ctx.Err())
		case <-t.C:
		}
	}
}
