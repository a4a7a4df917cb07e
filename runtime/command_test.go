package runtime_test

import (
	"slices"
	"testing"

	"github.com/coxswain-io/coxswain/runtime"
)

func TestResolveCommand(t *testing.T) {
	img := runtime.ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"default"}}
	for _, tc := range []struct {
		name          string
		img           runtime.ImageConfig
		command, args []string
		want          []string
	}{
		{"image only", img, nil, nil, []string{"/entry", "default"}},
		{"args replace cmd", img, nil, []string{"a"}, []string{"/entry", "a"}},
		{"command replaces both", img, []string{"/bin/sh"}, nil, []string{"/bin/sh"}},
		{"command and args", img, []string{"/bin/sh"}, []string{"-c", "x"}, []string{"/bin/sh", "-c", "x"}},
		{"cmd only image", runtime.ImageConfig{Cmd: []string{"sh"}}, nil, nil, []string{"sh"}},
		{"nothing", runtime.ImageConfig{}, nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runtime.ResolveCommand(tc.img, tc.command, tc.args); !slices.Equal(got, tc.want) {
				t.Fatalf("ResolveCommand = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMergeEnv(t *testing.T) {
	got := runtime.MergeEnv(
		[]string{"PATH=/bin", "HOME=/root", "PATH=/usr/bin"},
		[]runtime.EnvVar{{Name: "HOME", Value: "/home/u"}, {Name: "NEW", Value: "1"}},
	)
	want := []string{"PATH=/usr/bin", "HOME=/home/u", "NEW=1"}
	if !slices.Equal(got, want) {
		t.Fatalf("MergeEnv = %q, want %q", got, want)
	}
}

func TestFilters(t *testing.T) {
	c := &runtime.ContainerStatus{ID: "c1", SandboxID: "s1", State: runtime.ContainerRunning, Labels: map[string]string{"a": "1", "b": "2"}}
	for _, tc := range []struct {
		f    *runtime.ContainerFilter
		want bool
	}{
		{nil, true},
		{&runtime.ContainerFilter{}, true},
		{&runtime.ContainerFilter{Labels: map[string]string{"a": "1"}}, true},
		{&runtime.ContainerFilter{Labels: map[string]string{"a": "2"}}, false},
		{&runtime.ContainerFilter{Labels: map[string]string{"c": ""}}, false},
		{&runtime.ContainerFilter{SandboxID: "s2"}, false},
		{&runtime.ContainerFilter{State: runtime.ContainerExited}, false},
		{&runtime.ContainerFilter{ID: "c1", State: runtime.ContainerRunning}, true},
	} {
		if got := tc.f.Matches(c); got != tc.want {
			t.Errorf("%+v.Matches = %v, want %v", tc.f, got, tc.want)
		}
	}
	s := &runtime.SandboxStatus{ID: "s1", State: runtime.SandboxReady, Labels: map[string]string{"a": "1"}}
	if !(*runtime.SandboxFilter)(nil).Matches(s) || (&runtime.SandboxFilter{State: runtime.SandboxNotReady}).Matches(s) {
		t.Error("SandboxFilter.Matches is wrong")
	}
}
