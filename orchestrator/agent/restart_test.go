package agent_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/fake"
	"github.com/coxswain-io/coxswain/store"
)

// TestRestartAdoptsAndRemovesOrphans stops an agent, changes the world
// behind its back, and starts a new one on the same runtime.
func TestRestartAdoptsAndRemovesOrphans(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	kp := pod("keep", "", forever)
	kp.Spec.Volumes = []*api.Volume{{Name: "data", EmptyDir: &api.EmptyDirVolumeSource{}}}
	e.create(kp)
	e.create(pod("gone", "", forever))
	keep := e.waitPod("keep", "running", phase(agent.PhaseRunning))
	e.waitPod("gone", "running", phase(agent.PhaseRunning))
	keepID := containerStatus(keep, "c0").ContainerId

	e.stop()
	// While no agent runs: "gone" is deleted and released by hand, and a
	// stray sandbox, network namespace, network allocation and pod dir of
	// an unknown pod appear.
	if _, err := e.pods.Delete(ctx, "default", "gone", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pods.Mutate(ctx, "default", "gone", func(p *api.Pod) error { p.Metadata.Finalizers = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.RunPodSandbox(ctx, &runtime.SandboxConfig{Name: "stray", Namespace: "default", UID: "stray-uid",
		Labels: map[string]string{agent.LabelNode: "node-1", agent.LabelPodUID: "stray-uid"}}); err != nil {
		t.Fatal(err)
	}
	strayNS, _ := fileNetNS{}.Create(filepath.Join(e.cfg.RootDir, "netns"), "stray-ns")
	if _, err := e.net.SetUp(ctx, network.Sandbox{ID: "stray-net", NetNS: strayNS}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(e.cfg.RootDir, "pods", "stray-uid", "volumes"), 0o755); err != nil {
		t.Fatal(err)
	}

	e.fake = e.fake.Reopen()
	e.rt.Runtime = e.fake
	e.start()
	eventually(t, "orphans removed", func() (bool, string) {
		sbs, _ := e.fake.ListPodSandboxes(ctx, nil)
		pods, _ := os.ReadDir(filepath.Join(e.cfg.RootDir, "pods"))
		nss, _ := os.ReadDir(filepath.Join(e.cfg.RootDir, "netns"))
		return len(sbs) == 1 && sbs[0].UID == keep.Metadata.Uid && len(pods) == 1 && len(nss) == 1 && len(e.net.Sandboxes()) == 1,
			fmt.Sprintf("sandboxes %d pods %d netns %d net %v", len(sbs), len(pods), len(nss), e.net.Sandboxes())
	})
	// The running container was adopted, not restarted.
	time.Sleep(100 * time.Millisecond) // a few syncs of the new agent
	p, _ := e.get("keep")
	cs := containerStatus(p, "c0")
	if cs.ContainerId != keepID || cs.RestartCount != 0 || cs.GetState().GetRunning() == nil {
		t.Errorf("after restart: %v (was %s)", cs, keepID)
	}
	ctrs, _ := e.fake.ListContainers(ctx, nil)
	if len(ctrs) != 1 {
		t.Errorf("runtime holds %d containers, want 1", len(ctrs))
	}
}

// TestKilledMidFlight cancels the agent while pods are starting (slow
// starts) and deleting, and checks that a new agent converges: each pod
// runs exactly one container in one sandbox, and a deleted pod leaves
// nothing behind.
func TestKilledMidFlight(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.stop()
	slow := fake.New(fake.Config{StartLatency: 30 * time.Millisecond})
	e.fake = slow
	e.rt.Runtime = slow
	e.start()
	const n = 6
	for i := range n {
		e.create(pod("p"+string(rune('a'+i)), "", forever))
	}
	// Let some, not all, pods start.
	eventually(t, "some containers", func() (bool, string) {
		ctrs, _ := slow.ListContainers(ctx, nil)
		return len(ctrs) >= 2, ""
	})
	e.stop()
	// Delete one pod while the agent is down.
	if _, err := e.pods.Delete(ctx, "default", "pa", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.fake = slow.Reopen()
	e.rt.Runtime = e.fake
	e.start()
	eventually(t, "pa released", func() (bool, string) { _, err := e.get("pa"); return store.IsNotFound(err), "" })
	for i := 1; i < n; i++ {
		e.waitPod("p"+string(rune('a'+i)), "running", phase(agent.PhaseRunning))
	}
	sbs, _ := e.fake.ListPodSandboxes(ctx, nil)
	ctrs, _ := e.fake.ListContainers(ctx, nil)
	if len(sbs) != n-1 || len(ctrs) != n-1 {
		t.Errorf("runtime holds %d sandboxes and %d containers, want %d each", len(sbs), len(ctrs), n-1)
	}
	if got := len(e.net.Sandboxes()); got != n-1 {
		t.Errorf("network holds %d sandboxes, want %d", got, n-1)
	}
	nss, _ := os.ReadDir(filepath.Join(e.cfg.RootDir, "netns"))
	if len(nss) != n-1 {
		t.Errorf("%d netns files, want %d", len(nss), n-1)
	}
	for _, p := range []string{"pb", "pc"} {
		if cs := containerStatus(mustGet(t, e, p), "c0"); cs.RestartCount != 0 {
			t.Errorf("%s restarted: %v", p, cs)
		}
	}
}

func mustGet(t *testing.T, e *env, name string) *api.Pod {
	t.Helper()
	p, err := e.get(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAdoptsContainerCreatedButNotStarted: an agent died between
// CreateContainer and StartContainer; the next one starts it over.
func TestAdoptsContainerCreatedButNotStarted(t *testing.T) {
	e := newEnv(t)
	e.stop()
	ctx := context.Background()
	p := pod("half", "", forever)
	p.Metadata.Namespace, p.Spec.NodeName = "default", "node-1"
	p.Metadata.Finalizers = []string{agent.FinalizerNodeAgent}
	created, err := e.pods.Create(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	uid := created.Metadata.Uid
	labels := map[string]string{agent.LabelNode: "node-1", agent.LabelPodUID: uid, agent.LabelPodName: "half", agent.LabelPodNamespace: "default"}
	sb, err := e.fake.RunPodSandbox(ctx, &runtime.SandboxConfig{Name: "half", Namespace: "default", UID: uid, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	cl := map[string]string{agent.LabelContainer: "c0"}
	for k, v := range labels {
		cl[k] = v
	}
	if _, err := e.fake.PullImage(ctx, "busybox:1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "c0", Image: "busybox:1", Command: fake.Command(forever), Labels: cl}); err != nil {
		t.Fatal(err)
	}
	e.start()
	got := e.waitPod("half", "running", phase(agent.PhaseRunning))
	if cs := containerStatus(got, "c0"); cs.RestartCount != 0 || cs.GetState().GetRunning() == nil {
		t.Errorf("status %v", cs)
	}
	ctrs, _ := e.fake.ListContainers(ctx, nil)
	sbs, _ := e.fake.ListPodSandboxes(ctx, nil)
	if len(ctrs) != 1 || len(sbs) != 1 || ctrs[0].SandboxID != sb {
		t.Errorf("%d containers, %d sandboxes; want the adopted sandbox with one container", len(ctrs), len(sbs))
	}
}
