package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

func testCRUD(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	created := asPod(t)(s.Create(ctx, pod("ns", "p1", map[string]string{"app": "web"})))
	m := created.GetMetadata()
	if m.GetUid() == "" || m.GetResourceVersion() <= 0 || m.GetGeneration() != 1 || m.GetCreationTimestamp() == nil {
		t.Fatalf("created metadata not set by the store: %v", m)
	}
	if m.GetDeletionTimestamp() != nil {
		t.Fatalf("new object has a deletionTimestamp")
	}
	rev, err := s.Revision(ctx)
	if err != nil || rev != m.GetResourceVersion() {
		t.Fatalf("Revision() = %d, %v; want %d", rev, err, m.GetResourceVersion())
	}
	got := asPod(t)(s.Get(ctx, api.KindPod, "ns", "p1"))
	if !proto.Equal(got, created) {
		t.Fatalf("Get = %v, want %v", got, created)
	}
	got = asPod(t)(s.Get(ctx, api.KindPod, "ns", "p1", store.Linearizable()))
	if !proto.Equal(got, created) {
		t.Fatalf("linearizable Get = %v, want %v", got, created)
	}

	got.Spec.Containers[0].Image = "nginx"
	updated := asPod(t)(s.Update(ctx, got))
	if rv(updated) <= rv(created) || updated.Spec.Containers[0].Image != "nginx" {
		t.Fatalf("Update: rv %d -> %d, image %q", rv(created), rv(updated), updated.Spec.Containers[0].Image)
	}
	// Stale resourceVersion.
	_, err = s.Update(ctx, got)
	wantErr(t, "Update with stale resourceVersion", err, store.ErrConflict)
	// resourceVersion 0: unconditional.
	got.Metadata.ResourceVersion = 0
	got.Metadata.Labels = map[string]string{"app": "db"}
	if _, err := s.Update(ctx, got); err != nil {
		t.Fatalf("unconditional Update: %v", err)
	}

	del, err := s.Delete(ctx, api.KindPod, "ns", "p1", store.DeleteOptions{})
	if err != nil || del.GetMetadata().GetName() != "p1" {
		t.Fatalf("Delete = %v, %v", del, err)
	}
	_, err = s.Get(ctx, api.KindPod, "ns", "p1")
	wantErr(t, "Get after Delete", err, store.ErrNotFound)
	after, _ := s.Revision(ctx)
	if after <= rv(updated) {
		t.Fatalf("Delete did not bump the revision: %d", after)
	}
	// The name is free again, with a new uid.
	again := mustCreate(t, s, pod("ns", "p1", nil))
	if again.GetMetadata().GetUid() == m.GetUid() {
		t.Fatal("re-created object kept the old uid")
	}
}

func testErrorClasses(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	mustCreate(t, s, pod("ns", "p1", nil))
	_, err := s.Create(ctx, pod("ns", "p1", nil))
	wantErr(t, "Create existing", err, store.ErrAlreadyExists)
	_, err = s.Get(ctx, api.KindPod, "ns", "missing")
	wantErr(t, "Get missing", err, store.ErrNotFound)
	_, err = s.Get(ctx, api.KindPod, "other", "p1")
	wantErr(t, "Get in another namespace", err, store.ErrNotFound)
	_, err = s.Update(ctx, pod("ns", "missing", nil))
	wantErr(t, "Update missing", err, store.ErrNotFound)
	_, err = s.UpdateStatus(ctx, pod("ns", "missing", nil))
	wantErr(t, "UpdateStatus missing", err, store.ErrNotFound)
	_, err = s.Delete(ctx, api.KindPod, "ns", "missing", store.DeleteOptions{})
	wantErr(t, "Delete missing", err, store.ErrNotFound)
	_, err = s.Create(ctx, pod("ns", "", nil))
	wantErr(t, "Create without name", err, store.ErrInvalid)
	_, err = s.Create(ctx, pod("", "nons", nil))
	wantErr(t, "Create namespaced without namespace", err, store.ErrInvalid)
	_, err = s.Get(ctx, "NoSuchKind", "ns", "x")
	wantErr(t, "Get of an unknown kind", err, store.ErrInvalid)
	_, err = s.List(ctx, api.KindPod, store.ListOptions{LabelSelector: "a in b"})
	wantErr(t, "List with a bad label selector", err, store.ErrInvalid)
	_, err = s.List(ctx, api.KindPod, store.ListOptions{FieldSelector: "spec.noSuchField=x"})
	wantErr(t, "List with an unknown field", err, store.ErrInvalid)
	_, err = s.Watch(ctx, api.KindPod, store.WatchOptions{FieldSelector: "spec.nodeName"})
	wantErr(t, "Watch with a bad field selector", err, store.ErrInvalid)
}

func testCallerOwnsObjects(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	in := pod("ns", "p1", map[string]string{"app": "web"})
	orig := proto.Clone(in)
	out := asPod(t)(s.Create(ctx, in))
	if !proto.Equal(in, orig) {
		t.Fatalf("Create modified its argument: %v", in)
	}
	out.Metadata.Labels["app"] = "mutated"
	out.Spec.Containers[0].Image = "mutated"
	got := asPod(t)(s.Get(ctx, api.KindPod, "ns", "p1"))
	if got.Metadata.Labels["app"] != "web" || got.Spec.Containers[0].Image != "busybox" {
		t.Fatalf("mutating a returned object changed the store: %v", got)
	}
	got.Metadata.Labels["app"] = "mutated-again"
	list, err := s.List(ctx, api.KindPod, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l := list.Items[0].GetMetadata().GetLabels()["app"]; l != "web" {
		t.Fatalf("List sees a caller's mutation: %q", l)
	}
	upd := proto.Clone(list.Items[0]).(*api.Pod)
	upd.Spec.NodeName = "n1"
	updOrig := proto.Clone(upd)
	if _, err := s.Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(upd, updOrig) {
		t.Fatal("Update modified its argument")
	}
}

func testMetadataRules(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	in := pod("ns", "p1", nil)
	in.Metadata.Uid = "caller-chosen"
	in.Metadata.ResourceVersion = 99
	in.Metadata.Generation = 42
	c := asPod(t)(s.Create(ctx, in))
	if c.Metadata.Uid == "caller-chosen" || c.Metadata.Generation != 1 {
		t.Fatalf("store kept caller's uid/generation: %v", c.Metadata)
	}
	uid, created := c.Metadata.Uid, c.Metadata.CreationTimestamp

	// Metadata-only change: generation stays.
	c.Metadata.Labels = map[string]string{"a": "b"}
	c.Metadata.Annotations = map[string]string{"note": "x"}
	u1 := asPod(t)(s.Update(ctx, c))
	if u1.Metadata.Generation != 1 {
		t.Fatalf("label change bumped generation to %d", u1.Metadata.Generation)
	}
	// Spec change: generation bumps; uid and creationTimestamp stay even if
	// the caller tries to change them.
	u1.Spec.Containers[0].Image = "nginx"
	u1.Metadata.Uid = ""
	u1.Metadata.CreationTimestamp = nil
	u2 := asPod(t)(s.Update(ctx, u1))
	if u2.Metadata.Generation != 2 {
		t.Fatalf("spec change: generation %d, want 2", u2.Metadata.Generation)
	}
	if u2.Metadata.Uid != uid || !proto.Equal(u2.Metadata.CreationTimestamp, created) {
		t.Fatalf("uid or creationTimestamp changed: %v", u2.Metadata)
	}
	// Update with a different uid is a failed precondition.
	u2.Metadata.Uid = "other"
	_, err := s.Update(ctx, u2)
	wantErr(t, "Update with another uid", err, store.ErrConflict)

	// Every write's resourceVersion is the store revision after it, and
	// strictly increases.
	last := rv(u2)
	for i := range 5 {
		cm := &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "cm" + string(rune('a'+i))}}
		out := mustCreate(t, s, cm)
		rev, _ := s.Revision(ctx)
		if rv(out) != rev || rv(out) <= last {
			t.Fatalf("write %d: resourceVersion %d, revision %d, previous %d", i, rv(out), rev, last)
		}
		last = rv(out)
	}
	// Kinds without spec bump generation when their data changes.
	cm := mustCreate(t, s, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "data"}, Data: map[string]string{"k": "v"}}).(*api.ConfigMap)
	cm.Data["k"] = "v2"
	out, err := s.Update(ctx, cm)
	if err != nil {
		t.Fatal(err)
	}
	if g := out.GetMetadata().GetGeneration(); g != 2 {
		t.Fatalf("ConfigMap data change: generation %d, want 2", g)
	}
}

func testUpdateStatus(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	c := asPod(t)(s.Create(ctx, pod("ns", "p1", nil)))
	// Update ignores status.
	c.Status = &api.PodStatus{Phase: "Running"}
	u := asPod(t)(s.Update(ctx, c))
	if u.GetStatus().GetPhase() != "" {
		t.Fatalf("Update wrote status: %v", u.Status)
	}
	// UpdateStatus writes only status.
	u.Status = &api.PodStatus{Phase: "Running", PodIp: "10.0.0.2"}
	u.Spec.Containers[0].Image = "ignored"
	u.Metadata.Labels = map[string]string{"ignored": "yes"}
	st := asPod(t)(s.UpdateStatus(ctx, u))
	if st.Status.GetPhase() != "Running" || st.Status.GetPodIp() != "10.0.0.2" {
		t.Fatalf("status not written: %v", st.Status)
	}
	if st.Spec.Containers[0].Image != "busybox" || len(st.Metadata.Labels) != 0 {
		t.Fatalf("UpdateStatus changed more than status: %v", st)
	}
	if st.Metadata.Generation != u.Metadata.Generation || rv(st) <= rv(u) {
		t.Fatalf("UpdateStatus: generation %d (was %d), rv %d (was %d)", st.Metadata.Generation, u.Metadata.Generation, rv(st), rv(u))
	}
	_, err := s.UpdateStatus(ctx, u)
	wantErr(t, "UpdateStatus with stale resourceVersion", err, store.ErrConflict)
	got := asPod(t)(s.Get(ctx, api.KindPod, "ns", "p1"))
	if !proto.Equal(got, st) {
		t.Fatalf("Get after UpdateStatus = %v, want %v", got, st)
	}
	// Status survives a later Update.
	got.Metadata.Labels = map[string]string{"a": "b"}
	kept := asPod(t)(s.Update(ctx, got))
	if kept.Status.GetPhase() != "Running" {
		t.Fatalf("Update dropped status: %v", kept.Status)
	}
}

func testNoOpUpdate(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	c := asPod(t)(s.Create(ctx, pod("ns", "p", map[string]string{"a": "b"})))
	st := proto.Clone(c).(*api.Pod)
	st.Status = &api.PodStatus{Phase: "Running"}
	c = asPod(t)(s.UpdateStatus(ctx, st))
	w := watch(t, s, api.KindPod, store.WatchOptions{})
	same := asPod(t)(s.Update(ctx, proto.Clone(c).(*api.Pod)))
	if rv(same) != rv(c) || !proto.Equal(same, c) {
		t.Fatalf("no-op Update wrote: rv %d -> %d", rv(c), rv(same))
	}
	same = asPod(t)(s.UpdateStatus(ctx, proto.Clone(c).(*api.Pod)))
	if rv(same) != rv(c) {
		t.Fatalf("no-op UpdateStatus wrote: rv %d -> %d", rv(c), rv(same))
	}
	if rev, _ := s.Revision(ctx); rev != rv(c) {
		t.Fatalf("no-op updates moved the revision to %d from %d", rev, rv(c))
	}
	// The next event the watch sees is a real change.
	c.Metadata.Labels["a"] = "c"
	asPod(t)(s.Update(ctx, c))
	ev := expectEvent(t, w, store.EventModified, "p")
	if ev.Object.GetMetadata().GetLabels()["a"] != "c" {
		t.Fatalf("first event after no-op updates: %v", ev.Object)
	}
}

func testGenerateName(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	names := map[string]bool{}
	for range 20 {
		p := pod("ns", "", nil)
		p.Metadata.GenerateName = "web-"
		out := asPod(t)(s.Create(ctx, p))
		n := out.Metadata.Name
		if !strings.HasPrefix(n, "web-") || len(n) <= len("web-") {
			t.Fatalf("generated name %q", n)
		}
		if names[n] {
			t.Fatalf("generated name %q twice", n)
		}
		names[n] = true
		if _, err := s.Get(ctx, api.KindPod, "ns", n); err != nil {
			t.Fatal(err)
		}
	}
}

func testSecretStringData(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	sec := &api.Secret{
		Metadata:   &api.ObjectMeta{Namespace: "ns", Name: "s"},
		Data:       map[string][]byte{"a": []byte("1"), "b": []byte("old")},
		StringData: map[string]string{"b": "2", "c": "3"},
	}
	out, err := s.Create(ctx, sec)
	if err != nil {
		t.Fatal(err)
	}
	check := func(obj api.Object, want map[string]string) {
		t.Helper()
		got := obj.(*api.Secret)
		if len(got.StringData) != 0 {
			t.Fatalf("stringData stored: %v", got.StringData)
		}
		if len(got.Data) != len(want) {
			t.Fatalf("data = %v, want %v", got.Data, want)
		}
		for k, v := range want {
			if string(got.Data[k]) != v {
				t.Fatalf("data[%s] = %q, want %q", k, got.Data[k], v)
			}
		}
	}
	check(out, map[string]string{"a": "1", "b": "2", "c": "3"})
	got, err := s.Get(ctx, api.KindSecret, "ns", "s")
	if err != nil {
		t.Fatal(err)
	}
	check(got, map[string]string{"a": "1", "b": "2", "c": "3"})
	upd := got.(*api.Secret)
	upd.StringData = map[string]string{"a": "x"}
	out, err = s.Update(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	check(out, map[string]string{"a": "x", "b": "2", "c": "3"})
}

func testClusterScoped(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	n := &api.Node{Metadata: &api.ObjectMeta{Name: "n1"}}
	mustCreate(t, s, n)
	if _, err := s.Get(ctx, api.KindNode, "", "n1"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: "n2", Namespace: "ns"}})
	wantErr(t, "Create cluster-scoped object with a namespace", err, store.ErrInvalid)
	res, err := s.List(ctx, api.KindNode, store.ListOptions{})
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("List nodes = %v, %v", res, err)
	}
}

func testContextCancellation(t *testing.T, s store.Store) {
	mustCreate(t, s, pod("ns", "p1", nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	checks := map[string]error{}
	_, checks["Create"] = s.Create(ctx, pod("ns", "p2", nil))
	_, checks["Get"] = s.Get(ctx, api.KindPod, "ns", "p1")
	_, checks["List"] = s.List(ctx, api.KindPod, store.ListOptions{})
	_, checks["Update"] = s.Update(ctx, pod("ns", "p1", nil))
	_, checks["Delete"] = s.Delete(ctx, api.KindPod, "ns", "p1", store.DeleteOptions{})
	_, checks["Txn"] = s.Txn(ctx, store.CreateOp(pod("ns", "p3", nil)))
	_, checks["Watch"] = s.Watch(ctx, api.KindPod, store.WatchOptions{})
	for op, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error = %v, want context.Canceled", op, err)
		}
	}
	if _, err := s.Get(ctxFor(t), api.KindPod, "ns", "p2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Create with a cancelled context wrote anyway: %v", err)
	}
	if _, err := s.Get(ctxFor(t), api.KindPod, "ns", "p1"); err != nil {
		t.Fatalf("Delete with a cancelled context deleted anyway: %v", err)
	}

	// Cancelling a watch's context closes its channel.
	wctx, wcancel := context.WithCancel(context.Background())
	w, err := s.Watch(wctx, api.KindPod, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wcancel()
	drainUntilClosed(t, w)
	if err := w.Err(); err != nil {
		t.Fatalf("Err after context end = %v, want nil", err)
	}
}

func testTyped(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	pods := store.For[*api.Pod](s)
	if pods.Kind() != api.KindPod {
		t.Fatalf("Kind() = %q", pods.Kind())
	}
	_, err := pods.Create(ctx, pod("ns", "p1", nil))
	if err != nil {
		t.Fatal(err)
	}
	p, err := pods.Mutate(ctx, "ns", "p1", func(p *api.Pod) error {
		p.Spec.NodeName = "n1"
		return nil
	})
	if err != nil || p.Spec.NodeName != "n1" {
		t.Fatalf("Mutate = %v, %v", p, err)
	}
	p, err = pods.MutateStatus(ctx, "ns", "p1", func(p *api.Pod) error {
		p.Status = &api.PodStatus{Phase: "Running"}
		return nil
	})
	if err != nil || p.Status.GetPhase() != "Running" {
		t.Fatalf("MutateStatus = %v, %v", p, err)
	}
	list, rev, err := pods.List(ctx, store.ListOptions{FieldSelector: "spec.nodeName=n1"})
	if err != nil || len(list) != 1 || rev != rv(p) {
		t.Fatalf("typed List = %d items at %d, %v", len(list), rev, err)
	}
}
