package fastclone_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/internal/fastclone"
)

// fill sets every field of m (to depth) with values drawn from r.
func fill(m protoreflect.Message, r *rand.Rand, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.ContainingOneof() != nil && !fd.ContainingOneof().IsSynthetic() && r.IntN(2) == 0 {
			continue // leave some oneof members unset
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range 2 {
				if fd.Message() != nil {
					if depth > 0 {
						e := l.NewElement()
						fill(e.Message(), r, depth-1)
						l.Append(e)
					}
					continue
				}
				l.Append(scalar(fd, r))
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for j := range 2 {
				k := protoreflect.ValueOfString(fmt.Sprintf("k%d-%d", j, r.IntN(100))).MapKey()
				if fd.MapKey().Kind() != protoreflect.StringKind {
					k = scalar(fd.MapKey(), r).MapKey()
				}
				if fd.MapValue().Message() != nil {
					if depth > 0 {
						v := mp.NewValue()
						fill(v.Message(), r, depth-1)
						mp.Set(k, v)
					}
					continue
				}
				mp.Set(k, scalar(fd.MapValue(), r))
			}
		case fd.Message() != nil:
			if depth > 0 {
				fill(m.Mutable(fd).Message(), r, depth-1)
			}
		default:
			m.Set(fd, scalar(fd, r))
		}
	}
}

func scalar(fd protoreflect.FieldDescriptor, r *rand.Rand) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		return protoreflect.ValueOfEnum(vals.Get(r.IntN(vals.Len())).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(r.Int32())
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(r.Int64())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(r.Uint32())
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(r.Uint64())
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(r.Float32())
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(r.Float64())
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fmt.Sprintf("s%d", r.IntN(1000)))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{byte(r.IntN(256)), 1, 2})
	}
	panic(fmt.Sprintf("kind %v", fd.Kind()))
}

func TestCloneEveryKind(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range api.BuiltinKinds() {
		t.Run(k.Kind, func(t *testing.T) {
			for round := range 5 {
				orig := k.New()
				fill(orig.ProtoReflect(), r, 4)
				ref := proto.Clone(orig)
				c := fastclone.Clone(orig)
				if !proto.Equal(c, orig) {
					t.Fatalf("round %d: clone differs from original", round)
				}
				if !fastclone.HasPlan(orig) {
					t.Fatalf("%s falls back to proto.Clone", k.Kind)
				}
				// Changing every field of the clone leaves the original alone.
				fill(c.ProtoReflect(), r, 4)
				if !proto.Equal(orig, ref) {
					t.Fatalf("round %d: mutating the clone changed the original", round)
				}
				// And clearing everything, too.
				proto.Reset(c)
				if !proto.Equal(orig, ref) {
					t.Fatalf("round %d: resetting the clone changed the original", round)
				}
			}
		})
	}
}

func TestCloneWellKnownAndNil(t *testing.T) {
	ts := timestamppb.Now()
	if got := fastclone.Clone(ts); !proto.Equal(got, ts) || got == ts {
		t.Fatal("timestamp clone")
	}
	var nilPod *api.Pod
	if got := fastclone.Clone(nilPod); got != nil {
		t.Fatal("nil clone")
	}
	oneof := &api.IntOrString{Value: &api.IntOrString_StrVal{StrVal: "25%"}}
	c := fastclone.Clone(oneof)
	if !proto.Equal(c, oneof) {
		t.Fatal("oneof clone")
	}
	c.Value.(*api.IntOrString_StrVal).StrVal = "50%"
	if oneof.GetStrVal() != "25%" {
		t.Fatal("oneof wrapper shared")
	}
}

// TestConcurrentUse clones a message while other goroutines marshal it and
// use its reflection (which update its internal state), under -race.
func TestConcurrentUse(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pod := &api.Pod{}
	fill(pod.ProtoReflect(), r, 4)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				switch g % 2 {
				case 0:
					if _, err := proto.Marshal(pod); err != nil {
						t.Error(err)
					}
				case 1:
					if !proto.Equal(fastclone.Clone(pod), pod) {
						t.Error("clone differs")
					}
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkClonePod(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	pod := &api.Pod{}
	fill(pod.ProtoReflect(), r, 2)
	b.Run("fastclone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fastclone.Clone(pod)
		}
	})
	b.Run("proto.Clone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			proto.Clone(pod)
		}
	})
}

func realisticPod() *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{
			Namespace: "bench", Name: "web-1",
			Labels:            map[string]string{"app": "web", "tier": "frontend", "pod-template-hash": "7d9f8c6b5", "node": "n1"},
			Annotations:       map[string]string{"example.com/build": "2026-11-23T17:00:00Z commit 4f2a9c1e"},
			OwnerReferences:   []*api.OwnerReference{{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8c6b5", Uid: "6f1c2b9e", Controller: true}},
			CreationTimestamp: timestamppb.Now(),
		},
		Spec: &api.PodSpec{
			NodeName: "n1",
			Containers: []*api.Container{{
				Name: "web", Image: "registry.example.com/team/web-frontend:v1.27.3",
				Command: []string{"/usr/local/bin/web", "--listen=:8080"},
				Ports:   []*api.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: "TCP"}},
				Env:     []*api.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}, {Name: "C", Value: "3"}},
				Resources: &api.ResourceRequirements{
					Requests: map[string]string{"cpu": "250m", "memory": "256Mi"},
					Limits:   map[string]string{"cpu": "1", "memory": "512Mi"},
				},
			}},
		},
	}
}

func BenchmarkCloneRealisticPod(b *testing.B) {
	pod := realisticPod()
	b.Run("fastclone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fastclone.Clone(pod)
		}
	})
	b.Run("proto.Clone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			proto.Clone(pod)
		}
	})
}

func TestCloneFallsBackForDynamicMessages(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	m := dynamicpb.NewMessage((&api.Pod{}).ProtoReflect().Descriptor())
	fill(m, r, 3)
	c := fastclone.Clone(m)
	if !proto.Equal(c, m) || c == m {
		t.Fatal("dynamic message clone")
	}
}
