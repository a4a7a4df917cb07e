package remote_test

import (
	"context"
	"errors"
	"net/http/httptest"
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

// TestNoEscalation: a user who may write roles and bindings in a namespace
// can grant there only what they hold themselves.
func TestNoEscalation(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	if err := remote.EnsureDefaultRoles(ctx, mem); err != nil {
		t.Fatal(err)
	}
	rbac := "rbac.authorization.k8s.io"
	for _, obj := range []api.Object{
		&api.Role{Metadata: &api.ObjectMeta{Namespace: "team", Name: "binder"}, Rules: []*api.PolicyRule{
			{Verbs: []string{"create", "update"}, ApiGroups: []string{rbac}, Resources: []string{"roles", "rolebindings"}}}},
		&api.RoleBinding{Metadata: &api.ObjectMeta{Namespace: "team", Name: "lead-binds"}, Subjects: []*api.Subject{{Kind: "User", Name: "lead"}},
			RoleRef: &api.RoleRef{Kind: "Role", Name: "binder"}},
		&api.RoleBinding{Metadata: &api.ObjectMeta{Namespace: "team", Name: "lead-edits"}, Subjects: []*api.Subject{{Kind: "User", Name: "lead"}},
			RoleRef: &api.RoleRef{Kind: "ClusterRole", Name: remote.RoleEdit}},
	} {
		if _, err := mem.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem, Authorizer: remote.NewRBACAuthorizer(mem),
		Authenticator: remote.NewTokenAuthenticator(map[string]remote.User{"lead-token": {Name: "lead"}})})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	lead, err := remote.NewClient(remote.ClientConfig{Servers: []string{hs.URL}, Token: "lead-token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lead.Close)
	bind := func(ns, name, kind, role string) *api.RoleBinding {
		return &api.RoleBinding{Metadata: &api.ObjectMeta{Namespace: ns, Name: name}, Subjects: []*api.Subject{{Kind: "User", Name: "alice"}},
			RoleRef: &api.RoleRef{ApiGroup: rbac, Kind: kind, Name: role}}
	}
	tests := []struct {
		name  string
		call  func() error
		allow bool
	}{
		{"grant view (held through edit)", func() error {
			_, err := lead.Create(ctx, bind("team", "alice-view", "ClusterRole", remote.RoleView))
			return err
		}, true},
		{"grant cluster-admin", func() error {
			_, err := lead.Create(ctx, bind("team", "alice-admin", "ClusterRole", remote.RoleClusterAdmin))
			return err
		}, false},
		{"grant in another namespace", func() error {
			_, err := lead.Create(ctx, bind("other", "alice-view", "ClusterRole", remote.RoleView))
			return err
		}, false},
		{"write a role within edit", func() error {
			_, err := lead.Create(ctx, &api.Role{Metadata: &api.ObjectMeta{Namespace: "team", Name: "pods"}, Rules: []*api.PolicyRule{
				{Verbs: []string{"get", "delete"}, ApiGroups: []string{""}, Resources: []string{"pods", "pods/status"}}}})
			return err
		}, true},
		{"write a role with rbac rights", func() error {
			_, err := lead.Create(ctx, &api.Role{Metadata: &api.ObjectMeta{Namespace: "team", Name: "rbac"}, Rules: []*api.PolicyRule{
				{Verbs: []string{"*"}, ApiGroups: []string{rbac}, Resources: []string{"*"}}}})
			return err
		}, false},
		{"escalate by updating the binder role", func() error {
			r, err := lead.Get(ctx, api.KindRole, "team", "binder")
			if err != nil {
				return err
			}
			role := api.Clone(r.(*api.Role))
			role.Rules = append(role.Rules, &api.PolicyRule{Verbs: []string{"delete"}, ApiGroups: []string{rbac}, Resources: []string{"rolebindings"}})
			_, err = lead.Update(ctx, role)
			return err
		}, false},
		{"escalate inside a transaction", func() error {
			_, err := lead.Txn(ctx, store.CreateOp(bind("team", "sneaky", "ClusterRole", remote.RoleClusterAdmin)))
			return err
		}, false},
	}
	// Reading the binder role needs get: give lead view on rbac in team
	// through the admin path (directly in the store).
	if _, err := mem.Create(ctx, &api.Role{Metadata: &api.ObjectMeta{Namespace: "team", Name: "rbac-reader"}, Rules: []*api.PolicyRule{
		{Verbs: []string{"get"}, ApiGroups: []string{rbac}, Resources: []string{"roles"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Create(ctx, &api.RoleBinding{Metadata: &api.ObjectMeta{Namespace: "team", Name: "lead-reads-rbac"}, Subjects: []*api.Subject{{Kind: "User", Name: "lead"}},
		RoleRef: &api.RoleRef{Kind: "Role", Name: "rbac-reader"}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.allow && err != nil {
				t.Fatalf("denied: %v", err)
			}
			if !tt.allow && !errors.Is(err, store.ErrForbidden) {
				t.Fatalf("error %v, want ErrForbidden", err)
			}
		})
	}
}
