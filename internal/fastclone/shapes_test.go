package fastclone_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/internal/fastclone"
)

// TestCloneShapes copies trees of many shapes (nil and empty repeated
// fields, nil elements, strings) and checks each copy is equal and
// independent.
func TestCloneShapes(t *testing.T) {
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
