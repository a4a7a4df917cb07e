package agent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	netfake "github.com/coxswain-io/coxswain/network/fake"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/fake"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// recorder is a runtime that remembers the configs of created containers
// and the grace periods of stops.
type recorder struct {
	runtime.Runtime
	mu      sync.Mutex
	configs map[string]*runtime.ContainerConfig // by container name
	stops   []time.Duration
	execs   [][]string
	// pulls: the auth of each pulled reference
	pulls map[string]*runtime.AuthConfig
	// sandboxes by pod name
	sandboxes map[string]*runtime.SandboxConfig
	// failList makes ListPodSandboxes fail.
	failList atomic.Bool
}

func (r *recorder) ListPodSandboxes(ctx context.Context, f *runtime.SandboxFilter) ([]*runtime.SandboxStatus, error) {
	if r.failList.Load() {
		return nil, fmt.Errorf("injected: %w", runtime.ErrFailedPrecondition)
	}
	return r.Runtime.ListPodSandboxes(ctx, f)
}

func (r *recorder) CreateContainer(ctx context.Context, sb string, cfg *runtime.ContainerConfig) (string, error) {
	r.mu.Lock()
	r.configs[cfg.Name] = cfg
	r.mu.Unlock()
	return r.Runtime.CreateContainer(ctx, sb, cfg)
}

func (r *recorder) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	r.mu.Lock()
	r.stops = append(r.stops, grace)
	r.mu.Unlock()
	return r.Runtime.StopContainer(ctx, id, grace)
}

func (r *recorder) RunPodSandbox(ctx context.Context, cfg *runtime.SandboxConfig) (string, error) {
	r.mu.Lock()
	if r.sandboxes == nil {
		r.sandboxes = map[string]*runtime.SandboxConfig{}
	}
	r.sandboxes[cfg.Name] = cfg
	r.mu.Unlock()
	return r.Runtime.RunPodSandbox(ctx, cfg)
}

func (r *recorder) sandbox(name string) *runtime.SandboxConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sandboxes[name]
}

func (r *recorder) PullImage(ctx context.Context, ref string, auth *runtime.AuthConfig) (*runtime.Image, error) {
	r.mu.Lock()
	if r.pulls == nil {
		r.pulls = map[string]*runtime.AuthConfig{}
	}
	r.pulls[ref] = auth
	r.mu.Unlock()
	return r.Runtime.PullImage(ctx, ref, auth)
}

func (r *recorder) pullAuth(ref string) (*runtime.AuthConfig, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.pulls[ref]
	return a, ok
}

func (r *recorder) Exec(ctx context.Context, id string, req runtime.ExecRequest) (int, error) {
	r.mu.Lock()
	r.execs = append(r.execs, req.Cmd)
	r.mu.Unlock()
	return r.Runtime.Exec(ctx, id, req)
}

// execCount counts the execs of cmd.
func (r *recorder) execCount(cmd []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.execs {
		if slices.Equal(c, cmd) {
			n++
		}
	}
	return n
}

func (r *recorder) config(name string) *runtime.ContainerConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.configs[name]
}

// fileNetNS makes plain files instead of network namespaces, so the fake
// network runs without root.
type fileNetNS struct{}

func (fileNetNS) Create(dir, name string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := dir + "/" + name
	return p, os.WriteFile(p, nil, 0o644)
}

func (fileNetNS) Delete(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

type env struct {
	t     *testing.T
	store store.Store
	fake  *fake.Runtime
	rt    *recorder
	net   *netfake.Network
	cfg   agent.Config
	pods  store.Typed[*api.Pod]
	stop  func()
}

func testConfig(t *testing.T, s store.Store, rt runtime.Runtime) agent.Config {
	return agent.Config{
		NodeName: "node-1", Store: s, Runtime: rt, RootDir: t.TempDir(),
		NodeIP:     "10.0.0.1",
		SyncPeriod: 20 * time.Millisecond, ResyncPeriod: 50 * time.Millisecond, BackoffBase: 100 * time.Millisecond, BackoffMax: 400 * time.Millisecond,
		HeartbeatInterval: 50 * time.Millisecond, LeaseDuration: time.Second,
		StatsInterval: -1, DefaultGracePeriod: time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// newEnv starts an agent on a fake runtime and a fake network.
func newEnv(t *testing.T, mods ...func(*agent.Config)) *env {
	t.Helper()
	e := &env{t: t, store: memstore.New(), fake: fake.New(fake.Config{})}
	e.rt = &recorder{Runtime: e.fake, configs: map[string]*runtime.ContainerConfig{}}
	var err error
	if e.net, err = netfake.New("10.88.0.0/24"); err != nil {
		t.Fatal(err)
	}
	e.cfg = testConfig(t, e.store, e.rt)
	e.cfg.Network = e.net
	for _, m := range mods {
		m(&e.cfg)
	}
	e.pods = store.For[*api.Pod](e.store)
	e.start()
	return e
}

// start runs a new agent over the env's store, runtime and network.
func (e *env) start() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, e.cfg, agent.WithNetNS(fileNetNS{}))
	if err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Start(ctx) }()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("agent: %v", err)
			}
		})
	}
	e.t.Cleanup(e.stop)
}

// eventually polls cond until it reports true or 10 s pass.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %s", what, last)
}

func (e *env) create(p *api.Pod) *api.Pod {
	e.t.Helper()
	if p.Metadata.Namespace == "" {
		p.Metadata.Namespace = "default"
	}
	if p.Spec.NodeName == "" {
		p.Spec.NodeName = "node-1"
	}
	out, err := e.pods.Create(context.Background(), p)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) get(name string) (*api.Pod, error) {
	return e.pods.Get(context.Background(), "default", name)
}

// waitPod waits until cond holds for the pod.
func (e *env) waitPod(name, what string, cond func(*api.Pod) bool) *api.Pod {
	e.t.Helper()
	var p *api.Pod
	eventually(e.t, name+" "+what, func() (bool, string) {
		var err error
		p, err = e.get(name)
		if err != nil {
			return false, err.Error()
		}
		return cond(p), fmt.Sprintf("status %v", p.GetStatus())
	})
	return p
}

func phase(ph string) func(*api.Pod) bool {
	return func(p *api.Pod) bool { return p.GetStatus().GetPhase() == ph }
}

func cond(p *api.Pod, typ string) string {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == typ {
			return c.GetStatus()
		}
	}
	return ""
}

func containerStatus(p *api.Pod, name string) *api.ContainerStatus {
	for _, c := range append(p.GetStatus().GetInitContainerStatuses(), p.GetStatus().GetContainerStatuses()...) {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}

// pod returns a pod with one container per behaviour, named c0, c1, ...
func pod(name, policy string, bs ...fake.Behavior) *api.Pod {
	p := &api.Pod{Metadata: &api.ObjectMeta{Name: name}, Spec: &api.PodSpec{RestartPolicy: policy, TerminationGracePeriodSeconds: 1}}
	for i, b := range bs {
		p.Spec.Containers = append(p.Spec.Containers, &api.Container{Name: fmt.Sprintf("c%d", i), Image: "busybox:1", Command: fake.Command(b)})
	}
	return p
}

var forever = fake.Behavior{Stdout: "hello\n"}

// safeBuffer is a bytes.Buffer safe for one writer and one reader.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// hasEvent reports whether an Event with reason was recorded about pod name.
func (e *env) hasEvent(name, reason string) bool {
	evs, _, err := store.For[*api.Event](e.store).List(context.Background(), store.ListOptions{Namespace: "default"})
	if err != nil {
		return false
	}
	for _, ev := range evs {
		if ev.GetInvolvedObject().GetName() == name && ev.GetReason() == reason {
			return true
		}
	}
	return false
}
