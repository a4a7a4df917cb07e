package fields

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/coxswain-io/coxswain/api"
)

// paths returns every dotted path through desc to depth, by JSON and by
// proto name, with a known and a missing key after each map, and some
// paths that select nothing.
func paths(desc protoreflect.MessageDescriptor, prefix string, depth int) []string {
	out := []string{prefix + "nosuch", prefix + "nosuch.deeper"}
	fields := desc.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		for _, name := range []string{fd.JSONName(), string(fd.Name())} {
			p := prefix + name
			out = append(out, p, p+".x")
			switch {
			case fd.IsMap():
				out = append(out, p+".app", p+".example.com/team", p+".missing")
			case fd.Message() != nil && !fd.IsList() && depth > 0:
				out = append(out, paths(fd.Message(), p+".", depth-1)...)
			}
		}
	}
	return out
}

// TestGetterAgreesWithValue reads every path of a pod (and of objects of
// other kinds, through the pod's Getters) both ways.
func TestGetterAgreesWithValue(t *testing.T) {
	pod := testPod()
	pod.Spec.Containers = []*api.Container{{Name: "c"}}
	pod.Status.Conditions = []*api.Condition{{Type: "Ready", Status: "True"}}
	others := []api.Object{
		&api.Pod{},
		&api.Node{Metadata: &api.ObjectMeta{Name: "n1", Labels: map[string]string{"app": "web"}}, Spec: &api.NodeSpec{Unschedulable: true}},
		&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "cm"}, Data: map[string]string{"k": "v"}},
	}
	desc := pod.ProtoReflect().Descriptor()
	n := 0
	for _, path := range paths(desc, "", 3) {
		g := NewGetter(desc, path)
		if g.Path() != path {
			t.Fatalf("Path() = %q, want %q", g.Path(), path)
		}
		for _, obj := range append([]api.Object{pod}, others...) {
			wv, wok := Value(obj, path)
			gv, gok := g.Value(obj)
			if gv != wv || gok != wok {
				t.Fatalf("%T %s: Getter gives %q, %v; Value %q, %v", obj, path, gv, gok, wv, wok)
			}
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("only %d comparisons", n)
	}
}

// TestBindMatchesAsUnbound checks a bound selector decides like the
// selector it was bound from, for its own type and others, and keeps the
// rest of its behaviour.
func TestBindMatchesAsUnbound(t *testing.T) {
	desc := (&api.Pod{}).ProtoReflect().Descriptor()
	objs := []api.Object{testPod(), &api.Pod{}, &api.Node{Metadata: &api.ObjectMeta{Name: "p1"}}}
	for _, s := range []string{
		"", "spec.nodeName=n1", "spec.nodeName=n2", "spec.nodeName!=n2",
		"status.phase!=Succeeded,spec.nodeName=n1,metadata.name=p1",
		"metadata.labels.app=web", "metadata.labels.missing=", "metadata.labels.app!=web",
		"spec.nosuch=x", "spec.nosuch=", "spec.priority=7", "spec.hostNetwork=true", "spec.schedulerName=",
	} {
		sel := MustParse(s)
		b := Bind(sel, desc)
		if b.String() != sel.String() || b.Empty() != sel.Empty() {
			t.Fatalf("%q: bound selector prints %q", s, b.String())
		}
		if v, ok := b.RequiresExactMatch("spec.nodeName"); func() bool { w, wok := sel.RequiresExactMatch("spec.nodeName"); return v != w || ok != wok }() {
			t.Fatalf("%q: RequiresExactMatch differs", s)
		}
		if Bind(b, desc).String() != b.String() {
			t.Fatalf("%q: binding twice changed the selector", s)
		}
		for _, obj := range objs {
			if got, want := b.Matches(obj), sel.Matches(obj); got != want {
				t.Fatalf("%q on %T: bound Matches = %v, unbound %v", s, obj, got, want)
			}
		}
	}
}

func BenchmarkValue(b *testing.B) {
	pod := testPod()
	g := NewGetter(pod.ProtoReflect().Descriptor(), "spec.nodeName")
	b.Run("Value", func(b *testing.B) {
		for b.Loop() {
			Value(pod, "spec.nodeName")
		}
	})
	b.Run("Getter", func(b *testing.B) {
		for b.Loop() {
			g.Value(pod)
		}
	})
}
