package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote"
)

// clientConfig is where coxctl finds the control plane. It is read from a
// file (COXSWAIN_CONFIG, default ~/.coxswain/config), then environment
// variables, then flags, each overriding the one before.
type clientConfig struct {
	// Server is a comma-separated list of API server URLs.
	Server string `json:"server"`
	// Token is a bearer token.
	Token string `json:"token"`
	// CA, Cert and Key are PEM files: the CA the servers' certificates are
	// verified against, and a client certificate and key.
	CA   string `json:"certificate-authority"`
	Cert string `json:"client-certificate"`
	Key  string `json:"client-key"`
	// Namespace is the default namespace.
	Namespace string `json:"namespace"`
}

// defaultServer is used when nothing names a server.
const defaultServer = "http://127.0.0.1:6443"

// connFlags are the connection flags every remote verb takes.
type connFlags struct {
	server, token, namespace string
	allNamespaces            bool
}

// register adds the connection flags to fs.
func (c *connFlags) register(fs *flag.FlagSet, withAll bool) {
	fs.StringVar(&c.server, "server", "", "API server URLs, comma-separated (default from COXSWAIN_SERVER or the config file)")
	fs.StringVar(&c.token, "token", "", "bearer token (default from COXSWAIN_TOKEN or the config file)")
	fs.StringVar(&c.namespace, "n", "", "namespace (default from the config file, else \"default\")")
	fs.StringVar(&c.namespace, "namespace", "", "namespace (same as -n)")
	if withAll {
		fs.BoolVar(&c.allNamespaces, "A", false, "every namespace")
	}
}

// loadClientConfig merges the config file, the environment and the flags.
func loadClientConfig(c *connFlags) (clientConfig, error) {
	var cfg clientConfig
	path := os.Getenv("COXSWAIN_CONFIG")
	explicit := path != ""
	if path == "" {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, ".coxswain", "config")
		}
	}
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
				return cfg, fmt.Errorf("config %s: %w", path, err)
			}
		case explicit || !errors.Is(err, os.ErrNotExist):
			return cfg, fmt.Errorf("config: %w", err)
		}
	}
	for env, dst := range map[string]*string{
		"COXSWAIN_SERVER": &cfg.Server, "COXSWAIN_TOKEN": &cfg.Token, "COXSWAIN_CA": &cfg.CA,
		"COXSWAIN_CLIENT_CERT": &cfg.Cert, "COXSWAIN_CLIENT_KEY": &cfg.Key, "COXSWAIN_NAMESPACE": &cfg.Namespace,
	} {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
	}
	if c != nil {
		if c.server != "" {
			cfg.Server = c.server
		}
		if c.token != "" {
			cfg.Token = c.token
		}
		if c.namespace != "" {
			cfg.Namespace = c.namespace
		}
	}
	if cfg.Server == "" {
		cfg.Server = defaultServer
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	return cfg, nil
}

// session is a connected verb: the store client, the registry and the
// namespace to use.
type session struct {
	store     store.Store
	reg       *api.Registry
	namespace string
	all       bool
	token     string
}

// authorize adds the session's credentials to a request to a node.
func (s *session) authorize(r *http.Request) {
	if s.token != "" {
		r.Header.Set("Authorization", "Bearer "+s.token)
	}
}

// connect builds a session from the flags.
func connect(c *connFlags) (*session, error) {
	cfg, err := loadClientConfig(c)
	if err != nil {
		return nil, err
	}
	var servers []string
	for _, s := range strings.Split(cfg.Server, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !strings.Contains(s, "://") {
				s = "http://" + s
			}
			servers = append(servers, s)
		}
	}
	reg := api.Builtin()
	cc := remote.ClientConfig{Servers: servers, Token: cfg.Token, Registry: reg}
	if cfg.CA != "" || cfg.Cert != "" {
		t, err := remote.ClientTLS(cfg.CA, cfg.Cert, cfg.Key)
		if err != nil {
			return nil, err
		}
		cc.TLS = t
	}
	cl, err := remote.NewClient(cc)
	if err != nil {
		return nil, err
	}
	return &session{store: cl, reg: reg, namespace: cfg.Namespace, all: c.allNamespaces, token: cfg.Token}, nil
}

// shortNames are the abbreviations people type.
var shortNames = map[string]string{
	"po": "pods", "svc": "services", "deploy": "deployments", "rs": "replicasets",
	"rc": "replicationcontrollers", "no": "nodes", "ns": "namespaces", "ep": "endpoints",
	"cm": "configmaps", "ev": "events", "ds": "daemonsets", "cj": "cronjobs",
	"pv": "persistentvolumes", "pvc": "persistentvolumeclaims", "sc": "storageclasses",
	"hpa": "horizontalpodautoscalers", "sa": "serviceaccounts", "ing": "ingresses",
	"quota": "resourcequotas", "limits": "limitranges",
}

// resolveKind maps what a user typed (pods, pod, po, Pod, deployments.apps)
// to a registered kind.
func resolveKind(reg *api.Registry, typed string) (api.KindInfo, error) {
	t := strings.ToLower(typed)
	if i := strings.IndexByte(t, '.'); i > 0 {
		t = t[:i]
	}
	if full, ok := shortNames[t]; ok {
		t = full
	}
	var matches []api.KindInfo
	for _, k := range reg.Kinds() {
		if k.Resource == t || strings.ToLower(k.Kind) == t || strings.TrimSuffix(k.Resource, "s") == t {
			matches = append(matches, k)
		}
	}
	if len(matches) == 0 {
		var names []string
		for _, k := range reg.Kinds() {
			names = append(names, k.Resource)
		}
		sort.Strings(names)
		return api.KindInfo{}, fmt.Errorf("unknown resource type %q (known: %s)", typed, strings.Join(names, ", "))
	}
	return matches[0], nil
}

// kindAndNames parses "TYPE NAME...", "TYPE/NAME ..." into a kind and names.
func kindAndNames(reg *api.Registry, args []string) (api.KindInfo, []string, error) {
	if len(args) == 0 {
		return api.KindInfo{}, nil, errors.New("a resource type is required (e.g. pods, deployments, services)")
	}
	if t, n, ok := strings.Cut(args[0], "/"); ok {
		k, err := resolveKind(reg, t)
		if err != nil {
			return k, nil, err
		}
		names := []string{n}
		for _, a := range args[1:] {
			t2, n2, ok := strings.Cut(a, "/")
			if !ok {
				return k, nil, fmt.Errorf("mixing TYPE/NAME and NAME: %q", a)
			}
			if k2, err := resolveKind(reg, t2); err != nil || k2.Kind != k.Kind {
				return k, nil, fmt.Errorf("%q: one resource type at a time", a)
			}
			names = append(names, n2)
		}
		return k, names, nil
	}
	k, err := resolveKind(reg, args[0])
	return k, args[1:], err
}

// ns is the namespace to address objects of kind k in ("" if cluster-scoped).
func (s *session) ns(k api.KindInfo) string {
	if k.Scope == api.ClusterScoped {
		return ""
	}
	return s.namespace
}

// listNS is the namespace to list kind k in ("" for every namespace).
func (s *session) listNS(k api.KindInfo) string {
	if s.all {
		return ""
	}
	return s.ns(k)
}

// displayName is "deployment.apps/web".
func displayName(k api.KindInfo, name string) string {
	kind := strings.ToLower(k.Kind)
	if g := k.Group(); g != "" {
		kind += "." + g
	}
	return kind + "/" + name
}

// parseVerbFlags parses a verb's flags, which may come before, between or
// after its arguments (as with kubectl); "--" ends the flags. It returns the
// positional arguments, an exit code, and whether to stop.
func parseVerbFlags(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, true
			}
			return nil, exitUsage, true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, exitOK, false
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), exitOK, false
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// fail prints err for verb and returns the exit code for it.
func fail(e env, verb string, err error) int {
	fmt.Fprintf(e.stderr, "coxctl %s: %v\n", verb, err)
	return exitFailed
}
