package envvars_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/envvars"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func objects() *volumetest.Objects {
	return volumetest.NewObjects(
		&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "cfg", Namespace: "ns"}, Data: map[string]string{"LOG_LEVEL": "debug", "MODE": "fast", "bad=key": "x"}},
		&api.Secret{Metadata: &api.ObjectMeta{Name: "creds", Namespace: "ns"}, Data: map[string][]byte{"PASSWORD": []byte("hunter2")}, StringData: map[string]string{"USER": "admin"}},
	)
}

func pod(c *api.Container) *api.Pod {
	c.Name = "app"
	c.Resources = &api.ResourceRequirements{Limits: map[string]string{"memory": "256Mi"}}
	return &api.Pod{
		Metadata: &api.ObjectMeta{Name: "p1", Namespace: "ns", Labels: map[string]string{"app": "shop"}},
		Spec:     &api.PodSpec{NodeName: "n1", Containers: []*api.Container{c}},
		Status:   &api.PodStatus{PodIp: "10.1.0.5"},
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		c       *api.Container
		want    string // Env joined by " "
		skipped int
		wantErr error
		errText string
	}{
		{
			name: "literal and expansion",
			c: &api.Container{Env: []*api.EnvVar{
				{Name: "HOST", Value: "db"},
				{Name: "URL", Value: "postgres://$(HOST):5432/$(UNDEFINED)"},
				{Name: "PRICE", Value: "$$5"},
			}},
			want: "HOST=db URL=postgres://db:5432/$(UNDEFINED) PRICE=$5",
		},
		{
			name: "valueFrom every source",
			c: &api.Container{Env: []*api.EnvVar{
				{Name: "LEVEL", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{Name: "cfg", Key: "LOG_LEVEL"}}},
				{Name: "PW", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{Name: "creds", Key: "PASSWORD"}}},
				{Name: "POD", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "APP", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
				{Name: "IP", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "status.podIP"}}},
				{Name: "MEM", ValueFrom: &api.EnvVarSource{ResourceFieldRef: &api.ResourceFieldSelector{Resource: "limits.memory", Divisor: "1Mi"}}},
			}},
			want: "LEVEL=debug PW=hunter2 POD=p1 APP=shop IP=10.1.0.5 MEM=256",
		},
		{
			name: "envFrom with prefix, env overrides",
			c: &api.Container{
				EnvFrom: []*api.EnvFromSource{
					{ConfigMapRef: &api.ConfigMapEnvSource{Name: "cfg"}},
					{Prefix: "DB_", SecretRef: &api.SecretEnvSource{Name: "creds"}},
				},
				Env: []*api.EnvVar{{Name: "MODE", Value: "safe"}, {Name: "X", Value: "$(DB_USER)"}},
			},
			want:    "LOG_LEVEL=debug MODE=safe DB_PASSWORD=hunter2 DB_USER=admin X=admin",
			skipped: 1,
		},
		{
			name: "optional missing sources are skipped",
			c: &api.Container{
				EnvFrom: []*api.EnvFromSource{{ConfigMapRef: &api.ConfigMapEnvSource{Name: "nope", Optional: true}}},
				Env: []*api.EnvVar{
					{Name: "A", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{Name: "nope", Key: "k", Optional: true}}},
					{Name: "B", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{Name: "creds", Key: "nokey", Optional: true}}},
					{Name: "C", Value: "c"},
				},
			},
			want: "C=c",
		},
		{
			name:    "missing configMap",
			c:       &api.Container{Env: []*api.EnvVar{{Name: "A", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{Name: "nope", Key: "k"}}}}},
			wantErr: store.ErrNotFound,
			errText: "configMap ns/nope",
		},
		{
			name:    "missing secret key",
			c:       &api.Container{Env: []*api.EnvVar{{Name: "A", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{Name: "creds", Key: "TOKEN"}}}}},
			wantErr: store.ErrNotFound,
			errText: `key "TOKEN" in secret ns/creds`,
		},
		{
			name:    "missing envFrom secret",
			c:       &api.Container{EnvFrom: []*api.EnvFromSource{{SecretRef: &api.SecretEnvSource{Name: "gone"}}}},
			wantErr: store.ErrNotFound,
			errText: "secret ns/gone",
		},
		{
			name:    "two sources",
			c:       &api.Container{Env: []*api.EnvVar{{Name: "A", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}, SecretKeyRef: &api.SecretKeySelector{Name: "creds", Key: "PASSWORD"}}}}},
			wantErr: volume.ErrInvalidSpec,
		},
		{
			name:    "bad field",
			c:       &api.Container{Env: []*api.EnvVar{{Name: "A", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "spec.volumes"}}}}},
			wantErr: volume.ErrInvalidSpec,
		},
		{
			name:    "bad name",
			c:       &api.Container{Env: []*api.EnvVar{{Name: "A=B", Value: "x"}}},
			wantErr: volume.ErrInvalidSpec,
		},
	}
	r := &envvars.Resolver{Objects: objects()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pod(tt.c)
			res, err := r.Resolve(t.Context(), p, p.Spec.Containers[0])
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(fmt.Sprint(err), tt.errText) {
					t.Fatalf("err = %v, want %v naming %q", err, tt.wantErr, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(res.Env, " "); got != tt.want {
				t.Fatalf("env = %q\nwant  %q", got, tt.want)
			}
			if len(res.Skipped) != tt.skipped {
				t.Fatalf("skipped = %v, want %d", res.Skipped, tt.skipped)
			}
		})
	}
}

func ExampleResolver_Resolve() {
	objs := volumetest.NewObjects(&api.ConfigMap{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Data:     map[string]string{"PORT": "8080"},
	})
	c := &api.Container{
		Name:    "web",
		EnvFrom: []*api.EnvFromSource{{ConfigMapRef: &api.ConfigMapEnvSource{Name: "web"}}},
		Env: []*api.EnvVar{
			{Name: "POD_NAME", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "ADDR", Value: ":$(PORT)"},
		},
	}
	p := &api.Pod{Metadata: &api.ObjectMeta{Name: "web-0", Namespace: "default"}, Spec: &api.PodSpec{Containers: []*api.Container{c}}}
	res, err := (&envvars.Resolver{Objects: objs}).Resolve(context.Background(), p, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Join(res.Env, "\n"))
	// Output:
	// PORT=8080
	// POD_NAME=web-0
	// ADDR=:8080
}
