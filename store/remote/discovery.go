package remote

import (
	"encoding/json"

	"net/http"
	"runtime"
	"sort"
	"strings"

	"github.com/coxswain-io/coxswain/api"
)

// VersionInfo is the body of /version.
type VersionInfo struct {
	Major      string `json:"major"`
	Minor      string `json:"minor"`
	GitVersion string `json:"gitVersion"`
	GoVersion  string `json:"goVersion"`
	Platform   string `json:"platform"`
}

// APIVersions is the body of /api.
type APIVersions struct {
	Kind     string   `json:"kind"`
	Versions []string `json:"versions"`
}

// GroupVersion names one version of a group.
type GroupVersion struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

// APIGroup is one group in /apis.
type APIGroup struct {
	Kind             string         `json:"kind,omitempty"`
	APIVersion       string         `json:"apiVersion,omitempty"`
	Name             string         `json:"name"`
	Versions         []GroupVersion `json:"versions"`
	PreferredVersion GroupVersion   `json:"preferredVersion"`
}

// APIGroupList is the body of /apis.
type APIGroupList struct {
	Kind       string     `json:"kind"`
	APIVersion string     `json:"apiVersion"`
	Groups     []APIGroup `json:"groups"`
}

// APIResource describes one resource (or subresource) served.
type APIResource struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
}

// APIResourceList is the body of /api/{version} and /apis/{group}/{version}.
type APIResourceList struct {
	Kind         string        `json:"kind"`
	APIVersion   string        `json:"apiVersion"`
	GroupVersion string        `json:"groupVersion"`
	Resources    []APIResource `json:"resources"`
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", MediaJSON)
	_, _ = w.Write(b)
}

// discovery checks method and authorization of a non-resource request.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) bool {
	setInfo(r, "discovery", "")
	if r.Method != http.MethodGet {
		s.writeError(w, r, methodNotAllowed(r, http.MethodGet))
		return false
	}
	if err := s.authorize(r, Attributes{Verb: "get", Path: r.URL.Path}); err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	if !s.discovery(w, r) {
		return
	}
	major, minor := "0", "1"
	if v := strings.TrimPrefix(s.cfg.Version, "v"); v != "" {
		parts := strings.SplitN(v, ".", 3)
		major = parts[0]
		if len(parts) > 1 {
			minor = parts[1]
		}
	}
	writeJSON(w, VersionInfo{Major: major, Minor: minor, GitVersion: s.cfg.Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH})
}

// groupVersions returns the served versions of each group ("" is core).
func (s *Server) groupVersions() map[string][]string {
	out := map[string][]string{}
	for _, k := range s.codec.Reg.Kinds() {
		g, v := k.Group(), k.Version()
		found := false
		for _, have := range out[g] {
			found = found || have == v
		}
		if !found {
			out[g] = append(out[g], v)
		}
	}
	for g := range out {
		sort.Strings(out[g])
	}
	return out
}

func (s *Server) handleCoreVersions(w http.ResponseWriter, r *http.Request) {
	if !s.discovery(w, r) {
		return
	}
	writeJSON(w, APIVersions{Kind: "APIVersions", Versions: s.groupVersions()[""]})
}

func (s *Server) apiGroup(name string, versions []string) APIGroup {
	g := APIGroup{Name: name}
	for _, v := range versions {
		g.Versions = append(g.Versions, GroupVersion{GroupVersion: name + "/" + v, Version: v})
	}
	g.PreferredVersion = g.Versions[len(g.Versions)-1]
	return g
}

func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request) {
	if !s.discovery(w, r) {
		return
	}
	gvs := s.groupVersions()
	names := make([]string, 0, len(gvs))
	for g := range gvs {
		if g != "" {
			names = append(names, g)
		}
	}
	sort.Strings(names)
	list := APIGroupList{Kind: "APIGroupList", APIVersion: "v1", Groups: []APIGroup{}}
	for _, g := range names {
		list.Groups = append(list.Groups, s.apiGroup(g, gvs[g]))
	}
	writeJSON(w, list)
}

func (s *Server) handleGroup(w http.ResponseWriter, r *http.Request) {
	if !s.discovery(w, r) {
		return
	}
	name := r.PathValue("group")
	versions := s.groupVersions()[name]
	if name == "" || len(versions) == 0 {
		s.writeError(w, r, notFoundPath(r, "the server does not serve group %q", name))
		return
	}
	g := s.apiGroup(name, versions)
	g.Kind, g.APIVersion = "APIGroup", "v1"
	writeJSON(w, g)
}

func (s *Server) handleCoreResources(w http.ResponseWriter, r *http.Request) {
	s.resourceList(w, r, r.PathValue("version"))
}

func (s *Server) handleGroupResources(w http.ResponseWriter, r *http.Request) {
	s.resourceList(w, r, r.PathValue("group")+"/"+r.PathValue("version"))
}

func (s *Server) resourceList(w http.ResponseWriter, r *http.Request, gv string) {
	if !s.discovery(w, r) {
		return
	}
	list := APIResourceList{Kind: "APIResourceList", APIVersion: "v1", GroupVersion: gv, Resources: []APIResource{}}
	for _, k := range s.codec.Reg.Kinds() {
		if k.APIVersion != gv {
			continue
		}
		ns := k.Scope == api.Namespaced
		singular := strings.ToLower(k.Kind)
		list.Resources = append(list.Resources, APIResource{Name: k.Resource, SingularName: singular, Namespaced: ns, Kind: k.Kind,
			Verbs: []string{"create", "delete", "get", "list", "update", "watch"}})
		if k.HasStatus() {
			list.Resources = append(list.Resources, APIResource{Name: k.Resource + "/status", Namespaced: ns, Kind: k.Kind, Verbs: []string{"get", "update"}})
		}
		if scalable(k) {
			list.Resources = append(list.Resources, APIResource{Name: k.Resource + "/scale", Namespaced: ns, Kind: "Scale", Verbs: []string{"get", "update"}})
		}
	}
	if len(list.Resources) == 0 {
		s.writeError(w, r, notFoundPath(r, "the server does not serve %s", gv))
		return
	}
	sort.Slice(list.Resources, func(i, j int) bool { return list.Resources[i].Name < list.Resources[j].Name })
	writeJSON(w, list)
}
