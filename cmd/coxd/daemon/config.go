package daemon

import (
	"errors"
	"flag"
	"fmt"
	"github.com/coxswain-io/coxswain/api"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// settings is everything coxd can be told, by flags or a config file. Mode
// selects which parts apply.
type settings struct {
	// Mode is "server", "node" or "all".
	Mode string
	// Registry is the kinds served (Options.Registry).
	Registry *api.Registry

	// Common.
	ConfigFile string
	LogFormat  string
	LogLevel   string
	HealthAddr string
	PprofAddr  string

	// Server: the store.
	DataDir       string
	MemberID      string
	RaftAddr      string
	RaftAdvertise string
	Bootstrap     bool
	Peers         string // id=host:port,...
	Join          string // API URLs of a running cluster to join
	JoinToken     string

	// Server: the API.
	APIAddr   string
	TLSCert   string
	TLSKey    string
	ClientCA  string
	TokenFile string
	Authz     string // "allow" or "rbac"

	// Server: leader election and allocation.
	LeaseDuration time.Duration
	ClusterCIDR   string
	NodeCIDRMask  int
	ServiceCIDR   string
	NodePortRange string
	NodeGrace     time.Duration
	PodEviction   time.Duration

	// Node.
	NodeName      string
	Servers       string // comma-separated API URLs
	Token         string
	TokenPath     string
	CAFile        string
	ClientCert    string
	ClientKey     string
	RootDir       string
	CNIBinDir     string
	PodCIDR       string
	NodeIP        string
	NetNS         string
	CgroupRoot    string
	MaxPods       int
	Proxy         bool
	Routes        bool
	CleanupOnExit bool
	NodeAPIAddr   string
	NodeAPIURL    string
	Heartbeat     time.Duration
	DNSAddr       string
	ClusterDNS    string
	DNSUpstream   string
}

// Default health addresses of a member (and of "all") and of a node.
const (
	defaultServerHealth = "127.0.0.1:10257"
	defaultNodeHealth   = "127.0.0.1:10248"
)

// defaultConfig returns the defaults of every setting.
func defaultConfig() *settings {
	host, _ := os.Hostname()
	if host == "" {
		host = "node-1"
	}
	return &settings{
		LogFormat:     "text",
		LogLevel:      "info",
		HealthAddr:    defaultServerHealth,
		DataDir:       "/var/lib/coxd",
		MemberID:      "member-1",
		APIAddr:       "127.0.0.1:6443",
		Authz:         "allow",
		LeaseDuration: 15 * time.Second,
		ClusterCIDR:   "10.244.0.0/16",
		NodeCIDRMask:  24,
		ServiceCIDR:   "10.96.0.0/16",
		NodeName:      strings.ToLower(host),
		Servers:       "http://127.0.0.1:6443",
		CgroupRoot:    "/coxswain",
		MaxPods:       110,
		Proxy:         true,
		Routes:        true,
		NodeAPIAddr:   "127.0.0.1:10255",
		NodeGrace:     40 * time.Second,
		PodEviction:   5 * time.Minute,
		Heartbeat:     10 * time.Second,
	}
}

// flags returns the flag set of mode, bound to c.
func (c *settings) flags(mode string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("coxd "+mode, flag.ContinueOnError)
	if mode == "node" && c.HealthAddr == defaultServerHealth {
		// A member and a node on one machine must not share the port.
		c.HealthAddr = defaultNodeHealth
	}
	fs.SetOutput(out)
	fs.StringVar(&c.ConfigFile, "config", "", "YAML or JSON file of flag names to values (the command line wins)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	fs.StringVar(&c.HealthAddr, "health-addr", c.HealthAddr, "address of /healthz, /readyz and /metrics (empty: off)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", c.PprofAddr, "address of net/http/pprof (empty: off)")
	if mode == "server" || mode == "all" {
		fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the member's state (store log and snapshots; node state in 'all' mode)")
		fs.StringVar(&c.MemberID, "member-id", c.MemberID, "this member's unique, stable id")
		fs.StringVar(&c.RaftAddr, "raft-addr", c.RaftAddr, "TCP address for the other members (empty: a single member with no network)")
		fs.StringVar(&c.RaftAdvertise, "raft-advertise", c.RaftAdvertise, "address the other members reach this one at (default -raft-addr)")
		fs.BoolVar(&c.Bootstrap, "bootstrap", c.Bootstrap, "start a new cluster whose voters are -peers (with no state only)")
		fs.StringVar(&c.Peers, "peers", c.Peers, "initial voters of a bootstrapped cluster: id=host:port,... (this member included)")
		fs.StringVar(&c.Join, "join", c.Join, "API URLs (comma-separated) of a running cluster this new member asks to be added to (needs -raft-addr)")
		fs.StringVar(&c.JoinToken, "join-token", c.JoinToken, "bearer token for -join")
		fs.StringVar(&c.APIAddr, "api-addr", c.APIAddr, "address of the remote API")
		fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "PEM certificate of the API (with -tls-key: serve HTTPS)")
		fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "PEM key of the API")
		fs.StringVar(&c.ClientCA, "client-ca", c.ClientCA, "PEM CA that client certificates are verified against")
		fs.StringVar(&c.TokenFile, "token-file", c.TokenFile, "bearer tokens, one 'token,user,group...' per line (empty: no authentication)")
		fs.StringVar(&c.Authz, "authorization", c.Authz, "authorization: allow (everyone may do everything) or rbac (roles stored as objects)")
		fs.DurationVar(&c.LeaseDuration, "leader-lease", c.LeaseDuration, "leader election lease duration")
		fs.StringVar(&c.ClusterCIDR, "cluster-cidr", c.ClusterCIDR, "range nodes' pod CIDRs are allocated from")
		fs.IntVar(&c.NodeCIDRMask, "node-cidr-mask", c.NodeCIDRMask, "prefix length of each node's pod CIDR")
		fs.StringVar(&c.ServiceCIDR, "service-cidr", c.ServiceCIDR, "range of Services' cluster IPs")
		fs.DurationVar(&c.NodeGrace, "node-grace-period", c.NodeGrace, "how old a node's heartbeat may get before the node is marked NotReady")
		fs.DurationVar(&c.PodEviction, "pod-eviction-timeout", c.PodEviction, "how long a node stays NotReady before its pods are deleted and replaced elsewhere")
		fs.StringVar(&c.NodePortRange, "node-port-range", c.NodePortRange, "range of NodePorts, first-last (default 30000-32767)")
	}
	if mode == "node" || mode == "all" {
		fs.StringVar(&c.NodeName, "node-name", c.NodeName, "name of this node")
		if mode == "node" {
			fs.StringVar(&c.Servers, "server", c.Servers, "API server URLs, comma-separated")
			fs.StringVar(&c.Token, "token", c.Token, "bearer token for the API")
			fs.StringVar(&c.TokenPath, "token-path", c.TokenPath, "file holding the bearer token for the API")
			fs.StringVar(&c.CAFile, "ca", c.CAFile, "PEM CA that the API servers' certificates are verified against")
			fs.StringVar(&c.ClientCert, "client-cert", c.ClientCert, "PEM client certificate for the API")
			fs.StringVar(&c.ClientKey, "client-key", c.ClientKey, "PEM client key for the API")
			fs.StringVar(&c.RootDir, "root-dir", c.RootDir, "directory of the node's state (default /var/lib/coxd-node)")
		}
		fs.StringVar(&c.CNIBinDir, "cni-bin-dir", c.CNIBinDir, "directory of the CNI plugins (default $COXSWAIN_CNI_BIN_DIR, else /opt/cni/bin)")
		if mode == "node" {
			fs.StringVar(&c.ServiceCIDR, "service-cidr", c.ServiceCIDR, "range of Services' cluster IPs; a route to it goes through the pod bridge when no route covers it (empty: no route)")
		}
		fs.StringVar(&c.PodCIDR, "pod-cidr", c.PodCIDR, "this node's pod range (default: the one the control plane assigns)")
		fs.StringVar(&c.NodeIP, "node-ip", c.NodeIP, "this node's InternalIP (default: the first non-loopback IPv4 address)")
		fs.StringVar(&c.NetNS, "netns", c.NetNS, "network namespace (path) the node's bridge, proxy and routes live in (default: the process's)")
		fs.StringVar(&c.CgroupRoot, "cgroup-root", c.CgroupRoot, "cgroup every pod cgroup nests under")
		fs.DurationVar(&c.Heartbeat, "heartbeat-interval", c.Heartbeat, "how often the node renews its heartbeat Lease (its duration is 4 times this)")
		fs.IntVar(&c.MaxPods, "max-pods", c.MaxPods, "pods capacity of the node")
		fs.BoolVar(&c.Proxy, "proxy", c.Proxy, "program Service IPs with iptables")
		fs.BoolVar(&c.Routes, "routes", c.Routes, "keep host-gw routes to the other nodes' pod CIDRs")
		fs.StringVar(&c.NodeAPIAddr, "node-api-addr", c.NodeAPIAddr, "address of the node's logs and exec endpoint (empty: off)")
		fs.StringVar(&c.NodeAPIURL, "node-api-url", c.NodeAPIURL, "URL clients reach the node API at (default http:// plus -node-api-addr, with -node-ip for an unspecified host)")
		fs.StringVar(&c.DNSAddr, "dns-addr", c.DNSAddr, "run cluster DNS on this address (e.g. 0.0.0.0:53 in a node namespace; empty: no DNS)")
		fs.StringVar(&c.ClusterDNS, "cluster-dns", c.ClusterDNS, "nameserver IP written into pods' resolv.conf (default: the pod bridge's gateway when -dns-addr is set)")
		fs.StringVar(&c.DNSUpstream, "dns-upstream", c.DNSUpstream, "resolvers (host:port, comma-separated) for names outside the cluster domain")
		fs.BoolVar(&c.CleanupOnExit, "cleanup-on-exit", c.CleanupOnExit, "on exit, remove the proxy's rules and this node's routes (pods are left for the next start to adopt)")
	}
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: coxd %s [flags]\n\n%s.\n\nflags:\n", mode, modes[mode])
		fs.PrintDefaults()
	}
	return fs
}

// validate checks the settings of c.Mode.
func (c *settings) validate() error {
	var errs []error
	server := c.Mode == "server" || c.Mode == "all"
	node := c.Mode == "node" || c.Mode == "all"
	if server {
		if c.DataDir == "" {
			errs = append(errs, errors.New("-data-dir is required"))
		}
		if (c.TLSCert == "") != (c.TLSKey == "") {
			errs = append(errs, errors.New("-tls-cert and -tls-key go together"))
		}
		if c.ClientCA != "" && c.TLSCert == "" {
			errs = append(errs, errors.New("-client-ca needs -tls-cert and -tls-key"))
		}
		if c.Authz != "allow" && c.Authz != "rbac" {
			errs = append(errs, fmt.Errorf("-authorization %q: want allow or rbac", c.Authz))
		}
		if c.Authz == "rbac" && c.TokenFile == "" && c.ClientCA == "" {
			errs = append(errs, errors.New("-authorization rbac needs -token-file or -client-ca to know who calls"))
		}
		if c.Join != "" && (c.RaftAddr == "" || c.Bootstrap) {
			errs = append(errs, errors.New("-join needs -raft-addr and excludes -bootstrap"))
		}
		if _, err := c.peers(); err != nil {
			errs = append(errs, err)
		}
		if _, _, err := net.ParseCIDR(c.ClusterCIDR); err != nil {
			errs = append(errs, fmt.Errorf("-cluster-cidr: %w", err))
		}
		if _, _, err := net.ParseCIDR(c.ServiceCIDR); err != nil {
			errs = append(errs, fmt.Errorf("-service-cidr: %w", err))
		}
		if c.LeaseDuration < 3*time.Second {
			errs = append(errs, errors.New("-leader-lease must be at least 3s"))
		}
	}
	if node {
		if c.NodeName == "" {
			errs = append(errs, errors.New("-node-name is required"))
		}
		if c.Mode == "node" && len(c.servers()) == 0 {
			errs = append(errs, errors.New("-server is required"))
		}
		if (c.ClientCert == "") != (c.ClientKey == "") {
			errs = append(errs, errors.New("-client-cert and -client-key go together"))
		}
		if c.PodCIDR != "" {
			if _, _, err := net.ParseCIDR(c.PodCIDR); err != nil {
				errs = append(errs, fmt.Errorf("-pod-cidr: %w", err))
			}
		}
		if c.RootDir != "" && !filepath.IsAbs(c.RootDir) {
			errs = append(errs, errors.New("-root-dir must be absolute"))
		}
	}
	return errors.Join(errs...)
}

// servers splits -server.
func (c *settings) servers() []string { return splitList(c.Servers) }

// splitList splits a comma-separated list, dropping empty entries.
func splitList(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// peer is one id=addr of -peers.
type peer struct{ id, addr string }

// peers parses -peers.
func (c *settings) peers() ([]peer, error) {
	var out []peer
	for _, p := range strings.Split(c.Peers, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		id, addr, ok := strings.Cut(p, "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("-peers: %q is not id=host:port", p)
		}
		out = append(out, peer{id, addr})
	}
	return out, nil
}

// nodeRootDir is where the node keeps its state.
func (c *settings) nodeRootDir() string {
	switch {
	case c.RootDir != "":
		return c.RootDir
	case c.Mode == "all":
		return filepath.Join(c.DataDir, "node")
	default:
		return "/var/lib/coxd-node"
	}
}
