package podautoscaler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podautoscaler"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func start(t *testing.T, metrics podautoscaler.MetricsSource) (*testenv.Env, *clock.Fake) {
	t.Helper()
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	// The node lifecycle controller is left out: this test moves the clock
	// by minutes, and the fake nodes only heartbeat when it fires.
	env := testenv.Start(t, testenv.Options{Nodes: 2, Clock: fc, Controllers: []string{
		testenv.ControllerReplicaSet, testenv.ControllerDeployment, testenv.ControllerGC,
	}})
	if _, err := podautoscaler.Add(env.Manager, podautoscaler.Options{Clock: fc, Metrics: metrics}); err != nil {
		t.Fatal(err)
	}
	return env, fc
}

func deployment(name string, replicas int32) *api.Deployment {
	return &api.Deployment{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &api.DeploymentSpec{
			Replicas: proto.Int32(replicas),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "web",
					Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "500m"}}}}},
			},
		},
	}
}

// load spreads total millicores of CPU evenly over the running pods of app,
// writing each pod's status.usage as the node agent would.
func load(ctx context.Context, t *testing.T, s store.Store, app string, total int64) int {
	t.Helper()
	pods, _, err := store.For[*api.Pod](s).List(ctx, store.ListOptions{Namespace: "default", LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	var running []*api.Pod
	for _, p := range pods {
		if podutil.IsActive(p) && p.GetStatus().GetPhase() == podutil.PhaseRunning {
			running = append(running, p)
		}
	}
	for _, p := range running {
		each := fmt.Sprintf("%dm", total/int64(len(running)))
		if _, err := store.For[*api.Pod](s).MutateStatus(ctx, "default", p.GetMetadata().GetName(), func(p *api.Pod) error {
			p.Status.Usage = map[string]string{"cpu": each}
			return nil
		}); err != nil && !store.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	return len(running)
}

// runningPods waits until app has n running pods.
func runningPods(ctx context.Context, t *testing.T, s store.Store, app string, n int) {
	t.Helper()
	if err := testenv.UntilTyped(ctx, s, store.ListOptions{Namespace: "default", LabelSelector: "app=" + app}, func(pods []*api.Pod) bool {
		c := 0
		for _, p := range pods {
			if podutil.IsActive(p) && p.GetStatus().GetPhase() == podutil.PhaseRunning {
				c++
			}
		}
		return c == n
	}); err != nil {
		t.Fatalf("want %d running pods of %s: %v", n, app, err)
	}
}

// syncUntil steps the fake clock one sync period at a time until the HPA's
// status satisfies cond, and fails after max periods.
func syncUntil(ctx context.Context, t *testing.T, env *testenv.Env, fc *clock.Fake, max int, cond func(*api.HorizontalPodAutoscaler) bool) *api.HorizontalPodAutoscaler {
	t.Helper()
	for range max {
		fc.Step(15 * time.Second)
		wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		hpa, err := testenv.UntilObject(wctx, env.Store, "default", "web", cond)
		cancel()
		if err == nil {
			return hpa
		}
	}
	hpa, _ := store.For[*api.HorizontalPodAutoscaler](env.Store).Get(ctx, "default", "web")
	t.Fatalf("HPA never reached the condition; status %v", hpa.GetStatus())
	return nil
}

func scaleOf(ctx context.Context, t *testing.T, s store.Store) int32 {
	t.Helper()
	d, err := store.For[*api.Deployment](s).Get(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	return d.GetSpec().GetReplicas()
}

// Under load the HPA scales the Deployment up at once; when the load goes
// it holds the size for the stabilization window, then scales down to min.
func TestScaleUpUnderLoadThenDownAfterWindow(t *testing.T) {
	ctx := timeout(t)
	env, fc := start(t, nil)
	if _, err := env.Store.Create(ctx, deployment("web", 2)); err != nil {
		t.Fatal(err)
	}
	runningPods(ctx, t, env.Store, "web", 2)
	hpa := &api.HorizontalPodAutoscaler{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &api.HorizontalPodAutoscalerSpec{
			ScaleTargetRef:                 &api.CrossVersionObjectReference{ApiVersion: "apps/v1", Kind: api.KindDeployment, Name: "web"},
			MinReplicas:                    proto.Int32(1),
			MaxReplicas:                    5,
			TargetCpuUtilizationPercentage: proto.Int32(50),
			Behavior: &api.HorizontalPodAutoscalerBehavior{ScaleDown: &api.HPAScalingRules{
				StabilizationWindowSeconds: proto.Int32(120),
			}},
		},
	}
	if _, err := env.Store.Create(ctx, hpa); err != nil {
		t.Fatal(err)
	}
	// 1000m over 2 pods of 500m is 100%: 4 pods bring it to the 50% target.
	load(ctx, t, env.Store, "web", 1000)
	syncUntil(ctx, t, env, fc, 10, func(h *api.HorizontalPodAutoscaler) bool { return h.GetStatus().GetDesiredReplicas() == 4 })
	if got := scaleOf(ctx, t, env.Store); got != 4 {
		t.Fatalf("replicas = %d after load, want 4", got)
	}
	runningPods(ctx, t, env.Store, "web", 4)

	// More load than the max allows: capped at 5.
	load(ctx, t, env.Store, "web", 4000)
	h := syncUntil(ctx, t, env, fc, 10, func(h *api.HorizontalPodAutoscaler) bool { return h.GetStatus().GetDesiredReplicas() == 5 })
	if c := podutil.Condition(h.GetStatus().GetConditions(), podautoscaler.ConditionScalingLimited); c.GetStatus() != podutil.StatusTrue {
		t.Errorf("ScalingLimited = %v, want True", c)
	}
	runningPods(ctx, t, env.Store, "web", 5)

	// The load goes: the HPA sees it at once but holds 5 for the window.
	load(ctx, t, env.Store, "web", 250)
	start := fc.Now()
	syncUntil(ctx, t, env, fc, 4, func(h *api.HorizontalPodAutoscaler) bool {
		c := podutil.Condition(h.GetStatus().GetConditions(), podautoscaler.ConditionAbleToScale)
		return h.GetStatus().GetCurrentCpuUtilizationPercentage() == 10 && c.GetReason() == podautoscaler.ReasonScaleDownStabilized
	})
	if got := scaleOf(ctx, t, env.Store); got != 5 {
		t.Fatalf("replicas = %d right after the load went, want 5 (stabilization)", got)
	}
	h = syncUntil(ctx, t, env, fc, 20, func(h *api.HorizontalPodAutoscaler) bool { return h.GetStatus().GetDesiredReplicas() == 1 })
	if held := fc.Now().Sub(start); held < 120*time.Second {
		t.Fatalf("scaled down after %v, inside the 120s window", held)
	}
	if got := scaleOf(ctx, t, env.Store); got != 1 {
		t.Fatalf("replicas = %d after the window, want 1", got)
	}
	if h.GetStatus().GetLastScaleTime() == nil {
		t.Error("lastScaleTime not set")
	}
}

// fakeMetrics is a MetricsSource with fixed values.
type fakeMetrics struct{ perPod, external int64 }

func (f fakeMetrics) PodMetric(_ context.Context, _, _ string, pods []*api.Pod) (map[string]int64, error) {
	out := map[string]int64{}
	for _, p := range pods {
		out[p.GetMetadata().GetName()] = f.perPod
	}
	return out, nil
}

func (f fakeMetrics) ExternalMetric(context.Context, string, string, labels.Selector) (int64, error) {
	return f.external, nil
}

func TestCustomMetrics(t *testing.T) {
	tests := []struct {
		name   string
		metric *api.MetricSpec
		want   int32
	}{
		{"pods metric", &api.MetricSpec{Type: podautoscaler.MetricPods, Pods: &api.PodsMetricSource{
			Metric: &api.MetricIdentifier{Name: "requests_per_second"},
			Target: &api.MetricTarget{Type: "AverageValue", AverageValue: "10"},
		}}, 6}, // 2 pods at 30 each: 60/10
		{"external metric", &api.MetricSpec{Type: podautoscaler.MetricExternal, External: &api.ExternalMetricSource{
			Metric: &api.MetricIdentifier{Name: "queue_length"},
			Target: &api.MetricTarget{Type: "AverageValue", AverageValue: "20"},
		}}, 3}, // 50 queued, 20 per pod
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := timeout(t)
			env, fc := start(t, fakeMetrics{perPod: 30_000, external: 50_000})
			if _, err := env.Store.Create(ctx, deployment("web", 2)); err != nil {
				t.Fatal(err)
			}
			runningPods(ctx, t, env.Store, "web", 2)
			hpa := &api.HorizontalPodAutoscaler{
				Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
				Spec: &api.HorizontalPodAutoscalerSpec{
					ScaleTargetRef: &api.CrossVersionObjectReference{Kind: api.KindDeployment, Name: "web"},
					MaxReplicas:    10,
					Metrics:        []*api.MetricSpec{tc.metric},
				},
			}
			if _, err := env.Store.Create(ctx, hpa); err != nil {
				t.Fatal(err)
			}
			syncUntil(ctx, t, env, fc, 10, func(h *api.HorizontalPodAutoscaler) bool { return h.GetStatus().GetDesiredReplicas() == tc.want })
			if got := scaleOf(ctx, t, env.Store); got != tc.want {
				t.Fatalf("replicas = %d, want %d", got, tc.want)
			}
		})
	}
}

// A scale-up policy of 1 pod per minute spreads a jump over minutes.
func TestScaleUpRatePolicy(t *testing.T) {
	ctx := timeout(t)
	env, fc := start(t, nil)
	if _, err := env.Store.Create(ctx, deployment("web", 1)); err != nil {
		t.Fatal(err)
	}
	runningPods(ctx, t, env.Store, "web", 1)
	hpa := &api.HorizontalPodAutoscaler{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &api.HorizontalPodAutoscalerSpec{
			ScaleTargetRef:                 &api.CrossVersionObjectReference{Kind: api.KindDeployment, Name: "web"},
			MaxReplicas:                    10,
			TargetCpuUtilizationPercentage: proto.Int32(50),
			Behavior: &api.HorizontalPodAutoscalerBehavior{ScaleUp: &api.HPAScalingRules{
				Policies: []*api.HPAScalingPolicy{{Type: "Pods", Value: 1, PeriodSeconds: 60}},
			}},
		},
	}
	if _, err := env.Store.Create(ctx, hpa); err != nil {
		t.Fatal(err)
	}
	load(ctx, t, env.Store, "web", 1000) // 200% of one pod: wants 4
	first := syncUntil(ctx, t, env, fc, 10, func(h *api.HorizontalPodAutoscaler) bool { return h.GetStatus().GetDesiredReplicas() == 2 })
	c := podutil.Condition(first.GetStatus().GetConditions(), podautoscaler.ConditionAbleToScale)
	if c.GetReason() != podautoscaler.ReasonSucceededRescale && c.GetReason() != podautoscaler.ReasonScaleRateLimited {
		t.Errorf("AbleToScale = %v", c)
	}
	start := fc.Now()
	runningPods(ctx, t, env.Store, "web", 2)
	load(ctx, t, env.Store, "web", 1000) // still 100% each: wants 4
	syncUntil(ctx, t, env, fc, 10, func(h *api.HorizontalPodAutoscaler) bool { return h.GetStatus().GetDesiredReplicas() == 3 })
	if waited := fc.Now().Sub(start); waited < 45*time.Second {
		t.Fatalf("second pod added after %v, the policy allows one per minute", waited)
	}
}
