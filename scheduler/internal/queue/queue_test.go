package queue

import (
	"context"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func pod(name string, prio int32) *api.Pod {
	return &api.Pod{Metadata: &api.ObjectMeta{Name: name, Namespace: "ns", Uid: name}, Spec: &api.PodSpec{Priority: prio}}
}

func newQueue(clk *fakeClock, interested func(*QueuedPod, framework.ClusterEvent) bool) *Queue {
	return New(Config{InitialBackoff: time.Second, MaxBackoff: 4 * time.Second, MaxUnschedulable: time.Minute, Now: clk.now, Interested: interested})
}

func pop(t *testing.T, q *Queue) *QueuedPod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	qp, err := q.Pop(ctx)
	if err != nil {
		t.Fatalf("pop: %v", err)
	}
	return qp
}

func TestPriorityOrder(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk, nil)
	q.Add(pod("low", 0))
	clk.t = clk.t.Add(time.Millisecond)
	q.Add(pod("high", 10))
	clk.t = clk.t.Add(time.Millisecond)
	q.Add(pod("low2", 0))
	for _, want := range []string{"high", "low", "low2"} {
		if got := pop(t, q).Info.Pod.Metadata.Name; got != want {
			t.Fatalf("popped %s, want %s", got, want)
		}
	}
}

func TestUnschedulableWaitsForEvent(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk, func(qp *QueuedPod, ev framework.ClusterEvent) bool {
		return ev.Resource == framework.ResourceNode
	})
	q.Add(pod("p", 0))
	qp := pop(t, q)
	q.Requeue(qp, true)
	if a, b, u, _ := q.Len(); a != 0 || b != 0 || u != 1 {
		t.Fatalf("len after requeue: active %d backoff %d unsched %d", a, b, u)
	}
	// An event nobody cares about changes nothing.
	q.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceAssignedPod, Action: framework.ActionAdd})
	clk.t = clk.t.Add(10 * time.Second)
	q.Flush()
	if _, _, u, _ := q.Len(); u != 1 {
		t.Fatal("pod left unschedulable without a relevant event")
	}
	q.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceNode, Action: framework.ActionAdd})
	if a, _, _, _ := q.Len(); a != 1 {
		t.Fatal("node event did not activate the pod (its backoff has passed)")
	}
	if pop(t, q).Attempts != 2 {
		t.Fatal("attempts not counted")
	}
}

func TestBackoffAndFallback(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk, func(*QueuedPod, framework.ClusterEvent) bool { return false })
	q.Add(pod("p", 0))
	qp := pop(t, q)
	q.Requeue(qp, false) // error: backoff 1s
	q.Flush()
	if _, b, _, _ := q.Len(); b != 1 {
		t.Fatal("pod not backing off")
	}
	clk.t = clk.t.Add(time.Second)
	q.Flush()
	qp = pop(t, q)
	q.Requeue(qp, true)
	clk.t = clk.t.Add(59 * time.Second)
	q.Flush()
	if _, _, u, _ := q.Len(); u != 1 {
		t.Fatal("moved before MaxUnschedulable")
	}
	clk.t = clk.t.Add(time.Second)
	q.Flush()
	if a, _, _, _ := q.Len(); a != 1 {
		t.Fatal("not moved after MaxUnschedulable")
	}
}

func TestMoveDuringCycleGoesToBackoff(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk, nil)
	q.Add(pod("p", 0))
	qp := pop(t, q)
	// A node appears while the pod is being scheduled: it must not be
	// parked as unschedulable, since the event may have made it fit.
	q.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceNode, Action: framework.ActionAdd})
	q.Requeue(qp, true)
	if _, b, u, _ := q.Len(); b != 1 || u != 0 {
		t.Fatalf("backoff %d unsched %d", b, u)
	}
}

func TestDeleteAndUpdate(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk, func(*QueuedPod, framework.ClusterEvent) bool { return false })
	q.Add(pod("gone", 0))
	q.Delete(pod("gone", 0))
	q.Add(pod("p", 0))
	qp := pop(t, q)
	q.Delete(pod("p", 0)) // deleted while in flight
	q.Requeue(qp, true)
	if a, b, u, f := q.Len(); a+b+u+f != 0 {
		t.Fatal("deleted pods still queued")
	}
	q.Add(pod("s", 0))
	qp = pop(t, q)
	q.Requeue(qp, true)
	// A status-only update leaves it parked; a spec change retries it.
	q.Update(pod("s", 0))
	if _, _, u, _ := q.Len(); u != 1 {
		t.Fatal("status-only update moved the pod")
	}
	changed := pod("s", 0)
	changed.Metadata.Generation = 2
	q.Update(changed)
	if a, _, _, _ := q.Len(); a != 1 {
		t.Fatal("spec change did not retry the pod")
	}
}

func TestPopHonoursContext(t *testing.T) {
	q := newQueue(&fakeClock{t: time.Unix(0, 0)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Pop(ctx); err == nil {
		t.Fatal("Pop on an empty queue with a cancelled context returned a pod")
	}
}
