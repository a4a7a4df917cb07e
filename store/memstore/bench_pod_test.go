package memstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/internal/fastclone"
	"github.com/coxswain-io/coxswain/store"
)

// benchPod1K returns a pod of about 1 KiB encoded, the shape bench/store
// writes.
func benchPod1K(name, node string) *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{
			Namespace: "bench", Name: name,
			Labels:      map[string]string{"app": "web", "tier": "frontend", "pod-template-hash": "7d9f8c6b5", "node": node},
			Annotations: map[string]string{"example.com/build": "2026-11-23T17:00:00Z commit 4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"},
			OwnerReferences: []*api.OwnerReference{{
				ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8c6b5", Uid: "6f1c2b9e-8a47-4d3c-9b1e-2f7a6c5d4e3b", Controller: true, BlockOwnerDeletion: true,
			}},
		},
		Spec: &api.PodSpec{
			NodeName: node,
			Containers: []*api.Container{{
				Name: "web", Image: "registry.example.com/team/web-frontend:v1.27.3",
				Command: []string{"/usr/local/bin/web", "--listen=:8080", "--metrics=:9090", "--log-level=info"},
				Ports:   []*api.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: "TCP"}, {Name: "metrics", ContainerPort: 9090, Protocol: "TCP"}},
				Env: []*api.EnvVar{
					{Name: "DATABASE_URL", Value: "postgres://web@db.bench.svc.cluster.local:5432/web?sslmode=disable"},
					{Name: "CACHE_URL", Value: "redis://cache.bench.svc.cluster.local:6379/0"},
					{Name: "FEATURE_FLAGS", Value: "new-checkout,fast-search,dark-mode,beta-api"},
					{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Value: "http://otel-collector.observability.svc:4317"},
				},
				Resources: &api.ResourceRequirements{
					Requests: map[string]string{"cpu": "250m", "memory": "256Mi"},
					Limits:   map[string]string{"cpu": "1", "memory": "512Mi"},
				},
				ImagePullPolicy: "IfNotPresent",
			}},
			RestartPolicy: "Always",
		},
	}
}

// BenchmarkPod1K measures the write path on a ~1 KiB pod, next to the cost
// of one deep copy of it (a write makes two: in and out).
func BenchmarkPod1K(b *testing.B) {
	ctx := context.Background()
	b.Run("Clone", func(b *testing.B) {
		p := benchPod1K("web-0", "node-0")
		b.ReportAllocs()
		for b.Loop() {
			_ = fastclone.Clone(p)
		}
	})
	// Plain creates (two copies), creates that hand the pod over
	// (store.Consume: one copy) and, in addition, take the stored object as
	// the result (store.SharedResult: none).
	for _, mode := range []struct {
		name string
		opts []store.WriteOption
	}{
		{"Create", nil},
		{"CreateConsume", []store.WriteOption{store.Consume()}},
		{"CreateZeroCopy", []store.WriteOption{store.Consume(), store.SharedResult()}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			s := New()
			b.Cleanup(func() { _ = s.Close() })
			pods := make([]*api.Pod, b.N)
			for i := range pods {
				pods[i] = benchPod1K(fmt.Sprintf("web-%07d", i), fmt.Sprintf("node-%04d", i%1000))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.Create(ctx, pods[i], mode.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Update", func(b *testing.B) {
		s := New()
		b.Cleanup(func() { _ = s.Close() })
		p := benchPod1K("web-0", "node-0")
		if _, err := s.Create(ctx, p); err != nil {
			b.Fatal(err)
		}
		images := [2]string{"registry.example.com/team/web-frontend:v1.27.3", "registry.example.com/team/web-frontend:v1.27.4"}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			p.Spec.Containers[0].Image = images[i%2]
			if _, err := s.Update(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Fanout1KWatchers", func(b *testing.B) {
		// Creates delivered to 1,000 node-filtered watchers; each event
		// goes to one of them.
		s := New()
		b.Cleanup(func() { _ = s.Close() })
		const nw = 1000
		done := make(chan struct{}, nw)
		for w := range nw {
			wt, err := s.Watch(ctx, api.KindPod, store.WatchOptions{FieldSelector: fmt.Sprintf("spec.nodeName=node-%04d", w)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(wt.Stop)
			go func() {
				for range wt.Events() {
					done <- struct{}{}
				}
			}()
		}
		pods := make([]*api.Pod, b.N)
		for i := range pods {
			pods[i] = benchPod1K(fmt.Sprintf("web-%07d", i), fmt.Sprintf("node-%04d", i%nw))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.Create(ctx, pods[i]); err != nil {
				b.Fatal(err)
			}
		}
		for range b.N {
			<-done
		}
	})
}
