// Package queue is the scheduling queue: pods waiting for a node, in three
// sub-queues. Active pods are popped by priority (spec.priority, highest
// first) then age; pods that failed wait out an exponential backoff in the
// backoff queue; pods found unschedulable wait in the unschedulable set until
// a cluster event that one of the plugins that rejected them cares about (a
// node added, a pod deleted, ...) moves them back, or until they have waited
// MaxUnschedulable as a fallback.
package queue

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

// QueuedPod is a pod in the queue with its scheduling history.
type QueuedPod struct {
	Info *framework.PodInfo
	// Timestamp is when the pod last entered the active queue.
	Timestamp time.Time
	// Attempts counts scheduling attempts.
	Attempts int
	// UnschedulablePlugins are the plugins that rejected the pod last time.
	UnschedulablePlugins map[string]bool
	// Cycle is the scheduling cycle in which the pod was last popped.
	Cycle int64

	where         int // one of the where* constants
	backoffExpiry time.Time
	unschedSince  time.Time
	index         int
	deleted       bool
	latest        *api.Pod
}

const (
	whereNone = iota
	whereActive
	whereBackoff
	whereUnschedulable
	whereInFlight
)

// Config tunes a Queue.
type Config struct {
	// InitialBackoff after the first failure (default 1s), doubled per
	// attempt up to MaxBackoff (default 10s).
	InitialBackoff, MaxBackoff time.Duration
	// MaxUnschedulable is how long a pod waits in the unschedulable set
	// without a relevant event before it is retried anyway (default 5m).
	MaxUnschedulable time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Interested reports whether an event may help a pod (default: always).
	Interested func(qp *QueuedPod, ev framework.ClusterEvent) bool
}

// Queue is the scheduling queue. All methods are safe for concurrent use.
type Queue struct {
	cfg  Config
	mu   sync.Mutex
	cond *sync.Cond
	pods map[string]*QueuedPod
	// unsched holds the pods with where == whereUnschedulable.
	unsched map[string]*QueuedPod
	active  podHeap
	back    podHeap
	closed  bool

	cycle            int64
	moveRequestCycle int64
}

// New returns an empty queue.
func New(cfg Config) *Queue {
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.MaxUnschedulable <= 0 {
		cfg.MaxUnschedulable = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interested == nil {
		cfg.Interested = func(*QueuedPod, framework.ClusterEvent) bool { return true }
	}
	q := &Queue{cfg: cfg, pods: make(map[string]*QueuedPod), unsched: make(map[string]*QueuedPod)}
	q.active.less = func(a, b *QueuedPod) bool {
		pa, pb := a.Info.Pod.GetSpec().GetPriority(), b.Info.Pod.GetSpec().GetPriority()
		if pa != pb {
			return pa > pb
		}
		return a.Timestamp.Before(b.Timestamp)
	}
	q.back.less = func(a, b *QueuedPod) bool { return a.backoffExpiry.Before(b.backoffExpiry) }
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *Queue) pushActive(qp *QueuedPod) {
	qp.where = whereActive
	qp.Timestamp = q.cfg.Now()
	heap.Push(&q.active, qp)
	q.cond.Signal()
}

func (q *Queue) unlink(qp *QueuedPod) {
	switch qp.where {
	case whereActive:
		heap.Remove(&q.active, qp.index)
	case whereBackoff:
		heap.Remove(&q.back, qp.index)
	case whereUnschedulable:
		delete(q.unsched, qp.Info.Key())
	}
	qp.where = whereNone
}

// Add queues a new pending pod (or updates it if already queued).
func (q *Queue) Add(pod *api.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := framework.PodKey(pod)
	if qp, ok := q.pods[key]; ok {
		q.updateLocked(qp, pod)
		return
	}
	qp := &QueuedPod{Info: framework.NewPodInfo(pod)}
	q.pods[key] = qp
	q.pushActive(qp)
}

// Update records a changed pending pod. A pod waiting as unschedulable whose
// spec or labels changed is retried at once.
func (q *Queue) Update(pod *api.Pod) {
	q.Add(pod)
}

func (q *Queue) updateLocked(qp *QueuedPod, pod *api.Pod) {
	if qp.where == whereInFlight {
		qp.latest = pod
		return
	}
	old := qp.Info.Pod
	changed := !sameSchedulingInput(old, pod)
	qp.Info = framework.NewPodInfo(pod)
	switch qp.where {
	case whereActive:
		heap.Fix(&q.active, qp.index)
	case whereUnschedulable:
		if changed {
			q.unlink(qp)
			q.pushActive(qp)
		}
	}
}

// Delete removes a pod that was deleted or got a node.
func (q *Queue) Delete(pod *api.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := framework.PodKey(pod)
	qp, ok := q.pods[key]
	if !ok {
		return
	}
	if qp.where == whereInFlight {
		qp.deleted = true
		return
	}
	q.unlink(qp)
	delete(q.pods, key)
}

// Pop blocks until a pod is active and returns it, now in flight. It fails
// when ctx ends or the queue is closed.
func (q *Queue) Pop(ctx context.Context) (*QueuedPod, error) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active.Len() == 0 {
		if q.closed {
			return nil, context.Canceled
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.cond.Wait()
	}
	qp := heap.Pop(&q.active).(*QueuedPod)
	q.cycle++
	qp.Cycle = q.cycle
	qp.Attempts++
	qp.where = whereInFlight
	return qp, nil
}

// Done ends a pod's cycle when it was assumed on a node (it leaves the queue).
func (q *Queue) Done(qp *QueuedPod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := qp.Info.Key()
	if cur, ok := q.pods[key]; ok && cur == qp {
		delete(q.pods, key)
	}
	qp.where = whereNone
}

// Requeue ends a failed cycle. unschedulable says the plugins rejected the
// pod (it waits for an event); otherwise (an error, a bind conflict) it
// waits out its backoff. A pod deleted meanwhile is dropped.
func (q *Queue) Requeue(qp *QueuedPod, unschedulable bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := qp.Info.Key()
	if cur, ok := q.pods[key]; !ok || cur != qp {
		// Bound and confirmed, or replaced: nothing to requeue. A pod that
		// left the queue through Done can come back after a bind failure.
		if ok || qp.deleted {
			return
		}
		q.pods[key] = qp
	}
	if qp.deleted {
		delete(q.pods, key)
		qp.where = whereNone
		return
	}
	if qp.latest != nil {
		qp.Info = framework.NewPodInfo(qp.latest)
		qp.latest = nil
	}
	now := q.cfg.Now()
	if unschedulable && q.moveRequestCycle < qp.Cycle {
		qp.where = whereUnschedulable
		qp.unschedSince = now
		q.unsched[key] = qp
		return
	}
	q.pushBackoff(qp, now)
}

func (q *Queue) backoffDuration(qp *QueuedPod) time.Duration {
	d := q.cfg.InitialBackoff
	for i := 1; i < qp.Attempts && d < q.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, q.cfg.MaxBackoff)
}

func (q *Queue) pushBackoff(qp *QueuedPod, now time.Time) {
	qp.backoffExpiry = now.Add(q.backoffDuration(qp))
	qp.where = whereBackoff
	heap.Push(&q.back, qp)
}

// MoveOnEvent moves the unschedulable pods that ev may help to the backoff
// queue (or straight to active if their backoff has passed).
func (q *Queue) MoveOnEvent(ev framework.ClusterEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveRequestCycle = q.cycle
	now := q.cfg.Now()
	for _, qp := range q.unsched {
		if q.cfg.Interested(qp, ev) {
			q.moveLocked(qp, now)
		}
	}
}

func (q *Queue) moveLocked(qp *QueuedPod, now time.Time) {
	q.unlink(qp)
	if exp := qp.unschedSince.Add(q.backoffDuration(qp)); exp.After(now) {
		qp.backoffExpiry = exp
		qp.where = whereBackoff
		heap.Push(&q.back, qp)
		return
	}
	q.pushActive(qp)
}

// Flush moves pods whose backoff has passed to active, and pods unschedulable
// for longer than MaxUnschedulable to backoff or active.
func (q *Queue) Flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.cfg.Now()
	for q.back.Len() > 0 && !q.back.items[0].backoffExpiry.After(now) {
		qp := heap.Pop(&q.back).(*QueuedPod)
		q.pushActive(qp)
	}
	for _, qp := range q.unsched {
		if now.Sub(qp.unschedSince) >= q.cfg.MaxUnschedulable {
			q.moveLocked(qp, now)
		}
	}
}

// Run flushes every interval until ctx ends, then closes the queue so Pop
// returns.
func (q *Queue) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			q.mu.Lock()
			q.closed = true
			q.cond.Broadcast()
			q.mu.Unlock()
			return
		case <-t.C:
			q.Flush()
		}
	}
}

// Len returns the number of pods in each sub-queue: active, backoff,
// unschedulable, in flight.
func (q *Queue) Len() (active, backoff, unschedulable, inFlight int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, qp := range q.pods {
		switch qp.where {
		case whereActive:
			active++
		case whereBackoff:
			backoff++
		case whereUnschedulable:
			unschedulable++
		case whereInFlight:
			inFlight++
		}
	}
	return
}

// sameSchedulingInput reports whether two versions of a pod schedule the
// same: the same spec and labels (status changes, such as the scheduler's
// own PodScheduled condition, do not count).
func sameSchedulingInput(a, b *api.Pod) bool {
	if a.GetMetadata().GetGeneration() != b.GetMetadata().GetGeneration() {
		return false
	}
	al, bl := a.GetMetadata().GetLabels(), b.GetMetadata().GetLabels()
	if len(al) != len(bl) {
		return false
	}
	for k, v := range al {
		if w, ok := bl[k]; !ok || w != v {
			return false
		}
	}
	return true
}

type podHeap struct {
	items []*QueuedPod
	less  func(a, b *QueuedPod) bool
}

func (h *podHeap) Len() int           { return len(h.items) }
func (h *podHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *podHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index = i
	h.items[j].index = j
}
func (h *podHeap) Push(x any) {
	qp := x.(*QueuedPod)
	qp.index = len(h.items)
	h.items = append(h.items, qp)
}
func (h *podHeap) Pop() any {
	n := len(h.items)
	qp := h.items[n-1]
	h.items[n-1] = nil
	h.items = h.items[:n-1]
	return qp
}
