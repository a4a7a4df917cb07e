package agent_test

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
)

func TestImagePullSecrets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	basic := base64.StdEncoding.EncodeToString([]byte("bob:pw2"))
	cfg := `{"auths":{"registry.example:5000":{"username":"alice","password":"pw1"},"https://index.docker.io/v1/":{"auth":"` + basic + `"}}}`
	if _, err := e.store.Create(ctx, &api.Secret{Metadata: &api.ObjectMeta{Name: "regcred", Namespace: "default"},
		Type: "kubernetes.io/dockerconfigjson", Data: map[string][]byte{".dockerconfigjson": []byte(cfg)}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, image, user, pass string
	}{
		{"private", "registry.example:5000/team/app:1", "alice", "pw1"},
		{"hub", "library/busybox:1", "bob", "pw2"},
		{"other", "quay.example/x:1", "", ""},
	}
	for _, tt := range tests {
		p := pod(tt.name, "", forever)
		p.Spec.Containers[0].Image = tt.image
		p.Spec.Containers[0].ImagePullPolicy = "Always"
		p.Spec.ImagePullSecrets = []*api.LocalObjectReference{{Name: "regcred"}}
		e.create(p)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.waitPod(tt.name, "running", phase(agent.PhaseRunning))
			auth, ok := e.rt.pullAuth(tt.image)
			if !ok {
				t.Fatal("not pulled")
			}
			if tt.user == "" {
				if auth != nil {
					t.Errorf("auth %+v for a registry without credentials", auth)
				}
				return
			}
			if auth == nil || auth.Username != tt.user || auth.Password != tt.pass {
				t.Errorf("auth %+v, want %s/%s", auth, tt.user, tt.pass)
			}
		})
	}
	// A missing secret is reported on the container.
	p := pod("nosecret", "", forever)
	p.Spec.Containers[0].ImagePullPolicy = "Always"
	p.Spec.ImagePullSecrets = []*api.LocalObjectReference{{Name: "missing"}}
	e.create(p)
	e.waitPod("nosecret", "ErrImagePull", func(p *api.Pod) bool {
		return containerStatus(p, "c0").GetState().GetWaiting().GetReason() == "ErrImagePull"
	})
}
