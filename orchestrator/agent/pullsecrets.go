package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/store"
)

// Keys of image pull secrets, as in Kubernetes.
const (
	dockerConfigJSONKey = ".dockerconfigjson" // type kubernetes.io/dockerconfigjson
	dockerCfgKey        = ".dockercfg"        // type kubernetes.io/dockercfg (legacy)
)

// dockerAuth is one registry's entry in a docker config.
type dockerAuth struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// registryHost returns the registry an image reference pulls from
// ("docker.io" when the first path element is not a host).
func registryHost(ref string) string {
	first, _, found := strings.Cut(ref, "/")
	if !found || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		return "docker.io"
	}
	return first
}

// normalizeRegistry maps a docker config key ("https://index.docker.io/v1/",
// "registry.example:5000") to a host.
func normalizeRegistry(key string) string {
	key = strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	key, _, _ = strings.Cut(key, "/")
	switch key {
	case "index.docker.io", "registry-1.docker.io":
		return "docker.io"
	}
	return key
}

// pullAuth returns the credentials the pod's imagePullSecrets hold for the
// image's registry, or nil. A missing or malformed secret is an error, as
// the kubelet reports it.
func (a *Agent) pullAuth(ctx context.Context, pod *api.Pod, image string) (*runtime.AuthConfig, error) {
	host := registryHost(image)
	for _, ref := range pod.GetSpec().GetImagePullSecrets() {
		sec, err := store.For[*api.Secret](a.cfg.Store).Get(ctx, pod.GetMetadata().GetNamespace(), ref.GetName())
		if err != nil {
			return nil, fmt.Errorf("image pull secret %q: %w", ref.GetName(), err)
		}
		auths := map[string]dockerAuth{}
		switch {
		case len(sec.GetData()[dockerConfigJSONKey]) > 0:
			var cfg struct {
				Auths map[string]dockerAuth `json:"auths"`
			}
			if err := json.Unmarshal(sec.GetData()[dockerConfigJSONKey], &cfg); err != nil {
				return nil, fmt.Errorf("image pull secret %q: %w: %w", ref.GetName(), err, store.ErrInvalid)
			}
			auths = cfg.Auths
		case len(sec.GetData()[dockerCfgKey]) > 0:
			if err := json.Unmarshal(sec.GetData()[dockerCfgKey], &auths); err != nil {
				return nil, fmt.Errorf("image pull secret %q: %w: %w", ref.GetName(), err, store.ErrInvalid)
			}
		}
		for key, au := range auths {
			if normalizeRegistry(key) != host {
				continue
			}
			out := &runtime.AuthConfig{Username: au.Username, Password: au.Password, IdentityToken: au.IdentityToken, RegistryToken: au.RegistryToken}
			if au.Auth != "" && out.Username == "" {
				raw, err := base64.StdEncoding.DecodeString(au.Auth)
				if err != nil {
					return nil, fmt.Errorf("image pull secret %q: auth: %w: %w", ref.GetName(), err, store.ErrInvalid)
				}
				out.Username, out.Password, _ = strings.Cut(string(raw), ":")
			}
			return out, nil
		}
	}
	return nil, nil
}
