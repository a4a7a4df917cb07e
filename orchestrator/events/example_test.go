package events_test

import (
	"context"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/events"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func ExampleRecorder() {
	ctx := context.Background()
	s := memstore.New()
	pod, _ := s.Create(ctx, &api.Pod{Metadata: &api.ObjectMeta{Namespace: "default", Name: "web"}})

	rec := events.NewRecorder(s, "my-controller")
	for range 3 {
		_, _ = rec.Event(ctx, pod, events.TypeWarning, "BackOff", "back-off restarting failed container")
	}
	ev, _ := rec.Eventf(ctx, pod, events.TypeWarning, "BackOff", "back-off restarting %s", "failed container")
	fmt.Println(ev.GetReason(), ev.GetInvolvedObject().GetKind(), ev.GetInvolvedObject().GetName(), "count:", ev.GetCount())
	// Output:
	// BackOff Pod web count: 4
}
