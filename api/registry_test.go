package api_test

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
)

func TestBuiltinRegistry(t *testing.T) {
	reg := api.NewBuiltinRegistry()
	kinds := api.BuiltinKinds()
	if got := len(reg.Kinds()); got != len(kinds) {
		t.Fatalf("registry has %d kinds, want %d", got, len(kinds))
	}
	for _, k := range kinds {
		info, err := reg.LookupGVK(k.APIVersion, k.Kind)
		if err != nil {
			t.Errorf("LookupGVK(%s, %s): %v", k.APIVersion, k.Kind, err)
			continue
		}
		byRes, err := reg.LookupResource(info.Group(), info.Resource)
		if err != nil || byRes.Kind != k.Kind {
			t.Errorf("LookupResource(%q, %q) = %v, %v", info.Group(), info.Resource, byRes.Kind, err)
		}
		byMsg, err := reg.KindOf(k.New())
		if err != nil || byMsg.Kind != k.Kind {
			t.Errorf("KindOf(%s) = %v, %v", k.Kind, byMsg.Kind, err)
		}
	}
	if _, err := reg.Lookup("Nope"); !errors.Is(err, api.ErrUnknownKind) {
		t.Errorf("Lookup(Nope) = %v", err)
	}
	if _, err := reg.LookupGVK("v1", "Deployment"); !errors.Is(err, api.ErrUnknownKind) {
		t.Errorf("LookupGVK(v1, Deployment) = %v", err)
	}
	ks := reg.Kinds()
	for i := 1; i < len(ks); i++ {
		if ks[i-1].Kind >= ks[i].Kind {
			t.Fatalf("Kinds not sorted: %s before %s", ks[i-1].Kind, ks[i].Kind)
		}
	}
	first, second := api.Builtin(), api.Builtin()
	if first != second {
		t.Error("Builtin is not shared")
	}
}

func TestRegisterRefuses(t *testing.T) {
	reg := api.NewBuiltinRegistry()
	tests := []struct {
		name string
		info api.KindInfo
	}{
		{"missing fields", api.KindInfo{Kind: "X"}},
		{"duplicate kind", api.KindInfo{APIVersion: "example.com/v1", Kind: api.KindPod, New: func() api.Object { return &api.Scale{} }}},
		{"duplicate message", api.KindInfo{APIVersion: "example.com/v1", Kind: "MyPod", New: func() api.Object { return &api.Pod{} }}},
		{"duplicate resource", api.KindInfo{APIVersion: "v1", Kind: "Scale", Resource: "pods", New: func() api.Object { return &api.Scale{} }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := reg.Register(tt.info); err == nil {
				t.Fatal("Register accepted")
			}
		})
	}
	if err := reg.Register(api.KindInfo{APIVersion: "example.com/v1", Kind: "Scale", New: func() api.Object { return &api.Scale{} }}); err != nil {
		t.Fatalf("custom kind: %v", err)
	}
	info, err := reg.LookupGVK("example.com/v1", "Scale")
	if err != nil || info.Resource != "scales" || info.Group() != "example.com" || info.Version() != "v1" || info.Scope != api.Namespaced {
		t.Fatalf("custom kind = %+v, %v", info, err)
	}
}

func TestDefaultResourceName(t *testing.T) {
	for kind, want := range map[string]string{
		"Pod": "pods", "Ingress": "ingresses", "Policy": "policies", "Gateway": "gateways",
		"Box": "boxes", "Batch": "batches", "Mesh": "meshes", "NetworkPolicy": "networkpolicies",
	} {
		if got := api.DefaultResourceName(kind); got != want {
			t.Errorf("DefaultResourceName(%q) = %q, want %q", kind, got, want)
		}
	}
}

func TestMetaCloneAndOwners(t *testing.T) {
	p := &api.Pod{}
	api.Meta(p).Name = "web"
	if p.GetMetadata().GetName() != "web" {
		t.Fatal("Meta did not create writable metadata")
	}
	p.Metadata.OwnerReferences = []*api.OwnerReference{{Uid: "a"}, {Uid: "b", Controller: true}}
	if ref := api.ControllerOf(p); ref.GetUid() != "b" {
		t.Errorf("ControllerOf = %v", ref)
	}
	if !api.IsControlledBy(p, "b") || api.IsControlledBy(p, "a") {
		t.Error("IsControlledBy wrong")
	}
	c := api.Clone(p)
	c.Metadata.Name = "other"
	if p.GetMetadata().GetName() != "web" || !proto.Equal(api.Clone(p), p) {
		t.Error("Clone is not a deep copy")
	}
	if api.ControllerOf(&api.Pod{}) != nil {
		t.Error("ControllerOf(no owners) != nil")
	}
	if api.Namespaced.String() != "Namespaced" || api.ClusterScoped.String() != "Cluster" {
		t.Error("Scope.String")
	}
}
