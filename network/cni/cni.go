package cni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/store"
)

// EnvPluginDir names the environment variable with the plugin directory.
const EnvPluginDir = "COXSWAIN_CNI_BIN_DIR"

// DefaultPluginDir is where plugins are looked up when neither
// Config.PluginDirs nor EnvPluginDir is set.
const DefaultPluginDir = "/opt/cni/bin"

// CNIVersion is the CNI spec version of the generated configuration.
const CNIVersion = "1.1.0"

// Config configures a Network.
type Config struct {
	// PluginDirs are searched for plugin binaries; default: $COXSWAIN_CNI_BIN_DIR,
	// else /opt/cni/bin.
	PluginDirs []string
	// NodeNetNS is the node's network namespace ("" = the process's own).
	NodeNetNS string
	// StateDir holds libcni's cache (StateDir/cache) and host-local's
	// allocations (StateDir/ipam). Required.
	StateDir string
	// PodCIDR is this node's pod range, e.g. "10.244.1.0/24"; required
	// unless ConfList is set.
	PodCIDR string
	// Bridge is the bridge name in the node namespace; default "cx0".
	Bridge string
	// MTU of the bridge and veths; 0 leaves the plugin's default.
	MTU int
	// NetworkName is the name of the generated network; default "coxswain".
	NetworkName string
	// ConfList, if set, is an embedder's CNI network configuration list
	// (JSON) used instead of the generated one.
	ConfList []byte
	// IfName is the pod-side interface; default "eth0".
	IfName string
}

func (c *Config) setDefaults() {
	if len(c.PluginDirs) == 0 {
		if d := os.Getenv(EnvPluginDir); d != "" {
			c.PluginDirs = []string{d}
		} else {
			c.PluginDirs = []string{DefaultPluginDir}
		}
	}
	if c.Bridge == "" {
		c.Bridge = "cx0"
	}
	if c.NetworkName == "" {
		c.NetworkName = "coxswain"
	}
	if c.IfName == "" {
		c.IfName = "eth0"
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.StateDir == "" {
		return store.Errorf(store.ErrInvalid, "cni: StateDir is required")
	}
	if len(c.ConfList) == 0 {
		if _, err := netip.ParsePrefix(c.PodCIDR); err != nil {
			return store.Errorf(store.ErrInvalid, "cni: PodCIDR %q: %v", c.PodCIDR, err)
		}
	}
	return nil
}

// Network is a network.PodNetwork over CNI plugins.
type Network struct {
	cfg      Config
	cni      *libcni.CNIConfig
	list     *libcni.NetworkConfigList
	loopback *libcni.NetworkConfigList
}

var _ network.PodNetwork = (*Network)(nil)

// New returns a Network. It creates StateDir but runs no plugin.
func New(cfg Config) (*Network, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.StateDir, "cache"), 0o700); err != nil {
		return nil, fmt.Errorf("cni state dir: %w", err)
	}
	conf := cfg.ConfList
	if len(conf) == 0 {
		var err error
		if conf, err = GenerateConfList(cfg); err != nil {
			return nil, err
		}
	}
	list, err := libcni.NetworkConfFromBytes(conf)
	if err != nil {
		return nil, store.Errorf(store.ErrInvalid, "cni: network config: %v", err)
	}
	lo, err := libcni.NetworkConfFromBytes([]byte(fmt.Sprintf(
		`{"cniVersion":%q,"name":"%s-loopback","plugins":[{"type":"loopback"}]}`, CNIVersion, cfg.NetworkName)))
	if err != nil {
		return nil, err
	}
	return &Network{
		cfg:      cfg,
		cni:      libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, filepath.Join(cfg.StateDir, "cache"), nil),
		list:     list,
		loopback: lo,
	}, nil
}

// GenerateConfList returns the network configuration list New generates
// from cfg (bridge + host-local over cfg.PodCIDR, then portmap).
func GenerateConfList(cfg Config) ([]byte, error) {
	cfg.setDefaults()
	p, err := netip.ParsePrefix(cfg.PodCIDR)
	if err != nil {
		return nil, store.Errorf(store.ErrInvalid, "cni: PodCIDR %q: %v", cfg.PodCIDR, err)
	}
	defaultRoute := "0.0.0.0/0"
	if p.Addr().Is6() {
		defaultRoute = "::/0"
	}
	bridge := map[string]any{
		"type":        "bridge",
		"bridge":      cfg.Bridge,
		"isGateway":   true,
		"hairpinMode": true,
		"ipMasq":      false,
		"ipam": map[string]any{
			"type":    "host-local",
			"ranges":  [][]map[string]string{{{"subnet": p.Masked().String()}}},
			"routes":  []map[string]string{{"dst": defaultRoute}},
			"dataDir": filepath.Join(cfg.StateDir, "ipam"),
		},
	}
	if cfg.MTU > 0 {
		bridge["mtu"] = cfg.MTU
	}
	list := map[string]any{
		"cniVersion": CNIVersion,
		"name":       cfg.NetworkName,
		"plugins": []any{
			bridge,
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}, "snat": true},
		},
	}
	return json.MarshalIndent(list, "", "  ")
}

// ConfList returns the network configuration list in use.
func (n *Network) ConfList() []byte { return n.list.Bytes }

func (n *Network) runtimeConf(sb network.Sandbox, ifName string) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{
		ContainerID: sb.ID,
		NetNS:       sb.NetNS,
		IfName:      ifName,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", sb.Namespace},
			{"K8S_POD_NAME", sb.Name},
			{"K8S_POD_INFRA_CONTAINER_ID", sb.ID},
			{"K8S_POD_UID", sb.UID},
		},
	}
	if len(sb.PortMappings) > 0 {
		var pm []map[string]any
		for _, m := range sb.PortMappings {
			proto := strings.ToLower(m.Protocol)
			if proto == "" {
				proto = "tcp"
			}
			e := map[string]any{"hostPort": m.HostPort, "containerPort": m.ContainerPort, "protocol": proto}
			if m.HostIP != "" {
				e["hostIP"] = m.HostIP
			}
			pm = append(pm, e)
		}
		rt.CapabilityArgs = map[string]any{"portMappings": pm}
	}
	return rt
}

// inNode runs fn in the node's network namespace; plugin processes started
// by fn inherit it.
func (n *Network) inNode(fn func() error) error {
	if n.cfg.NodeNetNS == "" {
		return fn()
	}
	return network.Do(n.cfg.NodeNetNS, fn)
}

// SetUp attaches the sandbox (loopback, then the pod network) and returns its
// addresses. A sandbox that is already attached (same id and namespace) gets
// its cached result; an attachment of the same id in another namespace is
// torn down first.
func (n *Network) SetUp(ctx context.Context, sb network.Sandbox) (*network.Result, error) {
	if sb.ID == "" || sb.NetNS == "" {
		return nil, store.Errorf(store.ErrInvalid, "cni: sandbox needs an ID and a netns path")
	}
	rt := n.runtimeConf(sb, n.cfg.IfName)
	if cached, err := n.cni.GetNetworkListCachedResult(n.list, rt); err == nil && cached != nil {
		oldNS := n.cachedNetNS(sb.ID)
		if oldNS == sb.NetNS {
			return toResult(cached)
		}
		// The same sandbox id with another namespace: the old attachment
		// is stale.
		if err := n.TearDown(ctx, network.Sandbox{ID: sb.ID, NetNS: oldNS}); err != nil {
			return nil, fmt.Errorf("cni: remove stale attachment of %s: %w", sb.ID, err)
		}
	}
	var res types.Result
	err := n.inNode(func() error {
		if _, err := n.cni.AddNetworkList(ctx, n.loopback, n.runtimeConf(sb, "lo")); err != nil {
			return fmt.Errorf("loopback: %w", err)
		}
		var err error
		res, err = n.cni.AddNetworkList(ctx, n.list, rt)
		return err
	})
	if err != nil {
		// Undo what a partial ADD left (address, veth, rules).
		_ = n.TearDown(context.WithoutCancel(ctx), sb)
		return nil, fmt.Errorf("cni add %s: %w", sb.ID, err)
	}
	return toResult(res)
}

// cachedNetNS returns the namespace path the cache records for the
// sandbox's attachment to the pod network, or "".
func (n *Network) cachedNetNS(id string) string {
	atts, err := n.cni.GetCachedAttachments(id)
	if err != nil {
		return ""
	}
	for _, a := range atts {
		if a.Network == n.list.Name && a.IfName == n.cfg.IfName {
			return a.NetNS
		}
	}
	return ""
}

// TearDown detaches the sandbox; it succeeds for an unknown sandbox and when
// the namespace is already gone.
func (n *Network) TearDown(ctx context.Context, sb network.Sandbox) error {
	rt := n.runtimeConf(sb, n.cfg.IfName)
	if rt.CapabilityArgs == nil {
		// The caller may not know the pod's host ports any more (after an
		// agent restart it has only the sandbox id): take them from the
		// cached ADD, or portmap's DEL removes nothing.
		if _, cached, err := n.cni.GetNetworkListCachedConfig(n.list, rt); err == nil && cached != nil {
			rt.CapabilityArgs = cached.CapabilityArgs
		}
	}
	if _, err := os.Stat(sb.NetNS); sb.NetNS != "" && err != nil {
		rt.NetNS = "" // gone: plugins then free what they hold outside it
	}
	return n.inNode(func() error {
		var errs []error
		if err := n.cni.DelNetworkList(ctx, n.list, rt); err != nil {
			errs = append(errs, fmt.Errorf("cni del %s: %w", sb.ID, err))
		}
		lo := n.runtimeConf(sb, "lo")
		lo.NetNS = rt.NetNS
		if err := n.cni.DelNetworkList(ctx, n.loopback, lo); err != nil {
			errs = append(errs, fmt.Errorf("cni del loopback %s: %w", sb.ID, err))
		}
		return errors.Join(errs...)
	})
}

// Check runs CNI CHECK for the sandbox and returns its cached result, or
// network.ErrNotFound if it was never set up.
func (n *Network) Check(ctx context.Context, sb network.Sandbox) (*network.Result, error) {
	rt := n.runtimeConf(sb, n.cfg.IfName)
	cached, err := n.cni.GetNetworkListCachedResult(n.list, rt)
	if err != nil {
		return nil, fmt.Errorf("cni cache %s: %w", sb.ID, err)
	}
	if cached == nil {
		return nil, fmt.Errorf("sandbox %s: %w", sb.ID, network.ErrNotFound)
	}
	if err := n.inNode(func() error { return n.cni.CheckNetworkList(ctx, n.list, rt) }); err != nil {
		return nil, fmt.Errorf("cni check %s: %w", sb.ID, err)
	}
	return toResult(cached)
}

// Reconcile removes what is held for sandboxes not in live: it runs DEL for
// every cached attachment of another sandbox, then CNI GC, which makes
// host-local free addresses of containers not in live even without a cache
// entry.
func (n *Network) Reconcile(ctx context.Context, live []network.Sandbox) error {
	valid := make([]types.GCAttachment, 0, len(live))
	validLo := make([]types.GCAttachment, 0, len(live))
	for _, sb := range live {
		valid = append(valid, types.GCAttachment{ContainerID: sb.ID, IfName: n.cfg.IfName})
		validLo = append(validLo, types.GCAttachment{ContainerID: sb.ID, IfName: "lo"})
	}
	return n.inNode(func() error {
		return errors.Join(
			n.cni.GCNetworkList(ctx, n.list, &libcni.GCArgs{ValidAttachments: valid}),
			n.cni.GCNetworkList(ctx, n.loopback, &libcni.GCArgs{ValidAttachments: validLo}),
		)
	})
}

// Attachments returns the ids of the sandboxes the cache says are attached.
func (n *Network) Attachments() ([]string, error) {
	atts, err := n.cni.GetCachedAttachments("")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range atts {
		if a.Network == n.list.Name {
			ids = append(ids, a.ContainerID)
		}
	}
	return ids, nil
}

func toResult(r types.Result) (*network.Result, error) {
	res, err := types100.NewResultFromResult(r)
	if err != nil {
		return nil, fmt.Errorf("cni result: %w", err)
	}
	out := &network.Result{}
	for _, ipc := range res.IPs {
		ip, ok := netip.AddrFromSlice(ipc.Address.IP)
		if !ok {
			continue
		}
		ones, _ := ipc.Address.Mask.Size()
		out.IPs = append(out.IPs, netip.PrefixFrom(ip.Unmap(), ones))
		if !out.Gateway.IsValid() && ipc.Gateway != nil {
			if gw, ok := netip.AddrFromSlice(ipc.Gateway); ok {
				out.Gateway = gw.Unmap()
			}
		}
		if ipc.Interface != nil && *ipc.Interface < len(res.Interfaces) && out.Interface == "" {
			out.Interface = res.Interfaces[*ipc.Interface].Name
		}
	}
	if len(out.IPs) == 0 {
		return nil, errors.New("cni result has no address")
	}
	return out, nil
}
