package remote

import (
	"context"
	"errors"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// Names of the default cluster roles.
const (
	// RoleClusterAdmin may do anything.
	RoleClusterAdmin = "cluster-admin"
	// RoleEdit may read and write every kind but roles and bindings.
	RoleEdit = "edit"
	// RoleView may read every kind but Secrets, roles and bindings.
	RoleView = "view"
	// RoleNode is what a node agent needs: read the cluster's pods,
	// services, endpoints, config and secrets; write its Node, its pods'
	// status, Leases (heartbeats) and Events.
	RoleNode = "system:node"
)

// DefaultClusterRoles returns the default ClusterRoles, built from the kinds
// in reg so custom kinds are covered by view and edit.
func DefaultClusterRoles(reg *api.Registry) []*api.ClusterRole {
	read := []string{"get", "list", "watch"}
	all := []string{"get", "list", "watch", "create", "update", "delete"}
	var view, edit []*api.PolicyRule
	for _, k := range reg.Kinds() {
		g := k.Group()
		if g == "rbac.authorization.k8s.io" {
			continue
		}
		res := []string{k.Resource}
		if k.HasStatus() {
			res = append(res, k.Resource+"/status")
		}
		if scalable(k) {
			res = append(res, k.Resource+"/scale")
		}
		edit = append(edit, &api.PolicyRule{Verbs: all, ApiGroups: []string{g}, Resources: res})
		if k.Kind != api.KindSecret {
			view = append(view, &api.PolicyRule{Verbs: read, ApiGroups: []string{g}, Resources: res})
		}
	}
	node := []*api.PolicyRule{
		{Verbs: read, ApiGroups: []string{""}, Resources: []string{"pods", "services", "endpoints", "configmaps", "secrets", "persistentvolumeclaims", "persistentvolumes", "namespaces"}},
		{Verbs: all, ApiGroups: []string{""}, Resources: []string{"nodes", "nodes/status", "events"}},
		{Verbs: []string{"get", "update"}, ApiGroups: []string{""}, Resources: []string{"pods/status"}},
		{Verbs: []string{"delete"}, ApiGroups: []string{""}, Resources: []string{"pods"}},
		{Verbs: all, ApiGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}},
	}
	mk := func(name string, rules []*api.PolicyRule) *api.ClusterRole {
		return &api.ClusterRole{Metadata: &api.ObjectMeta{Name: name, Labels: map[string]string{"coxswain.io/bootstrap": "true"}}, Rules: rules}
	}
	return []*api.ClusterRole{
		mk(RoleClusterAdmin, []*api.PolicyRule{{Verbs: []string{"*"}, ApiGroups: []string{"*"}, Resources: []string{"*"}}}),
		mk(RoleEdit, edit),
		mk(RoleView, view),
		mk(RoleNode, node),
	}
}

// EnsureDefaultRoles creates the DefaultClusterRoles that st does not hold
// yet; existing ones (perhaps edited by an administrator) are left alone.
func EnsureDefaultRoles(ctx context.Context, st store.Store) error {
	for _, role := range DefaultClusterRoles(st.Registry()) {
		_, err := st.Create(ctx, role)
		if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("create cluster role %s: %w", role.GetMetadata().GetName(), err)
		}
	}
	return nil
}

// BindClusterRole returns a ClusterRoleBinding granting role to a user
// ("User") or group ("Group").
func BindClusterRole(name, role, subjectKind, subject string) *api.ClusterRoleBinding {
	return &api.ClusterRoleBinding{
		Metadata: &api.ObjectMeta{Name: name},
		Subjects: []*api.Subject{{Kind: subjectKind, ApiGroup: "rbac.authorization.k8s.io", Name: subject}},
		RoleRef:  &api.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
	}
}
