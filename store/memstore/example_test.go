package memstore_test

import (
	"context"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// List, then watch from the list's revision: every later change arrives,
// with no gap and no duplicate.
func Example_listWatch() {
	ctx := context.Background()
	s := memstore.New()
	pods := store.For[*api.Pod](s)
	newPod := func(name, node string) *api.Pod {
		return &api.Pod{
			Metadata: &api.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"app": "web"}},
			Spec:     &api.PodSpec{NodeName: node},
		}
	}
	_, _ = pods.Create(ctx, newPod("web-1", "n1"))
	_, _ = pods.Create(ctx, newPod("web-2", "n2"))

	list, rev, err := pods.List(ctx, store.ListOptions{FieldSelector: "spec.nodeName=n1"})
	if err != nil {
		panic(err)
	}
	for _, p := range list {
		fmt.Println("listed", p.Metadata.Name, "at revision", rev)
	}

	w, err := pods.Watch(ctx, store.WatchOptions{Revision: rev, FieldSelector: "spec.nodeName=n1"})
	if err != nil {
		panic(err)
	}
	defer w.Stop()
	_, _ = pods.Create(ctx, newPod("web-3", "n1"))
	_, _ = pods.Create(ctx, newPod("web-4", "n2")) // another node: filtered out
	_, _ = s.Delete(ctx, api.KindPod, "default", "web-1", store.DeleteOptions{})

	for range 2 {
		ev := <-w.Events()
		fmt.Println(ev.Type, ev.Object.GetMetadata().GetName(), "at revision", ev.Revision)
	}
	// Output:
	// listed web-1 at revision 2
	// ADDED web-3 at revision 3
	// DELETED web-1 at revision 5
}
