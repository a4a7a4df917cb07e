package fields

import (
	"errors"
	"testing"

	"github.com/coxswain-io/coxswain/api"
)

func testPod() *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{Name: "p1", Namespace: "ns", Labels: map[string]string{"app": "web", "example.com/team": "a"}},
		Spec:     &api.PodSpec{NodeName: "n1", Priority: 7, HostNetwork: true},
		Status:   &api.PodStatus{Phase: "Running", PodIp: "10.0.0.1"},
	}
}

func TestParseCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  ", ""},
		{"spec.nodeName=n1", "spec.nodeName=n1"},
		{"spec.nodeName==n1", "spec.nodeName=n1"},
		{" status.phase != Succeeded ", "status.phase!=Succeeded"},
		{"status.phase!=Succeeded,spec.nodeName=n1,metadata.name=x", "metadata.name=x,spec.nodeName=n1,status.phase!=Succeeded"},
		{"spec.nodeName=", "spec.nodeName="},
		{`metadata.name=a\,b\=c\!d\\e`, `metadata.name=a\,b\=c\!d\\e`},
		{"a=1,a=1", "a=1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sel, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			again, err := Parse(sel.String())
			if err != nil || again.String() != sel.String() {
				t.Fatalf("round trip of %q: %v, %v", sel.String(), again, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"spec.nodeName", "=x", "a..b=x", "a=b=c", "a!x", `a=b\`, `a=\q`, "a=1,", "sp ec=x", `a\=b=c`} {
		t.Run(in, func(t *testing.T) {
			if _, err := Parse(in); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error = %v, want ErrInvalid", in, err)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	pod := testPod()
	tests := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"spec.nodeName=n1", true},
		{"spec.nodeName=n2", false},
		{"spec.nodeName!=n2", true},
		{"status.phase!=Succeeded,spec.nodeName=n1,metadata.name=p1", true},
		{"status.phase=Running,metadata.namespace=other", false},
		{"status.podIP=10.0.0.1", true},
		{"status.pod_ip=10.0.0.1", true},
		{"spec.priority=7", true},
		{"spec.hostNetwork=true", true},
		{"spec.host_pid=false", true},
		{"spec.schedulerName=", true},
		{"metadata.labels.app=web", true},
		{"metadata.labels.example.com/team=a", true},
		{"metadata.labels.missing=", true},
		{"metadata.labels.app!=web", false},
		{"spec.nosuch=x", false},
		{"spec.nosuch=", true},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			if got := MustParse(tt.sel).Matches(pod); got != tt.want {
				t.Fatalf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
	if !MustParse("spec.nodeName=").Matches(&api.Pod{}) {
		t.Fatal("an empty pod has an empty spec.nodeName")
	}
}

func TestValidate(t *testing.T) {
	desc := (&api.Pod{}).ProtoReflect().Descriptor()
	for _, ok := range []string{"spec.nodeName=a", "status.phase=b", "metadata.name=c", "metadata.labels.x.y/z=d", "spec.priority=1"} {
		if err := Validate(MustParse(ok), desc); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"spec.nosuch=a", "spec=b", "spec.containers=c", "spec.nodeName.x=d", "metadata.labels=e", "metadata.creationTimestamp=f"} {
		if err := Validate(MustParse(bad), desc); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestRequiresExactMatch(t *testing.T) {
	sel := MustParse("spec.nodeName=n1,status.phase!=Failed")
	if v, ok := sel.RequiresExactMatch("spec.nodeName"); !ok || v != "n1" {
		t.Fatalf("RequiresExactMatch = %q, %v", v, ok)
	}
	if _, ok := sel.RequiresExactMatch("status.phase"); ok {
		t.Fatal("!= is not an exact match")
	}
	if v, ok := OneTermEqual("spec.nodeName", "").RequiresExactMatch("spec.nodeName"); !ok || v != "" {
		t.Fatalf("OneTermEqual exact match = %q, %v", v, ok)
	}
	if _, err := NewSelector(Requirement{Path: "a", Operator: "<", Value: "1"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewSelector bad operator: %v", err)
	}
}

func TestValue(t *testing.T) {
	pod := testPod()
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"spec.nodeName", "n1", true},
		{"spec.priority", "7", true},
		{"spec.containers", "", false},
		{"spec", "", false},
		{"nosuch", "", false},
		{"metadata.labels.app", "web", true},
	}
	for _, tt := range tests {
		got, ok := Value(pod, tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Value(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"spec.nodeName=n1", `a=b\,c`, "a!=b,c==d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		again, err := Parse(sel.String())
		if err != nil || again.String() != sel.String() {
			t.Fatalf("round trip %q -> %q: %v", sel.String(), again, err)
		}
		sel.Matches(testPod())
	})
}

func BenchmarkMatches(b *testing.B) {
	sel := MustParse("spec.nodeName=n1,status.phase!=Succeeded")
	pod := testPod()
	b.ReportAllocs()
	for b.Loop() {
		if !sel.Matches(pod) {
			b.Fatal("no match")
		}
	}
}
