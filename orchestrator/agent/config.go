package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
)

// ErrInvalidConfig is the class of Config.Validate's errors.
var ErrInvalidConfig = errors.New("invalid agent config")

// Config configures an Agent. Zero durations take the defaults documented on
// each field; call Validate (New does) to fill them in.
type Config struct {
	// NodeName is the name of the Node this agent registers and the value of
	// spec.nodeName of the pods it runs. Required.
	NodeName string
	// Store is the control plane. Required.
	Store store.Store
	// Runtime runs the pods' containers. Required.
	Runtime runtime.Runtime
	// Network attaches pod sandboxes to the pod network. Nil: every pod gets
	// a network namespace of its own with only loopback (created by the
	// runtime), and no pod IP.
	Network network.PodNetwork
	// Volumes sets up pod volumes. Nil: the built-in plugins
	// (volume/plugins) reading from Store.
	Volumes *volume.Registry
	// RootDir holds the agent's per-pod directories (volumes) and the pod
	// network namespaces it creates. Required, absolute.
	RootDir string
	// HostNetNS is the network namespace of hostNetwork pods: the node's
	// own, where its NodeIP lives. Empty: the agent's own namespace. Set it
	// when the node's network is another namespace (the NodeNetNS given to
	// network/cni, as for several nodes on one host).
	HostNetNS string

	// Labels are added to the Node's labels (besides kubernetes.io/hostname,
	// kubernetes.io/os and kubernetes.io/arch).
	Labels map[string]string
	// Capacity overrides or extends the measured capacity (cpu, memory,
	// pods) and declares extended resources ("example.com/gpu": "4").
	Capacity map[string]string
	// Reserved is subtracted from the capacity to give allocatable (e.g.
	// cpu "100m", memory "256Mi" for the system).
	Reserved map[string]string
	// MaxPods is the pods capacity (default 110).
	MaxPods int
	// NodeIP is the node's InternalIP and the pods' hostIP (default: the
	// first non-loopback IPv4 address of the host, else 127.0.0.1).
	NodeIP string
	// ClusterDNS are the cluster DNS servers' addresses and ClusterDomain
	// the cluster's domain (default network/dns.DefaultDomain): pods with
	// dnsPolicy ClusterFirst (the default) get a resolv.conf pointing at
	// them. Empty ClusterDNS: such pods get the host's resolv.conf.
	ClusterDNS    []string
	ClusterDomain string
	// Taints are set on the Node when the agent registers it.
	Taints []TaintSpec

	// LeaseDuration is the heartbeat Lease's duration (default 40s);
	// HeartbeatInterval how often it is renewed (default 10s).
	LeaseDuration     time.Duration
	HeartbeatInterval time.Duration
	// NodeStatusInterval is how often the Node's Ready condition is
	// refreshed (default 1m); it is also written whenever it changes.
	NodeStatusInterval time.Duration
	// SyncPeriod is how often the agent relists the runtime's containers
	// and syncs the pods whose containers changed state: how fast an exited
	// container is seen (default 1s).
	SyncPeriod time.Duration
	// ResyncPeriod is how often every pod is synced even when nothing
	// changed (default 10s); probes and backoff timers sync earlier.
	ResyncPeriod time.Duration
	// BackoffBase and BackoffMax bound the crash-loop backoff: a container
	// restarted n times waits min(BackoffBase*2^n, BackoffMax) after it
	// exits (defaults 10s and 5m, as the kubelet). BackoffReset is how long
	// a container must run before its backoff starts again from BackoffBase
	// (default 10m).
	BackoffBase  time.Duration
	BackoffMax   time.Duration
	BackoffReset time.Duration
	// StatsInterval is how often measured usage is written to the status of
	// running pods (default 15s; negative disables it).
	StatsInterval time.Duration
	// DefaultGracePeriod is the termination grace period of pods that set
	// none (default 30s).
	DefaultGracePeriod time.Duration
	// Workers is the number of pods synced at once (default 4).
	Workers int
	// Logger receives the agent's logs (default slog.Default()).
	Logger *slog.Logger
}

// TaintSpec is a taint the agent puts on its Node at registration.
type TaintSpec struct {
	Key, Value, Effect string
}

// Validate checks the config and fills in the defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.NodeName == "" {
		errs = append(errs, fmt.Errorf("agent: NodeName is required: %w", ErrInvalidConfig))
	}
	if c.Store == nil {
		errs = append(errs, fmt.Errorf("agent: Store is required: %w", ErrInvalidConfig))
	}
	if c.Runtime == nil {
		errs = append(errs, fmt.Errorf("agent: Runtime is required: %w", ErrInvalidConfig))
	}
	if c.RootDir == "" || !filepath.IsAbs(c.RootDir) {
		errs = append(errs, fmt.Errorf("agent: RootDir %q must be an absolute path: %w", c.RootDir, ErrInvalidConfig))
	}
	if c.MaxPods < 0 || c.Workers < 0 {
		errs = append(errs, fmt.Errorf("agent: MaxPods and Workers must not be negative: %w", ErrInvalidConfig))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.LeaseDuration, 40*time.Second)
	def(&c.HeartbeatInterval, 10*time.Second)
	def(&c.NodeStatusInterval, time.Minute)
	def(&c.SyncPeriod, time.Second)
	def(&c.ResyncPeriod, 10*time.Second)
	def(&c.BackoffBase, 10*time.Second)
	def(&c.BackoffMax, 5*time.Minute)
	def(&c.BackoffReset, 10*time.Minute)
	def(&c.StatsInterval, 15*time.Second)
	def(&c.DefaultGracePeriod, 30*time.Second)
	if c.MaxPods == 0 {
		c.MaxPods = 110
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BackoffMax < c.BackoffBase {
		return fmt.Errorf("agent: BackoffMax %s is below BackoffBase %s: %w", c.BackoffMax, c.BackoffBase, ErrInvalidConfig)
	}
	if c.HeartbeatInterval >= c.LeaseDuration {
		return fmt.Errorf("agent: HeartbeatInterval %s must be shorter than LeaseDuration %s: %w", c.HeartbeatInterval, c.LeaseDuration, ErrInvalidConfig)
	}
	return nil
}
