package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/job"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podautoscaler"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// The test binary is re-executed as each container's init.
func init() { libcontainer.Init() }

// realNode starts a control plane whose single node runs the real agent on
// libcontainer, with its own state dir and cgroup root, cleaned up after.
func realNode(t *testing.T, statsInterval time.Duration) (*testenv.Env, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("end-to-end: runs real containers and needs root")
	}
	image := imagetest.BusyboxRef(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	cgroupRoot := "/coxswain-batch-e2e-" + hex.EncodeToString(b[:])
	stateDir, rootDir := t.TempDir(), t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	rt, err := libcontainer.New(libcontainer.Config{StateDir: stateDir, CgroupRoot: cgroupRoot, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanup(rt, cgroupRoot, stateDir, rootDir) })
	s := memstore.New()
	env := testenv.Start(t, testenv.Options{
		Nodes: 1, Store: s,
		Controllers: []string{testenv.ControllerReplicaSet, testenv.ControllerDeployment, testenv.ControllerGC},
		Agent: func(node string) (manager.Runnable, error) {
			return agent.New(context.Background(), agent.Config{
				NodeName: node, Store: s, Runtime: rt, RootDir: rootDir, NodeIP: "127.0.0.1",
				SyncPeriod: 50 * time.Millisecond, StatsInterval: statsInterval,
				DefaultGracePeriod: time.Second, Logger: logger,
			})
		},
	})
	return env, image
}

// cleanup removes what a failed test may have left: sandboxes, mounts and
// the cgroup root in every hierarchy.
func cleanup(rt *libcontainer.Runtime, cgroupRoot string, dirs ...string) {
	ctx := context.Background()
	if sbs, err := rt.ListPodSandboxes(ctx, nil); err == nil {
		for _, sb := range sbs {
			_ = rt.RemovePodSandbox(ctx, sb.ID)
		}
	}
	if data, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			for _, d := range dirs {
				if len(f) > 4 && strings.HasPrefix(f[4], d+"/") {
					_ = unix.Unmount(f[4], unix.MNT_DETACH)
				}
			}
		}
	}
	hier, _ := filepath.Glob("/sys/fs/cgroup/*")
	hier = append(hier, "/sys/fs/cgroup")
	for _, h := range hier {
		root := filepath.Join(h, cgroupRoot)
		var found []string
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				found = append(found, p)
			}
			return nil
		})
		for i := len(found) - 1; i >= 0; i-- {
			_ = os.Remove(found[i])
		}
	}
}

// A Job of busybox containers runs to completion on the real runtime: 3
// completions, 2 at a time, each pod writing its index.
func TestJobOnLibcontainer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	env, image := realNode(t, -1)
	if _, err := job.Add(env.Manager, job.Options{}); err != nil {
		t.Fatal(err)
	}
	j := &api.Job{
		Metadata: &api.ObjectMeta{Name: "count", Namespace: "default"},
		Spec: &api.JobSpec{
			Completions: proto.Int32(3), Parallelism: proto.Int32(2), CompletionMode: job.CompletionIndexed,
			Template: &api.PodTemplateSpec{Spec: &api.PodSpec{
				RestartPolicy: "Never",
				Containers: []*api.Container{{Name: "work", Image: image,
					Command: []string{"sh", "-c", `test -n "$JOB_COMPLETION_INDEX" && echo "index $JOB_COMPLETION_INDEX"`}}},
			}},
		},
	}
	if _, err := env.Store.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	got, err := testenv.UntilObject(ctx, env.Store, "default", "count", func(j *api.Job) bool {
		done, _ := job.IsFinished(j)
		return done
	})
	if err != nil {
		t.Fatalf("job did not finish: %v", err)
	}
	if _, how := job.IsFinished(got); how != job.ConditionComplete || got.GetStatus().GetSucceeded() != 3 || got.GetStatus().GetCompletedIndexes() != "0-2" {
		t.Fatalf("job status = %v, want Complete with 3 succeeded, indexes 0-2", got.GetStatus())
	}
	pods, _, err := store.For[*api.Pod](env.Store).List(ctx, store.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if p.GetStatus().GetPhase() != podutil.PhaseSucceeded {
			t.Errorf("pod %s is %s", p.GetMetadata().GetName(), p.GetStatus().GetPhase())
		}
		for _, cs := range p.GetStatus().GetContainerStatuses() {
			if code := cs.GetState().GetTerminated().GetExitCode(); code != 0 || cs.GetState().GetTerminated() == nil {
				t.Errorf("pod %s container %s: state %v", p.GetMetadata().GetName(), cs.GetName(), cs.GetState())
			}
		}
	}
}

// An HPA reads the real CPU usage of a busy container (measured by the
// agent from its cgroup) and scales its Deployment up.
func TestHPAOnRealCPU(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	env, image := realNode(t, 500*time.Millisecond)
	if _, err := podautoscaler.Add(env.Manager, podautoscaler.Options{SyncPeriod: 500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	d := &api.Deployment{
		Metadata: &api.ObjectMeta{Name: "busy", Namespace: "default"},
		Spec: &api.DeploymentSpec{
			Replicas: proto.Int32(1),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "busy"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "busy"}},
				Spec: &api.PodSpec{
					TerminationGracePeriodSeconds: 1,
					Containers: []*api.Container{{Name: "spin", Image: image,
						Command: []string{"sh", "-c", "while :; do :; done"},
						// A quarter of a core requested (and allowed): a
						// spinning shell sits near 100% of it.
						Resources: &api.ResourceRequirements{
							Requests: map[string]string{"cpu": "250m"},
							Limits:   map[string]string{"cpu": "250m"},
						}}},
				},
			},
		},
	}
	if _, err := env.Store.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	hpa := &api.HorizontalPodAutoscaler{
		Metadata: &api.ObjectMeta{Name: "busy", Namespace: "default"},
		Spec: &api.HorizontalPodAutoscalerSpec{
			ScaleTargetRef:                 &api.CrossVersionObjectReference{ApiVersion: "apps/v1", Kind: api.KindDeployment, Name: "busy"},
			MinReplicas:                    proto.Int32(1),
			MaxReplicas:                    2,
			TargetCpuUtilizationPercentage: proto.Int32(40),
		},
	}
	if _, err := env.Store.Create(ctx, hpa); err != nil {
		t.Fatal(err)
	}
	// The status written with the scale-up carries the utilization that
	// caused it.
	h, err := testenv.UntilObject(ctx, env.Store, "default", "busy", func(h *api.HorizontalPodAutoscaler) bool {
		return h.GetStatus().GetLastScaleTime() != nil && h.GetStatus().GetDesiredReplicas() == 2
	})
	if err != nil {
		h, _ := store.For[*api.HorizontalPodAutoscaler](env.Store).Get(ctx, "default", "busy")
		t.Fatalf("HPA did not scale up: %v (status %v)", err, h.GetStatus())
	}
	util := h.GetStatus().GetCurrentCpuUtilizationPercentage()
	t.Logf("scaled to 2 replicas at %d%% CPU utilization (measured from cgroups)", util)
	if util < 40 {
		t.Errorf("measured utilization %d%% is below the 40%% target the scale-up needed", util)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "busy", func(d *api.Deployment) bool {
		return d.GetSpec().GetReplicas() == 2
	}); err != nil {
		t.Fatalf("deployment not scaled: %v", err)
	}
	// Stop spinning before cleanup.
	if _, err := store.For[*api.Deployment](env.Store).Mutate(ctx, "default", "busy", func(d *api.Deployment) error {
		d.Spec.Replicas = proto.Int32(0)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Delete(ctx, api.KindHorizontalPodAutoscaler, "default", "busy", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}
