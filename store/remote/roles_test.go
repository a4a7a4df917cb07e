package remote_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

func TestDefaultRoles(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	if err := remote.EnsureDefaultRoles(ctx, mem); err != nil {
		t.Fatal(err)
	}
	if err := remote.EnsureDefaultRoles(ctx, mem); err != nil {
		t.Fatalf("second EnsureDefaultRoles: %v", err)
	}
	for _, b := range []*api.ClusterRoleBinding{
		remote.BindClusterRole("nodes", remote.RoleNode, "Group", "system:nodes"),
		remote.BindClusterRole("viewers", remote.RoleView, "User", "vera"),
		remote.BindClusterRole("editors", remote.RoleEdit, "User", "ed"),
		remote.BindClusterRole("admins", remote.RoleClusterAdmin, "User", "root"),
	} {
		if _, err := mem.Create(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	z := remote.NewRBACAuthorizer(mem)
	node := &remote.User{Name: "node-1", Groups: []string{"system:nodes"}}
	vera := &remote.User{Name: "vera"}
	ed := &remote.User{Name: "ed"}
	root := &remote.User{Name: "root"}
	tests := []struct {
		name  string
		a     remote.Attributes
		allow bool
	}{
		{"node watches pods everywhere", remote.Attributes{User: node, Verb: "watch", Resource: "pods"}, true},
		{"node updates pod status", remote.Attributes{User: node, Verb: "update", Resource: "pods", Subresource: "status", Namespace: "a", Name: "p"}, true},
		{"node renews its lease", remote.Attributes{User: node, Verb: "update", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease", Name: "node-1"}, true},
		{"node cannot update a pod spec", remote.Attributes{User: node, Verb: "update", Resource: "pods", Namespace: "a", Name: "p"}, false},
		{"node cannot touch deployments", remote.Attributes{User: node, Verb: "delete", APIGroup: "apps", Resource: "deployments", Namespace: "a", Name: "d"}, false},
		{"viewer lists deployments", remote.Attributes{User: vera, Verb: "list", APIGroup: "apps", Resource: "deployments", Namespace: "a"}, true},
		{"viewer cannot read secrets", remote.Attributes{User: vera, Verb: "get", Resource: "secrets", Namespace: "a", Name: "s"}, false},
		{"viewer cannot scale", remote.Attributes{User: vera, Verb: "update", APIGroup: "apps", Resource: "deployments", Subresource: "scale", Namespace: "a", Name: "d"}, false},
		{"editor scales", remote.Attributes{User: ed, Verb: "update", APIGroup: "apps", Resource: "deployments", Subresource: "scale", Namespace: "a", Name: "d"}, true},
		{"editor cannot grant roles", remote.Attributes{User: ed, Verb: "create", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, false},
		{"admin grants roles", remote.Attributes{User: root, Verb: "create", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := z.Authorize(ctx, tt.a)
			if tt.allow && err != nil {
				t.Fatalf("denied: %v", err)
			}
			if !tt.allow && !errors.Is(err, store.ErrForbidden) {
				t.Fatalf("error %v, want ErrForbidden", err)
			}
		})
	}
}
