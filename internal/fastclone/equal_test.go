package fastclone_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/internal/fastclone"
)

// TestEqualAgreesWithProtoEqual compares Equal with proto.Equal over every
// kind: a clone, the clone with one field cleared at each of the top two
// levels, and the clone refilled at random.
func TestEqualAgreesWithProtoEqual(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(t *testing.T, what string, a, b proto.Message) {
		t.Helper()
		if got, want := fastclone.Equal(a, b), proto.Equal(a, b); got != want {
			t.Fatalf("%s: Equal = %v, proto.Equal = %v", what, got, want)
		}
	}
	for _, k := range api.BuiltinKinds() {
		t.Run(k.Kind, func(t *testing.T) {
			for range 3 {
				orig := k.New()
				fill(orig.ProtoReflect(), r, 4)
				check(t, "clone", orig, fastclone.Clone(orig))
				check(t, "itself", orig, orig)
				fields := orig.ProtoReflect().Descriptor().Fields()
				for i := 0; i < fields.Len(); i++ {
					fd := fields.Get(i)
					c := fastclone.Clone(orig)
					c.ProtoReflect().Clear(fd)
					check(t, "cleared "+string(fd.Name()), orig, c)
					if fd.Message() == nil || fd.IsList() || fd.IsMap() || !orig.ProtoReflect().Has(fd) {
						continue
					}
					inner := fd.Message().Fields()
					for j := 0; j < inner.Len(); j++ {
						c := fastclone.Clone(orig)
						c.ProtoReflect().Mutable(fd).Message().Clear(inner.Get(j))
						check(t, "cleared "+string(fd.Name())+"."+string(inner.Get(j).Name()), orig, c)
					}
				}
				c := fastclone.Clone(orig)
				fill(c.ProtoReflect(), r, 4)
				check(t, "refilled", orig, c)
			}
		})
	}
}

func TestEqualEdgeCases(t *testing.T) {
	var nilPod *api.Pod
	tests := []struct {
		name string
		a, b proto.Message
	}{
		{"nil and nil pod", nilPod, nilPod},
		{"nil and empty pod", nilPod, &api.Pod{}},
		{"unset and empty message field", &api.Pod{}, &api.Pod{Spec: &api.PodSpec{}}},
		{"nil and empty repeated", &api.PodSpec{}, &api.PodSpec{Containers: []*api.Container{}}},
		{"nil and empty map", &api.ObjectMeta{}, &api.ObjectMeta{Labels: map[string]string{}}},
		{"map values differ", &api.ObjectMeta{Labels: map[string]string{"a": "1"}}, &api.ObjectMeta{Labels: map[string]string{"a": "2"}}},
		{"map keys differ", &api.ObjectMeta{Labels: map[string]string{"a": "1"}}, &api.ObjectMeta{Labels: map[string]string{"b": "1"}}},
		{"repeated lengths differ", &api.PodSpec{Containers: []*api.Container{{Name: "a"}}}, &api.PodSpec{Containers: []*api.Container{{Name: "a"}, {Name: "b"}}}},
		{"nil repeated element", &api.PodSpec{Containers: []*api.Container{nil}}, &api.PodSpec{Containers: []*api.Container{{}}}},
		{"different kinds", &api.Pod{}, &api.Node{}},
		{"bytes nil and empty", &api.Secret{Data: map[string][]byte{"k": nil}}, &api.Secret{Data: map[string][]byte{"k": {}}}},
		{"optional scalar unset and zero", &api.PodSecurityContext{}, &api.PodSecurityContext{RunAsUser: proto.Int64(0)}},
		{"oneof", &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: 1}}, &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: 1}}},
		{"unknown fields", withUnknown(&api.Pod{}, []byte{0xf8, 0x7f, 1}), &api.Pod{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ab := range [][2]proto.Message{{tt.a, tt.b}, {tt.b, tt.a}, {tt.a, tt.a}} {
				if got, want := fastclone.Equal(ab[0], ab[1]), proto.Equal(ab[0], ab[1]); got != want {
					t.Fatalf("Equal = %v, proto.Equal = %v", got, want)
				}
			}
		})
	}
}

func withUnknown(m proto.Message, b []byte) proto.Message {
	m.ProtoReflect().SetUnknown(b)
	return m
}

func TestCloneWithout(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, k := range api.BuiltinKinds() {
		t.Run(k.Kind, func(t *testing.T) {
			orig := k.New()
			fill(orig.ProtoReflect(), r, 3)
			ref := proto.Clone(orig)
			c := fastclone.CloneWithout(orig, "Status")
			want := proto.Clone(orig)
			if fd := want.ProtoReflect().Descriptor().Fields().ByName("status"); fd != nil {
				want.ProtoReflect().Clear(fd)
			}
			if !proto.Equal(c, want) {
				t.Fatal("fastclone.CloneWithout(Status) is not the object without its status")
			}
			fill(c.ProtoReflect(), r, 3)
			if !proto.Equal(orig, ref) {
				t.Fatal("mutating the copy changed the original")
			}
			if got := fastclone.CloneWithout(orig, "NoSuchField"); !proto.Equal(got, orig) {
				t.Fatal("CloneWithout of a missing field is not a whole copy")
			}
		})
	}
	var nilPod *api.Pod
	if fastclone.CloneWithout(nilPod, "Status") != nil {
		t.Fatal("nil")
	}
}

// TestCloneRepeatedMessages covers the lengths and nil elements a repeated
// message field's single-allocation copy must handle.
func TestCloneRepeatedMessages(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, fastclone.MaxArray, fastclone.MaxArray + 1, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			spec := &api.PodSpec{}
			for i := range n {
				var c *api.Container
				if i%5 != 4 { // every fifth element nil
					c = &api.Container{Name: fmt.Sprintf("c%d", i), Args: []string{"a"}}
				}
				spec.Containers = append(spec.Containers, c)
			}
			c := fastclone.Clone(spec)
			if len(c.Containers) != n {
				t.Fatalf("%d containers, want %d", len(c.Containers), n)
			}
			for i, e := range c.Containers {
				o := spec.Containers[i]
				if (e == nil) != (o == nil) {
					t.Fatalf("element %d: nil %v, want %v", i, e == nil, o == nil)
				}
				if e == nil {
					continue
				}
				if e == o || e.Name != o.Name {
					t.Fatalf("element %d not a copy", i)
				}
				e.Name, e.Args[0] = "changed", "changed"
				if o.Name != fmt.Sprintf("c%d", i) || o.Args[0] != "a" {
					t.Fatalf("element %d: changing the copy changed the original", i)
				}
			}
		})
	}
}
