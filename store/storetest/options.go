package storetest

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// testWriteOptions checks that store.Consume and store.SharedResult change
// only what a caller may do, never what a write does: for every
// combination, each write leaves the same stored state and returns the
// same content as without options, failures leave nothing behind, and
// results the caller owns stay independent of the store.
func testWriteOptions(t *testing.T, s store.Store) {
	combos := []struct {
		name string
		opts []store.WriteOption
	}{
		{"none", nil},
		{"Consume", []store.WriteOption{store.Consume()}},
		{"SharedResult", []store.WriteOption{store.SharedResult()}},
		{"Consume+SharedResult", []store.WriteOption{store.Consume(), store.SharedResult()}},
	}
	for i, c := range combos {
		t.Run(c.name, func(t *testing.T) {
			ctx := ctxFor(t)
			name := fmt.Sprintf("opt-%d", i)
			get := func() *api.Pod { return asPod(t)(s.Get(ctx, api.KindPod, "ns", name)) }
			check := func(what string, res *api.Pod) {
				t.Helper()
				if got := get(); !proto.Equal(res, got) {
					t.Fatalf("%s returned %v, stored %v", what, res, got)
				}
			}

			// Create stores the object as given (status included).
			in := pod("ns", name, map[string]string{"app": "web"})
			in.Status = &api.PodStatus{Phase: "Pending"}
			created := asPod(t)(s.Create(ctx, in, c.opts...))
			if m := created.GetMetadata(); m.GetUid() == "" || m.GetGeneration() != 1 || created.GetStatus().GetPhase() != "Pending" {
				t.Fatalf("Create: %v", created)
			}
			check("Create", created)

			// Update replaces everything but the status, which stays as
			// stored whatever the object passed in carries.
			upd := get()
			upd.Spec.Containers[0].Image = "nginx"
			upd.Status = &api.PodStatus{Phase: "Failed"}
			updated := asPod(t)(s.Update(ctx, upd, c.opts...))
			if updated.Spec.Containers[0].Image != "nginx" || updated.GetStatus().GetPhase() != "Pending" || updated.Metadata.Generation != 2 {
				t.Fatalf("Update: %v", updated)
			}
			check("Update", updated)

			// UpdateStatus replaces only the status.
			st := get()
			st.Status = &api.PodStatus{Phase: "Running"}
			st.Spec.Containers[0].Image = "ignored"
			st.Metadata.Labels = map[string]string{"ignored": "yes"}
			status := asPod(t)(s.UpdateStatus(ctx, st, c.opts...))
			if status.GetStatus().GetPhase() != "Running" || status.Spec.Containers[0].Image != "nginx" || status.Metadata.Labels["app"] != "web" {
				t.Fatalf("UpdateStatus: %v", status)
			}
			check("UpdateStatus", status)

			// An update that changes nothing is still not a write.
			same := asPod(t)(s.Update(ctx, get(), c.opts...))
			if rv(same) != rv(status) {
				t.Fatalf("no-op Update moved resourceVersion %d -> %d", rv(status), rv(same))
			}

			// A failed write changes nothing.
			stale := get()
			stale.Metadata.ResourceVersion = rv(created)
			stale.Spec.Containers[0].Image = "stale"
			_, err := s.Update(ctx, stale, c.opts...)
			wantErr(t, "stale Update", err, store.ErrConflict)
			dup := pod("ns", name, nil)
			_, err = s.Create(ctx, dup, c.opts...)
			wantErr(t, "Create of an existing name", err, store.ErrAlreadyExists)
			check("after failed writes", status)

			// Secret stringData is merged whoever owns the object.
			sec := &api.Secret{Metadata: &api.ObjectMeta{Namespace: "ns", Name: name}, StringData: map[string]string{"k": "v"}}
			gotSec, err := s.Create(ctx, sec, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if d := gotSec.(*api.Secret).GetData()["k"]; string(d) != "v" || len(gotSec.(*api.Secret).GetStringData()) != 0 {
				t.Fatalf("Secret stringData not merged: %v", gotSec)
			}

			// What a caller owns without SharedResult is its own.
			if !store.ApplyWriteOptions(c.opts).SharedResult {
				status.Spec.Containers[0].Image = "mutated"
				status.Metadata.Labels["app"] = "mutated"
				if got := get(); got.Spec.Containers[0].Image != "nginx" || got.Metadata.Labels["app"] != "web" {
					t.Fatalf("mutating an owned result changed the store: %v", got)
				}
			}
		})
	}
}
