// Command orchestrator measures the control plane in testenv: a Deployment
// of -replicas pods over -nodes fake nodes, from creation to every pod
// running and ready, then a rolling update of all of them. It prints
// `figure: NAME VALUE UNIT` lines.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/metrics"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func main() {
	nodes := flag.Int("nodes", 1000, "fake nodes")
	replicas := flag.Int("replicas", 10000, "deployment replicas")
	workers := flag.Int("workers", 4, "workers per controller")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*nodes, *replicas, *workers, *timeout); err != nil {
		pprof.StopCPUProfile()
		log.Fatal(err)
	}
}

func run(nodes, replicas, workers int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	t0 := time.Now()
	reg := &reconcileCounter{counts: map[string]*counter{}}
	env, err := testenv.New(ctx, testenv.Options{Nodes: nodes, Workers: workers, Metrics: reg})
	if err != nil {
		return err
	}
	defer env.Stop()
	fmt.Printf("figure: orchestrator_testenv_startup_%dnodes %.2f ms\n", nodes, float64(time.Since(t0).Microseconds())/1000)

	tr, err := newTracker(env)
	if err != nil {
		return err
	}
	n := int32(replicas)
	deps := store.For[*api.Deployment](env.Store)

	// Scale-up: create the Deployment, wait for every pod to run.
	before := reconciles(reg)
	start := time.Now()
	if _, err := deps.Create(ctx, &api.Deployment{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "bench"},
		Spec: &api.DeploymentSpec{
			Replicas: &n,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "bench"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "bench"}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "app", Image: "app:v1"}}},
			},
		},
	}); err != nil {
		return err
	}
	if err := tr.wait(ctx, "app:v1", replicas); err != nil {
		return fmt.Errorf("scale-up: %w", err)
	}
	wall := time.Since(start)
	after := reconciles(reg)
	report("scaleup", replicas, wall, before, after)
	fmt.Printf("figure: orchestrator_scaleup_vs_target %.2f x\n", (10*time.Second).Seconds()/wall.Seconds())

	// Rolling update of every pod.
	before = after
	start = time.Now()
	if _, err := deps.Mutate(ctx, "default", "bench", func(d *api.Deployment) error {
		d.Spec.Template.Spec.Containers[0].Image = "app:v2"
		return nil
	}); err != nil {
		return err
	}
	if err := tr.wait(ctx, "app:v2", replicas); err != nil {
		return fmt.Errorf("rolling update: %w", err)
	}
	wall = time.Since(start)
	after = reconciles(reg)
	report("rollout", replicas, wall, before, after)
	return nil
}

func report(phase string, replicas int, wall time.Duration, before, after map[string]float64) {
	fmt.Printf("figure: orchestrator_%s_%d_wall %.2f s\n", phase, replicas, wall.Seconds())
	fmt.Printf("figure: orchestrator_%s_pods_per_s %.0f pods/s\n", phase, float64(replicas)/wall.Seconds())
	var controllers, all float64
	for name, v := range after {
		d := v - before[name]
		all += d
		if name != "fake-nodes" {
			controllers += d
		}
	}
	fmt.Printf("figure: orchestrator_%s_controller_reconciles %.0f reconciles\n", phase, controllers)
	fmt.Printf("figure: orchestrator_%s_controller_reconciles_per_s %.0f reconciles/s\n", phase, controllers/wall.Seconds())
	fmt.Printf("figure: orchestrator_%s_all_reconciles_per_s %.0f reconciles/s\n", phase, all/wall.Seconds())
}

// reconcileCounter is a metrics.Provider that counts each controller's
// reconciles (coxswain_controller_reconcile_total over every result) and
// discards the rest.
type reconcileCounter struct {
	mu     sync.Mutex
	counts map[string]*counter
}

// counter is a metrics.Counter.
type counter struct{ atomic.Int64 }

func (c *counter) Inc() { c.Add(1) }

func (r *reconcileCounter) Instruments(controller string) metrics.Instruments {
	r.mu.Lock()
	c := r.counts[controller]
	if c == nil {
		c = &counter{}
		r.counts[controller] = c
	}
	r.mu.Unlock()
	ins := metrics.Discard{}.Instruments(controller)
	ins.Success, ins.Requeue, ins.RequeueAfter, ins.Error, ins.Terminal = c, c, c, c, c
	return ins
}

func (r *reconcileCounter) RegisterQueue(controller string, depth func() int) func() {
	return metrics.Discard{}.RegisterQueue(controller, depth)
}

// reconciles returns the reconciles so far per controller.
func reconciles(r *reconcileCounter) map[string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]float64{}
	for name, c := range r.counts {
		out[name] = float64(c.Load())
	}
	return out
}

// tracker counts, from the shared pod cache, the active pods per image and
// how many of them are ready, without rescanning all pods on every change.
type tracker struct {
	mu     sync.Mutex
	state  map[string]podState // by pod key
	active map[string]int      // by image
	ready  map[string]int      // by image
	change chan struct{}
}

type podState struct {
	image         string
	active, ready bool
}

func newTracker(env *testenv.Env) (*tracker, error) {
	inf, err := env.Informer(api.KindPod)
	if err != nil {
		return nil, err
	}
	t := &tracker{state: map[string]podState{}, active: map[string]int{}, ready: map[string]int{}, change: make(chan struct{}, 1)}
	inf.AddEventHandler(t)
	return t, nil
}

func (t *tracker) set(key string, p *api.Pod, gone bool) {
	t.mu.Lock()
	old := t.state[key]
	if old.active {
		t.active[old.image]--
	}
	if old.ready {
		t.ready[old.image]--
	}
	if gone {
		delete(t.state, key)
	} else {
		s := podState{image: p.GetSpec().GetContainers()[0].GetImage(), active: podutil.IsActive(p)}
		s.ready = s.active && podutil.IsReady(p)
		t.state[key] = s
		if s.active {
			t.active[s.image]++
		}
		if s.ready {
			t.ready[s.image]++
		}
	}
	t.mu.Unlock()
	select {
	case t.change <- struct{}{}:
	default:
	}
}

func key(p api.Object) string {
	return p.GetMetadata().GetNamespace() + "/" + p.GetMetadata().GetName()
}

// OnAdd implements informer.Handler.
func (t *tracker) OnAdd(obj api.Object) { t.set(key(obj), obj.(*api.Pod), false) }

// OnUpdate implements informer.Handler.
func (t *tracker) OnUpdate(_, obj api.Object) { t.set(key(obj), obj.(*api.Pod), false) }

// OnDelete implements informer.Handler.
func (t *tracker) OnDelete(obj api.Object) { t.set(key(obj), nil, true) }

// wait blocks until n pods of image are ready and no pod of another image
// is active.
func (t *tracker) wait(ctx context.Context, image string, n int) error {
	for {
		t.mu.Lock()
		ready, total := t.ready[image], 0
		for _, c := range t.active {
			total += c
		}
		t.mu.Unlock()
		if ready == n && total == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d pods of %s ready, %d active in all: %w", ready, n, image, total, ctx.Err())
		case <-t.change:
		}
	}
}
