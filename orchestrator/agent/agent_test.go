package agent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/fake"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func TestConfigValidate(t *testing.T) {
	s, rt := memstore.New(), fake.New(fake.Config{})
	tests := []struct {
		name string
		mod  func(*agent.Config)
		ok   bool
	}{
		{"valid", func(*agent.Config) {}, true},
		{"no node name", func(c *agent.Config) { c.NodeName = "" }, false},
		{"no store", func(c *agent.Config) { c.Store = nil }, false},
		{"no runtime", func(c *agent.Config) { c.Runtime = nil }, false},
		{"relative root", func(c *agent.Config) { c.RootDir = "var/lib" }, false},
		{"backoff max below base", func(c *agent.Config) { c.BackoffBase, c.BackoffMax = time.Minute, time.Second }, false},
		{"heartbeat not below lease", func(c *agent.Config) { c.HeartbeatInterval, c.LeaseDuration = time.Minute, time.Second }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := agent.Config{NodeName: "n", Store: s, Runtime: rt, RootDir: "/tmp/x"}
			tt.mod(&cfg)
			err := cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, agent.ErrInvalidConfig) {
				t.Fatalf("error %v is not ErrInvalidConfig", err)
			}
			if tt.ok && (cfg.BackoffBase != 10*time.Second || cfg.BackoffMax != 5*time.Minute || cfg.MaxPods != 110) {
				t.Fatalf("defaults not applied: %+v", cfg)
			}
		})
	}
}

func TestRegistersNodeAndRenewsLease(t *testing.T) {
	e := newEnv(t, func(c *agent.Config) {
		c.Labels = map[string]string{"zone": "a"}
		c.Capacity = map[string]string{"example.com/gpu": "2", "pods": "20"}
		c.Reserved = map[string]string{"pods": "5"}
	})
	ctx := context.Background()
	var node *api.Node
	eventually(t, "node registered", func() (bool, string) {
		var err error
		node, err = store.For[*api.Node](e.store).Get(ctx, "", "node-1")
		return err == nil && len(node.GetStatus().GetConditions()) > 0, "no node"
	})
	st := node.GetStatus()
	for _, k := range []string{"cpu", "memory"} {
		if st.Capacity[k] == "" || st.Capacity[k] == "0" {
			t.Errorf("capacity %s = %q, want measured", k, st.Capacity[k])
		}
	}
	if st.Capacity["pods"] != "20" || st.Allocatable["pods"] != "15" || st.Allocatable["example.com/gpu"] != "2" {
		t.Errorf("capacity %v allocatable %v", st.Capacity, st.Allocatable)
	}
	if l := node.Metadata.Labels; l["zone"] != "a" || l[agent.LabelHostname] != "node-1" {
		t.Errorf("labels %v", l)
	}
	if c := st.Conditions[0]; c.Type != agent.NodeReady || c.Status != "True" {
		t.Errorf("condition %v", c)
	}
	if len(st.Addresses) == 0 || st.Addresses[0].Address != "10.0.0.1" {
		t.Errorf("addresses %v", st.Addresses)
	}
	leases := store.For[*api.Lease](e.store)
	l1, err := leases.Get(ctx, agent.NodeLeaseNamespace, "node-1")
	if err != nil {
		t.Fatal(err)
	}
	if l1.Spec.HolderIdentity != "node-1" || l1.Spec.LeaseDurationSeconds != 1 {
		t.Errorf("lease %v", l1.Spec)
	}
	eventually(t, "lease renewed", func() (bool, string) {
		l2, err := leases.Get(ctx, agent.NodeLeaseNamespace, "node-1")
		return err == nil && l2.Spec.RenewTime.AsTime().After(l1.Spec.RenewTime.AsTime()), "not renewed"
	})
}

func TestPodRunsWithStatusAndNoIdleWrites(t *testing.T) {
	e := newEnv(t)
	e.create(pod("web", "", forever))
	p := e.waitPod("web", "ready", func(p *api.Pod) bool { return cond(p, agent.PodReady) == "True" })
	if p.Status.Phase != agent.PhaseRunning {
		t.Errorf("phase %s", p.Status.Phase)
	}
	if !strings.HasPrefix(p.Status.PodIp, "10.88.0.") || p.Status.HostIp != "10.0.0.1" {
		t.Errorf("podIP %q hostIP %q", p.Status.PodIp, p.Status.HostIp)
	}
	for _, c := range []string{agent.PodScheduled, agent.PodInitialized, agent.ContainersReady} {
		if cond(p, c) != "True" {
			t.Errorf("condition %s = %q", c, cond(p, c))
		}
	}
	if !slices.Contains(p.Metadata.Finalizers, agent.FinalizerNodeAgent) {
		t.Errorf("finalizers %v", p.Metadata.Finalizers)
	}
	cs := containerStatus(p, "c0")
	if cs.GetState().GetRunning() == nil || cs.RestartCount != 0 || !cs.Ready || !strings.HasPrefix(cs.ContainerId, "coxswain://") {
		t.Errorf("container status %v", cs)
	}
	// The container's log is the runtime's.
	var out bytes.Buffer
	if err := e.fake.Logs(context.Background(), strings.TrimPrefix(cs.ContainerId, "coxswain://"), runtime.LogOptions{}, &out); err != nil || out.String() != "hello\n" {
		t.Errorf("logs %q %v", out.String(), err)
	}
	// Nothing changes: no write for many sync periods.
	rv := p.Metadata.ResourceVersion
	time.Sleep(300 * time.Millisecond) // 15 sync periods; asserting the absence of writes needs a window
	p, _ = e.get("web")
	if p.Metadata.ResourceVersion != rv {
		t.Errorf("pod written while nothing changed: rv %d -> %d, status %v", rv, p.Metadata.ResourceVersion, p.Status)
	}
}

func TestInitContainersRunInOrder(t *testing.T) {
	e := newEnv(t)
	p := pod("init", "", forever)
	for _, n := range []string{"i1", "i2"} {
		p.Spec.InitContainers = append(p.Spec.InitContainers, &api.Container{Name: n, Image: "busybox:1",
			Command: fake.Command(fake.Behavior{Exit: true, RunFor: 30 * time.Millisecond})})
	}
	e.create(p)
	pending := e.waitPod("init", "initializing", func(p *api.Pod) bool { return cond(p, agent.PodInitialized) == "False" })
	if pending.Status.Phase != agent.PhasePending {
		t.Errorf("phase while initializing: %s", pending.Status.Phase)
	}
	p = e.waitPod("init", "running", phase(agent.PhaseRunning))
	i1, i2 := containerStatus(p, "i1").State.Terminated, containerStatus(p, "i2").State.Terminated
	app := containerStatus(p, "c0").State.Running
	if i1 == nil || i2 == nil || app == nil {
		t.Fatalf("states: %v", p.Status)
	}
	if i2.StartedAt.AsTime().Before(i1.FinishedAt.AsTime()) || app.StartedAt.AsTime().Before(i2.FinishedAt.AsTime()) {
		t.Errorf("out of order: i1 %v-%v, i2 %v-%v, app %v", i1.StartedAt.AsTime(), i1.FinishedAt.AsTime(), i2.StartedAt.AsTime(), i2.FinishedAt.AsTime(), app.StartedAt.AsTime())
	}
}

func TestFailedInitContainerWithNeverFailsPod(t *testing.T) {
	e := newEnv(t)
	p := pod("initfail", agent.RestartNever, forever)
	p.Spec.InitContainers = []*api.Container{{Name: "i1", Image: "busybox:1", Command: fake.Command(fake.Behavior{Exit: true, ExitCode: 2})}}
	e.create(p)
	p = e.waitPod("initfail", "failed", phase(agent.PhaseFailed))
	if cs := containerStatus(p, "i1"); cs.GetState().GetTerminated().GetExitCode() != 2 {
		t.Errorf("init status %v", cs)
	}
	if cs := containerStatus(p, "c0"); cs.GetState().GetWaiting() == nil {
		t.Errorf("app container ran: %v", cs)
	}
}

func TestRestartPolicies(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, policy string
		exit         int
		phase        string // final phase, or "" when the container restarts
	}{
		{"always-restarts-success", agent.RestartAlways, 0, ""},
		{"onfailure-success", agent.RestartOnFailure, 0, agent.PhaseSucceeded},
		{"onfailure-restarts-failure", agent.RestartOnFailure, 3, ""},
		{"never-failure", agent.RestartNever, 3, agent.PhaseFailed},
		{"never-success", agent.RestartNever, 0, agent.PhaseSucceeded},
	}
	for _, tt := range tests {
		e.create(pod(tt.name, tt.policy, fake.Behavior{Exit: true, ExitCode: tt.exit, RunFor: 10 * time.Millisecond}))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.phase != "" {
				p := e.waitPod(tt.name, "terminal", phase(tt.phase))
				cs := containerStatus(p, "c0")
				if cs.GetState().GetTerminated().GetExitCode() != int32(tt.exit) || cs.RestartCount != 0 {
					t.Errorf("container %v", cs)
				}
				// The sandbox is stopped, the exited container (and its log) kept.
				eventually(t, "sandbox stopped", func() (bool, string) {
					sbs, _ := e.fake.ListPodSandboxes(context.Background(), &runtime.SandboxFilter{Labels: map[string]string{agent.LabelPodUID: p.Metadata.Uid}})
					ctrs, _ := e.fake.ListContainers(context.Background(), &runtime.ContainerFilter{Labels: map[string]string{agent.LabelPodUID: p.Metadata.Uid}})
					return len(sbs) == 1 && sbs[0].State == runtime.SandboxNotReady && len(ctrs) == 1,
						fmt.Sprintf("%d sandboxes (%v), %d containers", len(sbs), sbs, len(ctrs))
				})
				return
			}
			p := e.waitPod(tt.name, "restarted twice", func(p *api.Pod) bool { return containerStatus(p, "c0").GetRestartCount() >= 2 })
			if p.Status.Phase != agent.PhaseRunning {
				t.Errorf("phase %s", p.Status.Phase)
			}
			if last := containerStatus(p, "c0").GetLastState().GetTerminated(); last == nil || last.ExitCode != int32(tt.exit) {
				t.Errorf("lastState %v", containerStatus(p, "c0").GetLastState())
			}
		})
	}
}

func TestCrashLoopBackoff(t *testing.T) {
	e := newEnv(t)
	e.create(pod("crash", agent.RestartAlways, fake.Behavior{Exit: true, ExitCode: 1}))
	sawBackoff := false
	p := e.waitPod("crash", "restartCount 3", func(p *api.Pod) bool {
		cs := containerStatus(p, "c0")
		if cs.GetState().GetWaiting().GetReason() == "CrashLoopBackOff" {
			sawBackoff = true
		}
		return cs.GetRestartCount() >= 3
	})
	if !sawBackoff {
		t.Error("never reported CrashLoopBackOff")
	}
	eventually(t, "BackOff event", func() (bool, string) { return e.hasEvent("crash", "BackOff"), "" })
	// Attempt 3 waited at least BackoffBase*2 after attempt 2 exited.
	cs := containerStatus(p, "c0")
	last := cs.GetLastState().GetTerminated()
	var started time.Time
	if r := cs.GetState().GetRunning(); r != nil {
		started = r.StartedAt.AsTime()
	} else if tt := cs.GetState().GetTerminated(); tt != nil {
		started = tt.StartedAt.AsTime()
	}
	if cs.RestartCount == 3 && !started.IsZero() {
		if gap := started.Sub(last.FinishedAt.AsTime()); gap < 200*time.Millisecond {
			t.Errorf("restart 3 came %v after the exit, want >= 200ms", gap)
		}
	}
}

func TestLivenessProbeRestartsAndReadinessGatesReady(t *testing.T) {
	e := newEnv(t)
	p := pod("probed", "", forever, forever)
	p.Spec.Containers[0].LivenessProbe = &api.Probe{PeriodSeconds: 1, FailureThreshold: 1,
		Exec: &api.ExecAction{Command: fake.Command(fake.Behavior{Exit: true, ExitCode: 1})}}
	p.Spec.Containers[1].ReadinessProbe = &api.Probe{PeriodSeconds: 1,
		Exec: &api.ExecAction{Command: fake.Command(fake.Behavior{Exit: true, ExitCode: 1})}}
	e.create(p)
	p = e.waitPod("probed", "liveness restart", func(p *api.Pod) bool { return containerStatus(p, "c0").GetRestartCount() >= 1 })
	for _, reason := range []string{"Unhealthy", "Killing"} {
		if !e.hasEvent("probed", reason) {
			t.Errorf("no %s event", reason)
		}
	}
	if cs := containerStatus(p, "c1"); cs.Ready || cond(p, agent.PodReady) != "False" || p.Status.Phase != agent.PhaseRunning {
		t.Errorf("failing readiness: c1 ready=%v, Ready=%s, phase %s", cs.Ready, cond(p, agent.PodReady), p.Status.Phase)
	}
	if cs := containerStatus(p, "c1"); cs.RestartCount != 0 {
		t.Errorf("readiness failure restarted c1: %v", cs)
	}

	ok := pod("ready", "", forever)
	ok.Spec.Containers[0].ReadinessProbe = &api.Probe{PeriodSeconds: 1,
		Exec: &api.ExecAction{Command: fake.Command(fake.Behavior{Exit: true})}}
	e.create(ok)
	e.waitPod("ready", "ready", func(p *api.Pod) bool { return cond(p, agent.PodReady) == "True" })
}

func TestEnvAndConfigMapVolume(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.store.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"mode": "fast", "file.txt": "v1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Create(ctx, &api.Secret{Metadata: &api.ObjectMeta{Name: "sec", Namespace: "default"}, Data: map[string][]byte{"token": []byte("s3cret")}}); err != nil {
		t.Fatal(err)
	}
	p := pod("envpod", "", forever)
	c := p.Spec.Containers[0]
	c.Env = []*api.EnvVar{
		{Name: "LITERAL", Value: "x"},
		{Name: "MODE", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{Name: "cfg", Key: "mode"}}},
		{Name: "TOKEN", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{Name: "sec", Key: "token"}}},
		{Name: "POD_NAME", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "POD_IP", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "status.podIP"}}},
	}
	p.Spec.Volumes = []*api.Volume{{Name: "conf", ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg"}}}
	c.VolumeMounts = []*api.VolumeMount{{Name: "conf", MountPath: "/etc/conf"}}
	e.create(p)
	p = e.waitPod("envpod", "running", phase(agent.PhaseRunning))
	cfg := e.rt.config("c0")
	got := map[string]string{}
	for _, v := range cfg.Env {
		got[v.Name] = v.Value
	}
	want := map[string]string{"LITERAL": "x", "MODE": "fast", "TOKEN": "s3cret", "POD_NAME": "envpod", "POD_IP": p.Status.PodIp}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("env %s = %q, want %q", k, got[k], v)
		}
	}
	if len(cfg.Mounts) != 1 || cfg.Mounts[0].ContainerPath != "/etc/conf" {
		t.Fatalf("mounts %v", cfg.Mounts)
	}
	file := filepath.Join(cfg.Mounts[0].HostPath, "file.txt")
	if b, err := os.ReadFile(file); err != nil || string(b) != "v1" {
		t.Fatalf("volume file %q %v", b, err)
	}
	if _, err := store.For[*api.ConfigMap](e.store).Mutate(ctx, "default", "cfg", func(cm *api.ConfigMap) error {
		cm.Data["file.txt"] = "v2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "configMap volume refreshed", func() (bool, string) {
		b, err := os.ReadFile(file)
		return err == nil && string(b) == "v2", string(b)
	})
}

func TestDeletionStopsGracefullyAndReleases(t *testing.T) {
	e := newEnv(t)
	p := pod("del", "", fake.Behavior{TrapTERM: true})
	p.Spec.TerminationGracePeriodSeconds = 7
	p.Spec.Volumes = []*api.Volume{{Name: "scratch", EmptyDir: &api.EmptyDirVolumeSource{}}}
	created := e.create(p)
	e.waitPod("del", "running", phase(agent.PhaseRunning))
	podDir := filepath.Join(e.cfg.RootDir, "pods", created.Metadata.Uid)
	if _, err := os.Stat(podDir); err != nil {
		t.Fatalf("pod dir: %v", err)
	}
	if _, err := e.pods.Delete(context.Background(), "default", "del", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod released", func() (bool, string) {
		_, err := e.get("del")
		return store.IsNotFound(err), "still stored"
	})
	e.rt.mu.Lock()
	stops := slices.Clone(e.rt.stops)
	e.rt.mu.Unlock()
	if !slices.Contains(stops, 7*time.Second) {
		t.Errorf("stops with grace %v, want 7s", stops)
	}
	assertNothingLeft(t, e)
}

// assertNothingLeft checks the runtime, network and root dir hold nothing.
func assertNothingLeft(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	sbs, _ := e.fake.ListPodSandboxes(ctx, nil)
	ctrs, _ := e.fake.ListContainers(ctx, nil)
	if len(sbs) != 0 || len(ctrs) != 0 {
		t.Errorf("runtime holds %d sandboxes, %d containers", len(sbs), len(ctrs))
	}
	if n := e.net.Sandboxes(); len(n) != 0 {
		t.Errorf("network holds %v", n)
	}
	for _, d := range []string{"pods", "netns"} {
		entries, _ := os.ReadDir(filepath.Join(e.cfg.RootDir, d))
		if len(entries) != 0 {
			t.Errorf("%s holds %d entries", d, len(entries))
		}
	}
}

func TestRecreatedPodWithSameName(t *testing.T) {
	e := newEnv(t)
	first := e.create(pod("same", "", forever))
	e.waitPod("same", "running", phase(agent.PhaseRunning))
	if _, err := e.pods.Delete(context.Background(), "default", "same", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted", func() (bool, string) { _, err := e.get("same"); return store.IsNotFound(err), "" })
	second := e.create(pod("same", "", forever))
	if second.Metadata.Uid == first.Metadata.Uid {
		t.Fatal("same uid")
	}
	e.waitPod("same", "running again", phase(agent.PhaseRunning))
	sbs, _ := e.fake.ListPodSandboxes(context.Background(), nil)
	if len(sbs) != 1 || sbs[0].UID != second.Metadata.Uid {
		t.Errorf("sandboxes %v", sbs)
	}
}

func TestStatsWrittenToStatus(t *testing.T) {
	e := newEnv(t, func(c *agent.Config) { c.StatsInterval = 50 * time.Millisecond })
	e.create(pod("busy", "", fake.Behavior{MemoryBytes: 4 << 20}))
	p := e.waitPod("busy", "usage", func(p *api.Pod) bool { return p.GetStatus().GetUsage()["memory"] != "" })
	if p.Status.Usage["memory"] != "4194304" || p.Status.Usage["cpu"] == "" || p.Status.UsageTimestamp == nil {
		t.Errorf("usage %v at %v", p.Status.Usage, p.Status.UsageTimestamp)
	}
}

func TestFailedStartIsRetried(t *testing.T) {
	e := newEnv(t)
	e.fake.FailNext(fake.OpStartContainer, errors.New("boom"))
	e.create(pod("flaky", "", forever))
	e.waitPod("flaky", "start error reported", func(p *api.Pod) bool {
		return containerStatus(p, "c0").GetState().GetWaiting().GetReason() == "RunContainerError"
	})
	e.waitPod("flaky", "running after retry", phase(agent.PhaseRunning))
}

func TestHostNetworkPod(t *testing.T) {
	e := newEnv(t)
	p := pod("hostnet", "", forever)
	p.Spec.HostNetwork = true
	e.create(p)
	p = e.waitPod("hostnet", "running", phase(agent.PhaseRunning))
	if p.Status.PodIp != "10.0.0.1" {
		t.Errorf("podIP %q, want the node's", p.Status.PodIp)
	}
	if n := e.net.Sandboxes(); len(n) != 0 {
		t.Errorf("pod network used for a hostNetwork pod: %v", n)
	}
}

func TestNodeNotReadyWhenRuntimeFails(t *testing.T) {
	e := newEnv(t, func(c *agent.Config) { c.NodeStatusInterval = 30 * time.Millisecond })
	e.rt.failList.Store(true)
	eventually(t, "node NotReady", func() (bool, string) {
		n, err := store.For[*api.Node](e.store).Get(context.Background(), "", "node-1")
		if err != nil {
			return false, err.Error()
		}
		for _, c := range n.GetStatus().GetConditions() {
			if c.Type == agent.NodeReady {
				return c.Status == "False" && c.Reason == "RuntimeUnavailable", c.String()
			}
		}
		return false, "no Ready condition"
	})
}
