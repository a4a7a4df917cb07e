package admission_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/admission"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func newChain(t *testing.T, plugins ...admission.Plugin) (*admission.Chain, store.Store) {
	t.Helper()
	base := memstore.New()
	c, err := admission.NewDefault(base, plugins...)
	if err != nil {
		t.Fatal(err)
	}
	return c, base
}

func pod(name string, requests, limits map[string]string, namespace ...string) *api.Pod {
	ns := "ns"
	if len(namespace) > 0 {
		ns = namespace[0]
	}
	return &api.Pod{
		Metadata: &api.ObjectMeta{Name: name, Namespace: ns},
		Spec: &api.PodSpec{Containers: []*api.Container{{
			Name: "c", Image: "busybox",
			Resources: &api.ResourceRequirements{Requests: requests, Limits: limits},
		}}},
	}
}

func quota(name string, hard map[string]string) *api.ResourceQuota {
	return &api.ResourceQuota{Metadata: &api.ObjectMeta{Name: name, Namespace: "ns"}, Spec: &api.ResourceQuotaSpec{Hard: hard}}
}

func TestDefaultingAndValidation(t *testing.T) {
	ctx := t.Context()
	c, _ := newChain(t)
	got, err := c.Create(ctx, pod("p", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if s := got.(*api.Pod).GetSpec().GetSchedulerName(); s == "" {
		t.Errorf("pod was not defaulted: schedulerName empty")
	}
	bad := pod("q", nil, nil)
	bad.Spec.Containers[0].Image = ""
	_, err = c.Create(ctx, bad)
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("create of pod without image: err = %v, want ErrInvalid", err)
	}
	if !strings.Contains(err.Error(), "image") {
		t.Errorf("error %q does not name the field", err)
	}
	// Updates are validated against the stored object.
	rs := &api.ReplicaSet{
		Metadata: &api.ObjectMeta{Name: "rs", Namespace: "ns"},
		Spec: &api.ReplicaSetSpec{
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "a"}},
			Template: &api.PodTemplateSpec{Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "a"}},
				Spec: &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}}},
		},
	}
	created, err := c.Create(ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	upd := api.Clone(created.(*api.ReplicaSet))
	upd.Spec.Selector.MatchLabels = map[string]string{"app": "b"}
	upd.Spec.Template.Metadata.Labels = map[string]string{"app": "b"}
	if _, err := c.Update(ctx, upd); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("selector change: err = %v, want ErrInvalid", err)
	}
}

func TestQuotaRefusesAndTracksUsage(t *testing.T) {
	ctx := t.Context()
	c, _ := newChain(t)
	if _, err := c.Create(ctx, quota("compute", map[string]string{"pods": "3", "requests.cpu": "1", "limits.memory": "1Gi"})); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pod     *api.Pod
		wantErr string // substring of the refusal, "" to admit
	}{
		{"first", pod("a", map[string]string{"cpu": "400m"}, map[string]string{"memory": "512Mi"}), ""},
		{"second", pod("b", map[string]string{"cpu": "400m"}, map[string]string{"memory": "256Mi"}), ""},
		{"cpu over", pod("c", map[string]string{"cpu": "300m"}, map[string]string{"memory": "128Mi"}), `exceeded quota "compute": requests.cpu: requested 300m, used 800m, limited 1 (over by 100m)`},
		{"memory over", pod("d", map[string]string{"cpu": "100m"}, map[string]string{"memory": "512Mi"}), "limits.memory: requested 512Mi, used 768Mi, limited 1Gi (over by 256Mi)"},
		{"fits", pod("e", map[string]string{"cpu": "200m"}, map[string]string{"memory": "256Mi"}), ""},
		{"count over", pod("f", nil, nil), "pods: requested 1, used 3, limited 3 (over by 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Create(ctx, tc.pod)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				return
			}
			if !errors.Is(err, store.ErrForbidden) {
				t.Fatalf("err = %v, want ErrForbidden", err)
			}
			var qe *admission.QuotaExceededError
			if !errors.As(err, &qe) || qe.Quota != "compute" {
				t.Fatalf("err = %v, want a QuotaExceededError naming compute", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
	rq, err := store.For[*api.ResourceQuota](c).Get(ctx, "ns", "compute")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pods": "3", "requests.cpu": "1", "limits.memory": "1Gi"}
	for k, v := range want {
		if got := rq.GetStatus().GetUsed()[k]; got != v {
			t.Errorf("status.used[%s] = %q, want %q", k, got, v)
		}
	}
	// A delete through the chain frees usage at once.
	if _, err := c.Delete(ctx, api.KindPod, "ns", "a", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rq, err = store.For[*api.ResourceQuota](c).Get(ctx, "ns", "compute")
	if err != nil {
		t.Fatal(err)
	}
	if got := rq.GetStatus().GetUsed()["pods"]; got != "2" {
		t.Errorf("after delete status.used[pods] = %q, want 2", got)
	}
	if _, err := c.Create(ctx, pod("g", map[string]string{"cpu": "400m"}, nil)); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
}

func TestQuotaObjectCounts(t *testing.T) {
	ctx := t.Context()
	c, _ := newChain(t)
	if _, err := c.Create(ctx, quota("objects", map[string]string{"configmaps": "1", "count/jobs.batch": "0", "requests.storage": "10Gi"})); err != nil {
		t.Fatal(err)
	}
	cm := func(name string) *api.ConfigMap {
		return &api.ConfigMap{Metadata: &api.ObjectMeta{Name: name, Namespace: "ns"}}
	}
	if _, err := c.Create(ctx, cm("one")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, cm("two")); !errors.Is(err, store.ErrForbidden) {
		t.Fatalf("second configmap: err = %v, want ErrForbidden", err)
	}
	job := &api.Job{Metadata: &api.ObjectMeta{Name: "j", Namespace: "ns"}, Spec: &api.JobSpec{
		Template: &api.PodTemplateSpec{Spec: &api.PodSpec{RestartPolicy: "Never", Containers: []*api.Container{{Name: "c", Image: "busybox"}}}},
	}}
	if _, err := c.Create(ctx, job); !errors.Is(err, store.ErrForbidden) || !strings.Contains(err.Error(), "count/jobs.batch") {
		t.Fatalf("job: err = %v, want a refusal naming count/jobs.batch", err)
	}
	claim := func(name, size string) *api.PersistentVolumeClaim {
		return &api.PersistentVolumeClaim{Metadata: &api.ObjectMeta{Name: name, Namespace: "ns"}, Spec: &api.PersistentVolumeClaimSpec{
			AccessModes: []string{"ReadWriteOnce"},
			Resources:   &api.ResourceRequirements{Requests: map[string]string{"storage": size}},
		}}
	}
	if _, err := c.Create(ctx, claim("small", "6Gi")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, claim("big", "6Gi")); !errors.Is(err, store.ErrForbidden) || !strings.Contains(err.Error(), "over by 2Gi") {
		t.Fatalf("claim over storage quota: err = %v", err)
	}
}

// Concurrent creates never overshoot a quota: the usage write and the
// create commit together, conditioned on the quota's version.
func TestQuotaConcurrentCreates(t *testing.T) {
	ctx := t.Context()
	c, base := newChain(t)
	if _, err := c.Create(ctx, quota("q", map[string]string{"pods": "5"})); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() { _, errs[i] = c.Create(ctx, pod(fmt.Sprintf("p%d", i), nil, nil)) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrForbidden) && !errors.Is(err, store.ErrConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	pods, _, err := store.For[*api.Pod](base).List(ctx, store.ListOptions{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != ok || ok > 5 {
		t.Fatalf("%d creates succeeded and %d pods exist, quota is 5", ok, len(pods))
	}
	if ok == 0 {
		t.Fatal("no create succeeded")
	}
}

func TestLimitRange(t *testing.T) {
	ctx := t.Context()
	c, _ := newChain(t)
	lr := &api.LimitRange{Metadata: &api.ObjectMeta{Name: "lr", Namespace: "ns"}, Spec: &api.LimitRangeSpec{Limits: []*api.LimitRangeItem{
		{Type: "Container", Default: map[string]string{"cpu": "500m"}, DefaultRequest: map[string]string{"cpu": "100m"},
			Max: map[string]string{"cpu": "1"}, Min: map[string]string{"cpu": "50m"}},
	}}}
	if _, err := c.Create(ctx, lr); err != nil {
		t.Fatal(err)
	}
	got, err := c.Create(ctx, pod("defaulted", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	r := got.(*api.Pod).GetSpec().GetContainers()[0].GetResources()
	if r.GetLimits()["cpu"] != "500m" || r.GetRequests()["cpu"] != "100m" {
		t.Errorf("resources = %v, want limit 500m request 100m", r)
	}
	tests := []struct {
		name             string
		requests, limits map[string]string
		want             string
	}{
		{"over max", nil, map[string]string{"cpu": "2"}, "maximum cpu usage per Container is 1"},
		{"under min", map[string]string{"cpu": "10m"}, nil, "minimum cpu usage per Container is 50m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Create(ctx, pod("x", tc.requests, tc.limits))
			if !errors.Is(err, store.ErrForbidden) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrForbidden containing %q", err, tc.want)
			}
		})
	}
}

func TestUserPlugins(t *testing.T) {
	ctx := t.Context()
	addLabel := admission.MutatorFunc("team-label", func(_ context.Context, a *admission.Attributes) error {
		m := api.Meta(a.Object)
		if m.Labels == nil {
			m.Labels = map[string]string{}
		}
		m.Labels["team"] = "infra"
		return nil
	})
	noLatest := admission.ValidatorFunc("no-latest", func(_ context.Context, a *admission.Attributes) error {
		if p, ok := a.Object.(*api.Pod); ok {
			for _, ct := range p.GetSpec().GetContainers() {
				if strings.HasSuffix(ct.GetImage(), ":latest") {
					return fmt.Errorf("container %s uses a :latest image", ct.GetName())
				}
			}
		}
		return nil
	})
	c, _ := newChain(t, addLabel, noLatest)
	got, err := c.Create(ctx, pod("p", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.GetMetadata().GetLabels()["team"] != "infra" {
		t.Errorf("mutator did not run: labels %v", got.GetMetadata().GetLabels())
	}
	p := pod("q", nil, nil)
	p.Spec.Containers[0].Image = "busybox:latest"
	if _, err := c.Create(ctx, p); !errors.Is(err, store.ErrForbidden) || !strings.Contains(err.Error(), "no-latest") {
		t.Fatalf("err = %v, want ErrForbidden naming the plugin", err)
	}
	// Inside a transaction too.
	if _, err := c.Txn(ctx, store.CreateOp(pod("r", nil, nil)), store.CreateOp(p)); !errors.Is(err, store.ErrForbidden) {
		t.Fatalf("txn: err = %v, want ErrForbidden", err)
	}
	if err := c.Register(admission.ValidatorFunc("no-latest", noLatest.Validate)); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate register: err = %v, want ErrAlreadyExists", err)
	}
	if got := c.Plugins(); len(got) != 6 {
		t.Errorf("plugins = %v, want 6", got)
	}
}

// The caller's own stale resourceVersion is reported as a conflict, not
// retried as if the quota had moved.
func TestCallerConflictNotRetried(t *testing.T) {
	ctx := t.Context()
	c, _ := newChain(t)
	if _, err := c.Create(ctx, quota("q", map[string]string{"configmaps": "10"})); err != nil {
		t.Fatal(err)
	}
	cm, err := c.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "a", Namespace: "ns"}})
	if err != nil {
		t.Fatal(err)
	}
	stale := api.Clone(cm.(*api.ConfigMap))
	stale.Data = map[string]string{"k": "v"}
	if _, err := c.Update(ctx, stale); err != nil {
		t.Fatal(err)
	}
	stale.Data = map[string]string{"k": "w"}
	_, err = c.Txn(ctx, store.UpdateOp(stale), store.CreateOp(&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "b", Namespace: "ns"}}))
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if _, err := c.Get(ctx, api.KindConfigMap, "ns", "b"); !store.IsNotFound(err) {
		t.Fatalf("b exists after a failed transaction: %v", err)
	}
}

// An Incremental quota charges against its status: a pod that finished
// still counts until something recounts (the quota controller, or Recount).
func TestIncrementalQuota(t *testing.T) {
	ctx := t.Context()
	base := memstore.New()
	rq := &admission.ResourceQuota{Store: base, Incremental: true}
	c, err := admission.New(base, admission.Defaulting{}, admission.Validation{}, rq)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, quota("q", map[string]string{"pods": "2"})); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := c.Create(ctx, pod(n, nil, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.For[*api.Pod](c).MutateStatus(ctx, "ns", "a", func(p *api.Pod) error {
		p.Status = &api.PodStatus{Phase: "Succeeded"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, pod("c", nil, nil)); !errors.Is(err, store.ErrForbidden) {
		t.Fatalf("before a recount: err = %v, want ErrForbidden (status still counts a)", err)
	}
	if err := rq.Recount(ctx, "ns"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, pod("c", nil, nil)); err != nil {
		t.Fatalf("after the recount: %v", err)
	}
}
