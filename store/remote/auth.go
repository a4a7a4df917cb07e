package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote/internal/wire"
)

// User is an authenticated caller.
type User struct {
	// Name identifies the user; RBAC subjects of kind User match it.
	Name string
	// Groups the user belongs to; RBAC subjects of kind Group match them.
	Groups []string
}

// Well-known identities.
const (
	// Anonymous is the user of requests when no authenticator is configured.
	Anonymous = "system:anonymous"
	// GroupMasters is the group RBACAuthorizer lets do anything, so the
	// first administrator can create roles.
	GroupMasters = "system:masters"
	// GroupAuthenticated is added to the groups of every authenticated
	// user, so a binding can grant something to everyone who logged in.
	GroupAuthenticated = "system:authenticated"
	// GroupUnauthenticated is the group of Anonymous.
	GroupUnauthenticated = "system:unauthenticated"
)

// Authenticator identifies the caller of a request. It returns
// (nil, nil) when the request carries no credentials it recognises.
type Authenticator interface {
	Authenticate(r *http.Request) (*User, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (*User, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*User, error) { return f(r) }

// TokenAuthenticator authenticates "Authorization: Bearer <token>" headers
// against a fixed map of tokens.
type TokenAuthenticator struct {
	tokens map[string]User
}

// NewTokenAuthenticator returns an authenticator for tokens (token -> user).
func NewTokenAuthenticator(tokens map[string]User) *TokenAuthenticator {
	m := make(map[string]User, len(tokens))
	for t, u := range tokens {
		m[t] = u
	}
	return &TokenAuthenticator{tokens: m}
}

// LoadTokenFile reads a token file: one "token,user[,group1,group2...]" per
// line; blank lines and lines starting with # are ignored.
func LoadTokenFile(path string) (*TokenAuthenticator, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	return ParseTokens(data)
}

// ParseTokens parses the token file format of LoadTokenFile.
func ParseTokens(data []byte) (*TokenAuthenticator, error) {
	tokens := map[string]User{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.Split(text, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("token file line %d: want token,user[,group...]", line)
		}
		if _, dup := tokens[parts[0]]; dup {
			return nil, fmt.Errorf("token file line %d: duplicate token", line)
		}
		u := User{Name: parts[1]}
		for _, g := range parts[2:] {
			if g != "" {
				u.Groups = append(u.Groups, g)
			}
		}
		tokens[parts[0]] = u
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	return &TokenAuthenticator{tokens: tokens}, nil
}

// Authenticate looks the bearer token up; an unknown token is an error.
func (a *TokenAuthenticator) Authenticate(r *http.Request) (*User, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, fmt.Errorf("%w: malformed Authorization header (want Bearer <token>)", wire.ErrUnauthorized)
	}
	token = strings.TrimSpace(token)
	for t, u := range a.tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			u := u
			return &u, nil
		}
	}
	return nil, fmt.Errorf("%w: invalid bearer token", wire.ErrUnauthorized)
}

// ClientCertAuthenticator authenticates verified TLS client certificates:
// the subject's common name is the user, its organizations the groups.
func ClientCertAuthenticator() Authenticator {
	return AuthenticatorFunc(func(r *http.Request) (*User, error) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
			return nil, nil
		}
		cert := r.TLS.VerifiedChains[0][0]
		if cert.Subject.CommonName == "" {
			return nil, fmt.Errorf("%w: client certificate has no common name", wire.ErrUnauthorized)
		}
		return &User{Name: cert.Subject.CommonName, Groups: slices.Clone(cert.Subject.Organization)}, nil
	})
}

// Attributes describe what a request wants to do.
type Attributes struct {
	User *User
	// Verb is get, list, watch, create, update, delete, or for
	// non-resource requests get.
	Verb string
	// APIGroup and Resource name the kind ("apps", "deployments"); the
	// core group is "".
	APIGroup, Resource string
	// Subresource is "status" or "scale", or empty.
	Subresource string
	// Namespace is empty for cluster-scoped kinds and for requests across
	// every namespace.
	Namespace string
	// Name is the object's name, empty for collections.
	Name string
	// Path is set for non-resource requests (/version, discovery).
	Path string
}

// Authorizer decides whether a request may proceed. It returns nil to
// allow, an error wrapping store.ErrForbidden to deny, and any other error
// when it could not decide.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, a Attributes) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, a Attributes) error { return f(ctx, a) }

// AllowAll is the authorizer of single-user setups: everything is allowed.
func AllowAll() Authorizer {
	return AuthorizerFunc(func(context.Context, Attributes) error { return nil })
}

// RBACAuthorizer authorizes by Role, ClusterRole, RoleBinding and
// ClusterRoleBinding objects (rbac.authorization.k8s.io/v1) read from a
// store at each request, so changes take effect at once:
//
//   - a ClusterRoleBinding grants its ClusterRole's rules in every namespace
//     and on cluster-scoped kinds;
//   - a RoleBinding grants its Role's (or a ClusterRole's) rules in its own
//     namespace only;
//   - a rule matches when its verbs, apiGroups and resources contain the
//     request's (or "*"), and its resourceNames are empty or contain the
//     name; a subresource is matched as "resource/subresource";
//   - subjects match by kind User (the user's name) or Group;
//   - members of GroupMasters may do anything, and any authenticated user
//     may read non-resource paths (/version, discovery).
type RBACAuthorizer struct {
	st store.Store
}

// NewRBACAuthorizer returns an authorizer reading its roles from st.
func NewRBACAuthorizer(st store.Store) *RBACAuthorizer { return &RBACAuthorizer{st: st} }

// Authorize allows the request if some binding of the user grants it.
func (z *RBACAuthorizer) Authorize(ctx context.Context, a Attributes) error {
	if a.User == nil {
		return fmt.Errorf("%w: no user", store.ErrForbidden)
	}
	if slices.Contains(a.User.Groups, GroupMasters) || a.Path != "" {
		return nil
	}
	crbs, err := z.st.List(ctx, api.KindClusterRoleBinding, store.ListOptions{})
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	for _, o := range crbs.Items {
		b := o.(*api.ClusterRoleBinding)
		if !subjectsMatch(b.GetSubjects(), a.User, "") {
			continue
		}
		ok, err := z.roleAllows(ctx, b.GetRoleRef(), "", a)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	if a.Namespace != "" {
		rbs, err := z.st.List(ctx, api.KindRoleBinding, store.ListOptions{Namespace: a.Namespace})
		if err != nil {
			return fmt.Errorf("authorize: %w", err)
		}
		for _, o := range rbs.Items {
			b := o.(*api.RoleBinding)
			if !subjectsMatch(b.GetSubjects(), a.User, a.Namespace) {
				continue
			}
			ok, err := z.roleAllows(ctx, b.GetRoleRef(), a.Namespace, a)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: user %q cannot %s %s in %s", store.ErrForbidden, a.User.Name, a.Verb, describeResource(a), describeNamespace(a.Namespace))
}

func describeResource(a Attributes) string {
	r := a.Resource
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	if a.APIGroup != "" {
		r += "." + a.APIGroup
	}
	if a.Name != "" {
		r += " " + a.Name
	}
	return r
}

func describeNamespace(ns string) string {
	if ns == "" {
		return "the cluster scope"
	}
	return "namespace " + ns
}

func subjectsMatch(subjects []*api.Subject, u *User, _ string) bool {
	for _, s := range subjects {
		switch s.GetKind() {
		case "User":
			if s.GetName() == u.Name {
				return true
			}
		case "Group":
			if slices.Contains(u.Groups, s.GetName()) {
				return true
			}
		}
	}
	return false
}

func (z *RBACAuthorizer) roleAllows(ctx context.Context, ref *api.RoleRef, ns string, a Attributes) (bool, error) {
	var rules []*api.PolicyRule
	switch ref.GetKind() {
	case "ClusterRole":
		o, err := z.st.Get(ctx, api.KindClusterRole, "", ref.GetName())
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("authorize: %w", err)
		}
		rules = o.(*api.ClusterRole).GetRules()
	case "Role":
		if ns == "" {
			return false, nil
		}
		o, err := z.st.Get(ctx, api.KindRole, ns, ref.GetName())
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("authorize: %w", err)
		}
		rules = o.(*api.Role).GetRules()
	default:
		return false, nil
	}
	for _, r := range rules {
		if ruleAllows(r, a) {
			return true, nil
		}
	}
	return false, nil
}

func ruleAllows(r *api.PolicyRule, a Attributes) bool {
	if !matches(r.GetVerbs(), a.Verb) || !matches(r.GetApiGroups(), a.APIGroup) {
		return false
	}
	res := a.Resource
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	if !matches(r.GetResources(), res) && !(a.Subresource != "" && slices.Contains(r.GetResources(), a.Resource+"/*")) {
		return false
	}
	return len(r.GetResourceNames()) == 0 || (a.Name != "" && slices.Contains(r.GetResourceNames(), a.Name))
}

func matches(list []string, v string) bool {
	return slices.Contains(list, "*") || slices.Contains(list, v)
}

// Chain returns an authenticator that asks each of as in turn and takes
// the first user found. An error (bad credentials) stops the chain.
func Chain(as ...Authenticator) Authenticator {
	return AuthenticatorFunc(func(r *http.Request) (*User, error) {
		for _, a := range as {
			u, err := a.Authenticate(r)
			if err != nil || u != nil {
				return u, err
			}
		}
		return nil, nil
	})
}

// EscalationChecker is implemented by authorizers that refuse role and
// binding writes granting more than the writer holds. The server calls it
// for every create and update of a Role, ClusterRole, RoleBinding or
// ClusterRoleBinding (transactions included).
type EscalationChecker interface {
	CheckEscalation(ctx context.Context, u *User, obj api.Object) error
}

var _ EscalationChecker = (*RBACAuthorizer)(nil)

// CheckEscalation allows writing a role only to users who hold every
// permission in it (or the verb "escalate" on roles/clusterroles), and
// writing a binding only to users who hold every permission of the role it
// grants (or the verb "bind"), in the namespace of the role or binding
// (everywhere for cluster-wide ones), as Kubernetes does.
func (z *RBACAuthorizer) CheckEscalation(ctx context.Context, u *User, obj api.Object) error {
	if u == nil {
		return fmt.Errorf("%w: no user", store.ErrForbidden)
	}
	if slices.Contains(u.Groups, GroupMasters) {
		return nil
	}
	ns := obj.GetMetadata().GetNamespace()
	var rules []*api.PolicyRule
	var bypassVerb, resource string
	switch o := obj.(type) {
	case *api.Role:
		rules, bypassVerb, resource = o.GetRules(), "escalate", "roles"
	case *api.ClusterRole:
		rules, bypassVerb, resource = o.GetRules(), "escalate", "clusterroles"
	case *api.RoleBinding, *api.ClusterRoleBinding:
		var ref *api.RoleRef
		resource = "rolebindings"
		if b, ok := o.(*api.RoleBinding); ok {
			ref = b.GetRoleRef()
		} else {
			ref, resource = o.(*api.ClusterRoleBinding).GetRoleRef(), "clusterrolebindings"
		}
		bypassVerb = "bind"
		var err error
		if rules, err = z.roleRules(ctx, ref, ns); err != nil {
			return err
		}
	default:
		return nil
	}
	if z.Authorize(ctx, Attributes{User: u, Verb: bypassVerb, APIGroup: "rbac.authorization.k8s.io", Resource: resource, Namespace: ns, Name: obj.GetMetadata().GetName()}) == nil {
		return nil
	}
	for _, r := range rules {
		names := r.GetResourceNames()
		if len(names) == 0 {
			names = []string{""}
		}
		for _, v := range r.GetVerbs() {
			for _, g := range r.GetApiGroups() {
				for _, res := range r.GetResources() {
					resource, sub, _ := strings.Cut(res, "/")
					for _, name := range names {
						a := Attributes{User: u, Verb: v, APIGroup: g, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
						if err := z.Authorize(ctx, a); err != nil {
							return fmt.Errorf("%w: %s %s would grant %s on %s that user %q does not hold",
								store.ErrForbidden, obj.ProtoReflect().Descriptor().Name(), obj.GetMetadata().GetName(), v, describeResource(a), u.Name)
						}
					}
				}
			}
		}
	}
	return nil
}

// roleRules returns the rules of the role a binding refers to; a missing
// role grants nothing.
func (z *RBACAuthorizer) roleRules(ctx context.Context, ref *api.RoleRef, ns string) ([]*api.PolicyRule, error) {
	var kind string
	switch ref.GetKind() {
	case "ClusterRole":
		kind, ns = api.KindClusterRole, ""
	case "Role":
		kind = api.KindRole
	default:
		return nil, store.Errorf(store.ErrInvalid, "roleRef.kind %q: want Role or ClusterRole", ref.GetKind())
	}
	o, err := z.st.Get(ctx, kind, ns, ref.GetName())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check escalation: %w", err)
	}
	if r, ok := o.(*api.Role); ok {
		return r.GetRules(), nil
	}
	return o.(*api.ClusterRole).GetRules(), nil
}
