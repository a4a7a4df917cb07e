package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

func names(items []api.Object) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = nsName(it)
	}
	return out
}

func nsName(obj api.Object) string {
	m := obj.GetMetadata()
	if m.GetNamespace() == "" {
		return m.GetName()
	}
	return m.GetNamespace() + "/" + m.GetName()
}

func testListSelectors(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	type spec struct {
		ns, name, node, phase string
		labels                map[string]string
	}
	for _, p := range []spec{
		{"b", "web-1", "n1", "Running", map[string]string{"app": "web", "env": "prod"}},
		{"a", "web-2", "n2", "Running", map[string]string{"app": "web", "env": "canary"}},
		{"a", "db-1", "n1", "Succeeded", map[string]string{"app": "db", "env": "prod", "legacy": "true"}},
		{"a", "job-1", "", "Pending", map[string]string{"app": "job"}},
	} {
		obj := pod(p.ns, p.name, p.labels)
		obj.Spec.NodeName = p.node
		out := asPod(t)(s.Create(ctx, obj))
		out.Status = &api.PodStatus{Phase: p.phase}
		if _, err := s.UpdateStatus(ctx, out); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		opts store.ListOptions
		want []string
	}{
		{store.ListOptions{}, []string{"a/db-1", "a/job-1", "a/web-2", "b/web-1"}},
		{store.ListOptions{Namespace: "a"}, []string{"a/db-1", "a/job-1", "a/web-2"}},
		{store.ListOptions{Namespace: "none"}, []string{}},
		{store.ListOptions{LabelSelector: "app=web"}, []string{"a/web-2", "b/web-1"}},
		{store.ListOptions{LabelSelector: "app!=web"}, []string{"a/db-1", "a/job-1"}},
		{store.ListOptions{LabelSelector: "env in (prod,canary),!legacy"}, []string{"a/web-2", "b/web-1"}},
		{store.ListOptions{LabelSelector: "env notin (prod)"}, []string{"a/job-1", "a/web-2"}},
		{store.ListOptions{LabelSelector: "legacy"}, []string{"a/db-1"}},
		{store.ListOptions{FieldSelector: "spec.nodeName=n1"}, []string{"a/db-1", "b/web-1"}},
		{store.ListOptions{FieldSelector: "spec.nodeName="}, []string{"a/job-1"}},
		{store.ListOptions{FieldSelector: "spec.nodeName=n1", Namespace: "b"}, []string{"b/web-1"}},
		{store.ListOptions{FieldSelector: "status.phase!=Succeeded,spec.nodeName=n1"}, []string{"b/web-1"}},
		{store.ListOptions{FieldSelector: "metadata.name=web-2"}, []string{"a/web-2"}},
		{store.ListOptions{FieldSelector: "status.phase=Running", LabelSelector: "env=prod"}, []string{"b/web-1"}},
		{store.ListOptions{FieldSelector: "spec.nodeName=n1", Linearizable: true}, []string{"a/db-1", "b/web-1"}},
	}
	rev, _ := s.Revision(ctx)
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s|%s|%s", tt.opts.Namespace, tt.opts.LabelSelector, tt.opts.FieldSelector), func(t *testing.T) {
			res, err := s.List(ctx, api.KindPod, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(res.Items); !slices.Equal(got, tt.want) {
				t.Fatalf("List = %v, want %v", got, tt.want)
			}
			if res.Revision != rev || res.Continue != "" {
				t.Fatalf("List revision %d continue %q, want %d and none", res.Revision, res.Continue, rev)
			}
		})
	}
}

func testPagination(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	var want []string
	for i := range 25 {
		p := pod("ns", fmt.Sprintf("p%02d", i), map[string]string{"even": fmt.Sprint(i%2 == 0)})
		mustCreate(t, s, p)
		want = append(want, nsName(p))
	}
	first, err := s.List(ctx, api.KindPod, store.ListOptions{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 10 || first.Continue == "" {
		t.Fatalf("first page: %d items, continue %q", len(first.Items), first.Continue)
	}
	// Change the store between pages: later pages still show the state at
	// the first page's revision.
	if _, err := s.Delete(ctx, api.KindPod, "ns", "p15", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, pod("ns", "p12a", nil))
	if _, err := store.For[*api.Pod](s).Mutate(ctx, "ns", "p20", func(p *api.Pod) error {
		p.Spec.NodeName = "changed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := names(first.Items)
	tok := first.Continue
	for tok != "" {
		page, err := s.List(ctx, api.KindPod, store.ListOptions{Limit: 10, Continue: tok})
		if err != nil {
			t.Fatal(err)
		}
		if page.Revision != first.Revision {
			t.Fatalf("page revision %d, first page %d", page.Revision, first.Revision)
		}
		for _, it := range page.Items {
			if it.(*api.Pod).GetSpec().GetNodeName() == "changed" {
				t.Fatal("a later page shows a change made after the first page")
			}
		}
		got = append(got, names(page.Items)...)
		tok = page.Continue
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages = %v, want %v", got, want)
	}
	// Pages with a selector.
	var even []string
	tok = ""
	for {
		page, err := s.List(ctx, api.KindPod, store.ListOptions{Limit: 4, Continue: tok, LabelSelector: "even=true"})
		if err != nil {
			t.Fatal(err)
		}
		even = append(even, names(page.Items)...)
		if tok = page.Continue; tok == "" {
			break
		}
	}
	if len(even) != 13 {
		t.Fatalf("even pods over pages: %d (%v), want 13", len(even), even)
	}
	_, err = s.List(ctx, api.KindPod, store.ListOptions{Continue: "not a token"})
	wantErr(t, "List with a bad continue token", err, store.ErrInvalid)
}

func testPaginationCompacted(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for i := range 5 {
		mustCreate(t, s, pod("ns", fmt.Sprintf("p%d", i), nil))
	}
	first, err := s.List(ctx, api.KindPod, store.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, pod("ns", "later", nil))
	rev, _ := s.Revision(ctx)
	if err := s.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	_, err = s.List(ctx, api.KindPod, store.ListOptions{Limit: 2, Continue: first.Continue})
	wantErr(t, "continue a list at a compacted revision", err, store.ErrCompacted)
}

func testCompaction(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	a := mustCreate(t, s, pod("ns", "a", nil))
	b := mustCreate(t, s, pod("ns", "b", nil))
	if _, err := s.Delete(ctx, api.KindPod, "ns", "a", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, pod("ns", "c", nil))
	if err := s.Compact(ctx, rv(b)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Watch(ctx, api.KindPod, store.WatchOptions{Revision: rv(a)})
	wantErr(t, "watch from a compacted revision", err, store.ErrCompacted)
	// From the compaction revision itself every later change is there.
	w := watch(t, s, api.KindPod, store.WatchOptions{Revision: rv(b)})
	expectEvent(t, w, store.EventDeleted, "a")
	expectEvent(t, w, store.EventAdded, "c")
	// State is untouched by compaction.
	res, err := s.List(ctx, api.KindPod, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(res.Items); !slices.Equal(got, []string{"ns/b", "ns/c"}) {
		t.Fatalf("after compaction List = %v", got)
	}
	// Compacting to the present is allowed; watches from it see new writes.
	rev, _ := s.Revision(ctx)
	if err := s.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	w2 := watch(t, s, api.KindPod, store.WatchOptions{Revision: rev})
	mustCreate(t, s, pod("ns", "d", nil))
	expectEvent(t, w2, store.EventAdded, "d")
	expectEvent(t, w, store.EventAdded, "d")
}
