package scheduler_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler"
	"github.com/coxswain-io/coxswain/scheduler/framework"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// env is a memstore with a running scheduler.
type env struct {
	t     *testing.T
	ctx   context.Context
	s     *memstore.Store
	pods  store.Typed[*api.Pod]
	nodes store.Typed[*api.Node]
	sch   *scheduler.Scheduler
	nNode int
	logs  *logBuffer
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// logBuffer collects the scheduler's logs, shown only when a test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newEnv(t *testing.T, cfg scheduler.Config) *env {
	t.Helper()
	s := memstore.New()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.InitialBackoff == 0 {
		cfg.InitialBackoff, cfg.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	}
	if cfg.MaxUnschedulable == 0 {
		cfg.MaxUnschedulable = time.Hour // retries must come from events, not the timer
	}
	// Write something first: on an empty store the informers list at
	// revision 0, and a watch from revision 0 means "from now", so a write
	// racing their start could be missed (reported to the store owners).
	if _, err := s.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: "default"}}); err != nil {
		t.Fatal(err)
	}
	sch, err := scheduler.New(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sch.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("scheduler: %v", err)
		}
		_ = s.Close()
	})
	return &env{t: t, ctx: ctx, s: s, pods: store.For[*api.Pod](s), nodes: store.For[*api.Node](s), sch: sch, logs: logs}
}

func (e *env) addNode(name, cpu string, labels map[string]string, taints ...*api.Taint) {
	e.t.Helper()
	l := map[string]string{"kubernetes.io/hostname": name}
	for k, v := range labels {
		l[k] = v
	}
	_, err := e.nodes.Create(e.ctx, &api.Node{
		Metadata: &api.ObjectMeta{Name: name, Labels: l},
		Spec:     &api.NodeSpec{Taints: taints},
		Status:   &api.NodeStatus{Allocatable: map[string]string{"cpu": cpu, "memory": "16Gi", "pods": "110"}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	// Wait until the scheduler sees the node, so that the messages of the
	// tests below count every node.
	e.nNode++
	e.eventually("scheduler sees node "+name, func() (bool, error) { return e.sch.NodeCount() >= e.nNode, nil })
}

func newPod(name, cpu string, mutate ...func(*api.Pod)) *api.Pod {
	p := &api.Pod{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{}},
		Spec: &api.PodSpec{Containers: []*api.Container{{
			Name: "c", Image: "img",
			Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": cpu}},
		}}},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func (e *env) addPod(p *api.Pod) {
	e.t.Helper()
	if _, err := e.pods.Create(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
}

// eventually polls cond until it holds or 30s pass (a ceiling for loaded
// machines; it normally takes milliseconds).
func (e *env) eventually(what string, cond func() (bool, error)) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		time.Sleep(2 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for %s (last error: %v)\nscheduler log:\n%s", what, last, e.logs.String())
}

func (e *env) get(name string) *api.Pod {
	e.t.Helper()
	p, err := e.pods.Get(e.ctx, "default", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) waitBound(names ...string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	e.eventually(fmt.Sprintf("pods %v bound", names), func() (bool, error) {
		for _, n := range names {
			p, err := e.pods.Get(e.ctx, "default", n)
			if err != nil {
				return false, err
			}
			if p.Spec.NodeName == "" {
				return false, fmt.Errorf("%s not bound", n)
			}
			out[n] = p.Spec.NodeName
		}
		return true, nil
	})
	return out
}

// waitUnschedulable waits for PodScheduled=False and returns its message.
func (e *env) waitUnschedulable(name string) string {
	e.t.Helper()
	var msg string
	e.eventually(name+" marked unschedulable", func() (bool, error) {
		p := e.get(name)
		for _, c := range p.GetStatus().GetConditions() {
			if c.Type == scheduler.ConditionPodScheduled && c.Status == "False" {
				msg = c.Message
				return true, nil
			}
		}
		return false, nil
	})
	return msg
}

func (e *env) events(podName, reason string) []*api.Event {
	e.t.Helper()
	res, err := e.s.List(e.ctx, api.KindEvent, store.ListOptions{Namespace: "default"})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*api.Event
	for _, o := range res.Items {
		ev := o.(*api.Event)
		if ev.InvolvedObject.GetName() == podName && ev.Reason == reason {
			out = append(out, ev)
		}
	}
	return out
}

func TestBindsPodsRespectingResources(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	for i := range 3 {
		e.addNode(fmt.Sprintf("n%d", i), "2", nil)
	}
	var names []string
	for i := range 6 {
		n := fmt.Sprintf("p%d", i)
		names = append(names, n)
		e.addPod(newPod(n, "1"))
	}
	bound := e.waitBound(names...)
	perNode := map[string]int{}
	for _, n := range bound {
		perNode[n]++
	}
	for n, c := range perNode {
		if c > 2 {
			t.Fatalf("node %s got %d pods of 1 cpu with 2 cpus", n, c)
		}
	}
	p := e.get("p0")
	if !slices.Contains(p.Metadata.Finalizers, scheduler.FinalizerNodeAgent) {
		t.Fatalf("bound pod lacks finalizer: %v", p.Metadata.Finalizers)
	}
	// The cluster is full: the seventh pod waits, then fits once a pod goes.
	e.addPod(newPod("extra", "1"))
	msg := e.waitUnschedulable("extra")
	if msg != "0/3 nodes are available: 3 Insufficient cpu." {
		t.Fatalf("message = %q", msg)
	}
	if evs := e.events("extra", scheduler.ReasonFailedScheduling); len(evs) == 0 || evs[0].Message != msg || evs[0].Type != "Warning" {
		t.Fatalf("events = %v", evs)
	}
	victim := e.get("p0")
	victim.Metadata.Finalizers = nil
	if _, err := e.pods.Update(e.ctx, victim); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pods.Delete(e.ctx, "default", "p0", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitBound("extra")
	// The binding is written first, then PodScheduled flips to True.
	e.eventually("PodScheduled=True", func() (bool, error) {
		for _, c := range e.get("extra").Status.GetConditions() {
			if c.Type == scheduler.ConditionPodScheduled {
				return c.Status == "True", nil
			}
		}
		return false, nil
	})
}

func TestUnschedulableMessagePerPlugin(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	for i := range 3 {
		e.addNode(fmt.Sprintf("small%d", i), "1", nil)
	}
	infra := &api.Taint{Key: "dedicated", Value: "infra", Effect: "NoSchedule"}
	e.addNode("infra0", "8", nil, infra)
	e.addNode("infra1", "8", nil, infra)
	e.addPod(newPod("big", "2"))
	msg := e.waitUnschedulable("big")
	want := "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: infra}."
	if msg != want {
		t.Fatalf("message = %q, want %q", msg, want)
	}
}

func TestTaintedNodeOnlyTakesToleratingPods(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	e.addNode("infra", "64", map[string]string{"role": "infra"}, &api.Taint{Key: "dedicated", Value: "infra", Effect: "NoSchedule"})
	e.addNode("general", "64", nil)
	var plain []string
	for i := range 10 {
		n := fmt.Sprintf("web%d", i)
		plain = append(plain, n)
		e.addPod(newPod(n, "100m"))
	}
	tol := func(p *api.Pod) {
		p.Spec.Tolerations = []*api.Toleration{{Key: "dedicated", Operator: "Equal", Value: "infra", Effect: "NoSchedule"}}
		p.Spec.NodeSelector = map[string]string{"role": "infra"}
	}
	e.addPod(newPod("monitor", "100m", tol))
	bound := e.waitBound(append(plain, "monitor")...)
	for _, n := range plain {
		if bound[n] != "general" {
			t.Fatalf("%s without toleration landed on %s", n, bound[n])
		}
	}
	if bound["monitor"] != "infra" {
		t.Fatalf("tolerating pod landed on %s", bound["monitor"])
	}
}

func TestAffinitySpreadsReplicasAcrossZones(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	for _, z := range []string{"za", "zb", "zc"} {
		for i := range 2 {
			e.addNode(fmt.Sprintf("%s-%d", z, i), "8", map[string]string{"topology.kubernetes.io/zone": z})
		}
	}
	anti := func(p *api.Pod) {
		p.Metadata.Labels["app"] = "db"
		p.Spec.Affinity = &api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []*api.PodAffinityTerm{{
			LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			TopologyKey:   "topology.kubernetes.io/zone",
		}}}}
	}
	for i := range 3 {
		e.addPod(newPod(fmt.Sprintf("db%d", i), "1", anti))
	}
	bound := e.waitBound("db0", "db1", "db2")
	zones := map[string]bool{}
	for _, n := range bound {
		zones[strings.SplitN(n, "-", 2)[0]] = true
	}
	if len(zones) != 3 {
		t.Fatalf("replicas not spread across zones: %v", bound)
	}
	e.addPod(newPod("db3", "1", anti))
	msg := e.waitUnschedulable("db3")
	if !strings.Contains(msg, "6 node(s) didn't satisfy existing pods anti-affinity rules") {
		t.Fatalf("message = %q", msg)
	}

	// Topology spread: 6 web replicas, maxSkew 1 over zones -> 2 per zone.
	spread := func(p *api.Pod) {
		p.Metadata.Labels["app"] = "web"
		p.Spec.TopologySpreadConstraints = []*api.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: "DoNotSchedule",
			LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		}}
	}
	var web []string
	for i := range 6 {
		n := fmt.Sprintf("web%d", i)
		web = append(web, n)
		e.addPod(newPod(n, "100m", spread))
	}
	perZone := map[string]int{}
	for _, n := range e.waitBound(web...) {
		perZone[strings.SplitN(n, "-", 2)[0]]++
	}
	for z, c := range perZone {
		if c != 2 {
			t.Fatalf("zone %s got %d web replicas: %v", z, c, perZone)
		}
	}
}

func TestPreemption(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	e.addNode("n1", "2", nil)
	e.addPod(newPod("low0", "1"))
	e.addPod(newPod("low1", "1", func(p *api.Pod) { p.Spec.Priority = 5 }))
	e.waitBound("low0", "low1")
	e.addPod(newPod("critical", "1", func(p *api.Pod) { p.Spec.Priority = 1000 }))
	// The victim is the lowest-priority pod; the node agent is not running
	// here, so play its part: once the victim is marked deleted, drop the
	// finalizer so it goes.
	e.eventually("victim marked for deletion", func() (bool, error) {
		p, err := e.pods.Get(e.ctx, "default", "low0")
		if store.IsNotFound(err) {
			return true, nil
		}
		if err != nil || p.Metadata.DeletionTimestamp == nil {
			return false, err
		}
		p.Metadata.Finalizers = nil
		_, err = e.pods.Update(e.ctx, p)
		return err == nil, err
	})
	nominated := e.get("critical").GetStatus().GetNominatedNodeName()
	bound := e.waitBound("critical")
	if bound["critical"] != "n1" {
		t.Fatalf("critical bound to %s", bound["critical"])
	}
	if nominated != "" && nominated != "n1" {
		t.Fatalf("nominatedNodeName = %q", nominated)
	}
	if got := e.get("low1").Metadata.DeletionTimestamp; got != nil {
		t.Fatal("higher of the low-priority pods was preempted too")
	}
	if len(e.events("low0", scheduler.ReasonPreempted)) != 1 {
		t.Fatal("no Preempted event for the victim")
	}
}

func TestPreemptionSetsNominatedNode(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	e.addNode("n1", "1", nil)
	e.addPod(newPod("low", "1"))
	e.waitBound("low")
	e.addPod(newPod("high", "1", func(p *api.Pod) { p.Spec.Priority = 10 }))
	// The victim keeps its node-agent finalizer (no agent runs), so the
	// preemptor waits, nominated to the node.
	e.eventually("nominatedNodeName", func() (bool, error) {
		return e.get("high").GetStatus().GetNominatedNodeName() == "n1", nil
	})
	if e.get("low").Metadata.DeletionTimestamp == nil {
		t.Fatal("victim not deleted")
	}
}

func TestRetriesWhenNodeAdded(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	e.addPod(newPod("waiting", "1"))
	if msg := e.waitUnschedulable("waiting"); msg != "0/0 nodes are available." {
		t.Fatalf("message = %q", msg)
	}
	e.addNode("late", "4", nil)
	if got := e.waitBound("waiting")["waiting"]; got != "late" {
		t.Fatalf("bound to %s", got)
	}
}

func TestBindConflictRequeues(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	remove := e.s.InjectFault(memstore.Fault{Op: memstore.OpUpdate, Kind: api.KindPod, Err: store.Errorf(store.ErrConflict, "injected"), Count: 1})
	t.Cleanup(remove)
	e.addNode("n1", "4", nil)
	e.addPod(newPod("p", "1"))
	e.waitBound("p")
}

func TestIgnoresOtherSchedulersPods(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	e.addNode("n1", "4", nil)
	e.addPod(newPod("mine", "1"))
	e.addPod(newPod("theirs", "1", func(p *api.Pod) { p.Spec.SchedulerName = "other-scheduler" }))
	e.waitBound("mine")
	// Pods are handled in order of creation at equal priority; give the
	// scheduler one more pod to be sure it has looked past "theirs".
	e.addPod(newPod("after", "1"))
	e.waitBound("after")
	if n := e.get("theirs").Spec.NodeName; n != "" {
		t.Fatalf("default scheduler bound another scheduler's pod to %s", n)
	}
}

func TestConfigValidate(t *testing.T) {
	s := memstore.New()
	t.Cleanup(func() { _ = s.Close() })
	if _, err := scheduler.New(s, scheduler.Config{PercentageOfNodesToScore: 101}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	p := scheduler.DefaultProfile("x")
	if _, err := scheduler.New(s, scheduler.Config{Profiles: []framework.Profile{p, p}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}

func TestNominatedPodKeepsItsRoom(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	e.addNode("n1", "2", nil)
	e.addPod(newPod("low0", "1"))
	e.addPod(newPod("low1", "1", func(p *api.Pod) { p.Spec.Priority = 10 }))
	e.waitBound("low0", "low1")
	e.addPod(newPod("critical", "1", func(p *api.Pod) { p.Spec.Priority = 1000 }))
	e.eventually("critical nominated", func() (bool, error) {
		return e.get("critical").GetStatus().GetNominatedNodeName() == "n1", nil
	})
	// A pod of lower priority than the preemptor arrives while the victim
	// is still terminating: it must not take the room made for critical.
	e.addPod(newPod("sneaky", "1", func(p *api.Pod) { p.Spec.Priority = 500 }))
	e.waitUnschedulable("sneaky")
	victim := e.get("low0")
	if victim.Metadata.DeletionTimestamp == nil {
		t.Fatal("victim not being deleted")
	}
	victim.Metadata.Finalizers = nil
	if _, err := e.pods.Update(e.ctx, victim); err != nil {
		t.Fatal(err)
	}
	if got := e.waitBound("critical")["critical"]; got != "n1" {
		t.Fatalf("critical bound to %s", got)
	}
	if n := e.get("sneaky").Spec.NodeName; n != "" {
		t.Fatalf("sneaky took the preemptor's room on %s", n)
	}
}

func TestSpreadRestrictionMessage(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	zone := func(z string) map[string]string { return map[string]string{"topology.kubernetes.io/zone": z} }
	e.addNode("a1", "8", zone("a"))
	e.addNode("a2", "8", zone("a"))
	e.addNode("b1", "1", zone("b"))
	e.addNode("b2", "1", zone("b"))
	spread := func(p *api.Pod) {
		p.Metadata.Labels["app"] = "web"
		p.Spec.TopologySpreadConstraints = []*api.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: "DoNotSchedule",
			LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		}}
	}
	e.addPod(newPod("web0", "100m", spread, func(p *api.Pod) { p.Spec.NodeSelector = zone("a") }))
	e.waitBound("web0")
	// Zone a is one ahead, so only zone b may take the next replica, and it
	// has no cpu left for 2 cores.
	e.addPod(newPod("web1", "2", spread))
	msg := e.waitUnschedulable("web1")
	want := "0/4 nodes are available: 2 Insufficient cpu, 2 node(s) didn't match pod topology spread constraints."
	if msg != want {
		t.Fatalf("message = %q, want %q", msg, want)
	}
}

// TestNeverOvercommits is a property test: random nodes and random pods,
// created while the scheduler runs; whatever it decides, no node's bound
// pods may request more than it offers, and every pod that stays pending
// says why.
func TestNeverOvercommits(t *testing.T) {
	e := newEnv(t, scheduler.Config{})
	rng := rand.New(rand.NewPCG(1, 2))
	alloc := map[string]int64{}
	for i := range 8 {
		name := fmt.Sprintf("n%d", i)
		cpu := 1 + rng.Int64N(4)
		alloc[name] = cpu * 1000
		e.addNode(name, fmt.Sprint(cpu), nil)
	}
	var names []string
	for i := range 60 {
		n := fmt.Sprintf("p%02d", i)
		names = append(names, n)
		e.addPod(newPod(n, fmt.Sprintf("%dm", 100+rng.Int64N(900)), func(p *api.Pod) { p.Spec.Priority = int32(rng.IntN(3)) }))
	}
	var pods []*api.Pod
	e.eventually("every pod bound or marked unschedulable", func() (bool, error) {
		pods = pods[:0]
		for _, n := range names {
			p, err := e.pods.Get(e.ctx, "default", n)
			if store.IsNotFound(err) {
				continue // preempted before its binding landed: deleted at once
			}
			if err != nil {
				return false, err
			}
			if p.Spec.NodeName == "" && !hasCondition(p, "False") {
				return false, fmt.Errorf("%s undecided", n)
			}
			pods = append(pods, p)
		}
		return true, nil
	})
	used := map[string]int64{}
	for _, p := range pods {
		if p.Spec.NodeName != "" && p.Metadata.DeletionTimestamp == nil {
			q := p.Spec.Containers[0].Resources.Requests["cpu"]
			var m int64
			if _, err := fmt.Sscanf(q, "%dm", &m); err != nil {
				t.Fatal(err)
			}
			used[p.Spec.NodeName] += m
		}
	}
	for n, u := range used {
		if u > alloc[n] {
			t.Errorf("node %s: %dm requested of %dm", n, u, alloc[n])
		}
	}
}

func hasCondition(p *api.Pod, status string) bool {
	for _, c := range p.GetStatus().GetConditions() {
		if c.Type == scheduler.ConditionPodScheduled && c.Status == status {
			return true
		}
	}
	return false
}
