package fastclone_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/internal/fastclone"
)

// TestSlabOneAllocation checks that a pod without maps is copied in one
// allocation, and one with maps in one more per map (two each).
func TestSlabOneAllocation(t *testing.T) {
	pod := realisticPod()
	noMaps := proto.Clone(pod).(*api.Pod)
	noMaps.Metadata.Labels, noMaps.Metadata.Annotations = nil, nil
	noMaps.Spec.Containers[0].Resources = nil
	noMaps.Metadata.CreationTimestamp = nil
	fastclone.Clone(noMaps) // make the shape
	if n := testing.AllocsPerRun(100, func() { fastclone.Clone(noMaps) }); n != 1 {
		t.Fatalf("copy of a pod without maps: %v allocations, want 1", n)
	}
	fastclone.Clone(pod)
	// The slab, and two allocations for each of the 4 maps.
	if n := testing.AllocsPerRun(100, func() { fastclone.Clone(pod) }); n != 1+2*4 {
		t.Fatalf("copy of a pod with 4 maps: %v allocations, want 9", n)
	}
}

// TestSlabShapes copies trees of many shapes (nil and empty repeated
// fields, nil elements, strings) and checks each copy is equal and
// independent.
func TestSlabShapes(t *testing.T) {
	for containers := range 5 {
		for env := range 4 {
			spec := &api.PodSpec{NodeName: "n"}
			for c := range containers {
				var ct *api.Container
				if c != 2 { // the third container is a nil element
					ct = &api.Container{Name: fmt.Sprint("c", c), Args: make([]string, env)}
					for e := range env {
						ct.Env = append(ct.Env, &api.EnvVar{Name: fmt.Sprint("E", e), Value: "v"})
						ct.Args[e] = fmt.Sprint("a", e)
					}
					if env == 0 {
						ct.Env = []*api.EnvVar{} // empty, not nil
						ct.Command = []string{}
					}
				}
				spec.Containers = append(spec.Containers, ct)
			}
			ref := proto.Clone(spec)
			c := fastclone.Clone(spec)
			if !proto.Equal(c, spec) {
				t.Fatalf("%d containers, %d env: copy differs", containers, env)
			}
			for i, ct := range c.Containers {
				if ct == nil {
					if spec.Containers[i] != nil {
						t.Fatalf("container %d lost", i)
					}
					continue
				}
				if ct == spec.Containers[i] {
					t.Fatalf("container %d shared", i)
				}
				if env == 0 && (ct.Env == nil || ct.Command == nil) {
					t.Fatalf("container %d: an empty repeated field became nil", i)
				}
				ct.Name = "changed"
				for j := range ct.Args {
					ct.Args[j] = "changed"
				}
				for _, e := range ct.Env {
					e.Value = "changed"
				}
			}
			if !proto.Equal(spec, ref) {
				t.Fatalf("%d containers, %d env: changing the copy changed the original", containers, env)
			}
		}
	}
}

// TestSlabInteriorPointersKeepItAlive keeps only a pointer into the middle
// of a copy, collects garbage, and checks what it points to is intact.
func TestSlabInteriorPointersKeepItAlive(t *testing.T) {
	var kept []*api.EnvVar
	for i := range 100 {
		c := fastclone.Clone(realisticPod())
		kept = append(kept, c.Spec.Containers[0].Env[i%3])
	}
	for range 3 {
		runtime.GC()
	}
	garbage := make([][]byte, 0, 1000)
	for range 1000 {
		garbage = append(garbage, make([]byte, 4096))
	}
	runtime.KeepAlive(garbage)
	for i, e := range kept {
		want := []string{"A", "B", "C"}[i%3]
		if e.Name != want || e.Value == "" {
			t.Fatalf("kept element %d: %+v, want name %s", i, e, want)
		}
	}
}

// TestSlabLimits checks the bounds: a full shape cache, a tree of too
// many blocks and one too large are copied piece by piece, correctly.
func TestSlabLimits(t *testing.T) {
	fastclone.WithShapeLimit(t, 1, func() {
		a := realisticPod()
		b := realisticPod()
		b.Spec.Containers = append(b.Spec.Containers, &api.Container{Name: "second"})
		for _, p := range []*api.Pod{a, b, a, b} {
			if c := fastclone.Clone(p); !proto.Equal(c, p) {
				t.Fatal("copy differs")
			}
		}
		if n := fastclone.CachedShapes(); n != 1 {
			t.Fatalf("%d shapes cached, want the limit, 1", n)
		}
	})
	fastclone.WithShapeLimit(t, 100, func() {
		many := &api.PodSpec{}
		for i := range fastclone.MaxBlocks {
			many.Containers = append(many.Containers, &api.Container{Name: fmt.Sprint(i), Resources: &api.ResourceRequirements{}})
		}
		large := &api.PodSpec{}
		for range fastclone.MaxSlabBytes / 8 {
			large.Containers = append(large.Containers, nil)
		}
		large.Containers = append(large.Containers, &api.Container{Name: "last"})
		for _, spec := range []*api.PodSpec{many, large} {
			if c := fastclone.Clone(spec); !proto.Equal(c, spec) {
				t.Fatal("copy differs")
			}
		}
		if n := fastclone.CachedShapes(); n != 0 {
			t.Fatalf("%d shapes cached for trees over the bounds", n)
		}
	})
}

// TestCloneOnly checks the copy of a few top-level fields.
func TestCloneOnly(t *testing.T) {
	p := realisticPod()
	p.Status = &api.PodStatus{Phase: "Running"}
	c := fastclone.CloneOnly(p, "Metadata", "Status")
	if c.Spec != nil || !proto.Equal(c.Metadata, p.Metadata) || !proto.Equal(c.Status, p.Status) {
		t.Fatalf("fastclone.CloneOnly(Metadata, Status) = %v", c)
	}
	if c.Metadata == p.Metadata || c.Status == p.Status {
		t.Fatal("CloneOnly shares fields")
	}
	if fastclone.CloneOnly(p).Metadata != nil {
		t.Fatal("fastclone.CloneOnly() copied a field")
	}
}

// TestSlabConcurrentShapes makes and uses shapes from many goroutines at
// once (run with -race).
func TestSlabConcurrentShapes(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				spec := &api.PodSpec{}
				for c := range (g+i)%7 + 1 {
					spec.Containers = append(spec.Containers, &api.Container{Name: fmt.Sprint(c), Args: make([]string, i%5)})
				}
				if c := fastclone.Clone(spec); !proto.Equal(c, spec) {
					t.Error("copy differs")
					return
				}
			}
		}()
	}
	wg.Wait()
}
