package agent

import (
	"context"
	"strconv"
	"time"

	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/runtime"
)

// cpuSample is a container's cumulative CPU time at a moment.
type cpuSample struct {
	nanos uint64
	at    time.Time
}

// statsLoop measures the usage of every running pod each StatsInterval and
// queues the pod, whose next sync writes it into status.usage.
func (a *Agent) statsLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.StatsInterval)
	defer t.Stop()
	prev := map[string]cpuSample{} // by container id
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next := map[string]cpuSample{}
		a.mu.Lock()
		keys := make(map[string]string, len(a.state))
		for k, st := range a.state {
			keys[k] = st.uid
		}
		a.mu.Unlock()
		for key, uid := range keys {
			usage, ok := a.measure(ctx, uid, prev, next)
			if !ok {
				continue
			}
			a.mu.Lock()
			if st := a.state[key]; st != nil && st.uid == uid {
				st.usage, st.usageTime = usage, a.now()
			}
			a.mu.Unlock()
			a.queue.Add(key)
		}
		prev = next
	}
}

// measure sums the usage of pod uid's running containers: memory working
// set in bytes, and CPU in cores over the last interval (millicores). It
// reports false until a CPU rate can be computed.
func (a *Agent) measure(ctx context.Context, uid string, prev, next map[string]cpuSample) (map[string]string, bool) {
	ctrs, err := a.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{
		State: runtime.ContainerRunning, Labels: map[string]string{LabelNode: a.cfg.NodeName, LabelPodUID: uid},
	})
	if err != nil || len(ctrs) == 0 {
		return nil, false
	}
	var mem uint64
	var milli int64
	rated := false
	for _, c := range ctrs {
		s, err := a.cfg.Runtime.ContainerStats(ctx, c.ID)
		if err != nil {
			continue
		}
		mem += s.MemoryWorkingSetBytes
		next[c.ID] = cpuSample{nanos: s.CPUUsageNanos, at: s.Timestamp}
		if p, ok := prev[c.ID]; ok && s.Timestamp.After(p.at) && s.CPUUsageNanos >= p.nanos {
			milli += int64(float64(s.CPUUsageNanos-p.nanos) / float64(s.Timestamp.Sub(p.at).Nanoseconds()) * 1000)
			rated = true
		}
	}
	if !rated {
		return nil, false
	}
	return map[string]string{
		resource.CPU:    resource.NewMilliQuantity(milli).String(),
		resource.Memory: strconv.FormatUint(mem, 10),
	}, true
}
