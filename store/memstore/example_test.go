package memstore_test

import (
	"bytes"
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
	// listed web-1 at revision 3
	// ADDED web-3 at revision 4
	// DELETED web-1 at revision 6
}

// A replicated backend prepares a command on one node, ships its bytes, and
// applies it in the same order everywhere; snapshots bring a new replica up
// to date.
func Example_replicate() {
	ctx := context.Background()
	leader, follower := memstore.New(), memstore.New()

	cmd, err := leader.Prepare(ctx, store.CreateOp(&api.ConfigMap{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "settings"},
		Data:     map[string]string{"mode": "fast"},
	}))
	if err != nil {
		panic(err)
	}
	data, err := cmd.Marshal() // this is what goes into the log
	if err != nil {
		panic(err)
	}
	for _, replica := range []*memstore.Store{leader, follower} {
		decoded, err := memstore.UnmarshalCommand(data, replica.Registry())
		if err != nil {
			panic(err)
		}
		res, err := replica.Apply(decoded)
		if err != nil {
			panic(err)
		}
		fmt.Println("applied at revision", res[0].GetMetadata().GetResourceVersion())
	}
	a, _ := leader.Get(ctx, api.KindConfigMap, "default", "settings")
	b, _ := follower.Get(ctx, api.KindConfigMap, "default", "settings")
	fmt.Println("same uid:", a.GetMetadata().GetUid() == b.GetMetadata().GetUid())

	var snap bytes.Buffer
	rev, _ := leader.Snapshot(&snap)
	fresh := memstore.New()
	if err := fresh.Restore(&snap); err != nil {
		panic(err)
	}
	got, _ := fresh.Revision(ctx)
	fmt.Println("snapshot at", rev, "restored at", got)
	// Output:
	// applied at revision 2
	// applied at revision 2
	// same uid: true
	// snapshot at 2 restored at 2
}

// A write that copies nothing: the caller hands its object over
// (store.Consume) and takes the stored object back, read-only
// (store.SharedResult). For objects made only to be written, such as a
// decoded request body.
func Example_zeroCopyWrite() {
	ctx := context.Background()
	s := memstore.New()
	pod := &api.Pod{Metadata: &api.ObjectMeta{Namespace: "default", Name: "web-1"}, Spec: &api.PodSpec{NodeName: "n1"}}
	out, err := s.Create(ctx, pod, store.Consume(), store.SharedResult())
	if err != nil {
		panic(err)
	}
	// pod now belongs to the store: read out, change neither.
	fmt.Println("created", out.GetMetadata().GetName(), "at revision", out.GetMetadata().GetResourceVersion(), "- same object:", out == api.Object(pod))

	// To change it, work on a copy of one's own (what Get returns is).
	cur, err := store.For[*api.Pod](s).Get(ctx, "default", "web-1")
	if err != nil {
		panic(err)
	}
	cur.Spec.NodeName = "n2"
	out, err = s.Update(ctx, cur, store.Consume(), store.SharedResult())
	if err != nil {
		panic(err)
	}
	fmt.Println("moved to", out.(*api.Pod).GetSpec().GetNodeName(), "at revision", out.GetMetadata().GetResourceVersion())
	// Output:
	// created web-1 at revision 2 - same object: true
	// moved to n2 at revision 3
}
