package libcontainer

import (
	"context"
	"errors"
	"fmt"
	"time"

	lc "github.com/opencontainers/runc/libcontainer"

	"github.com/coxswain-io/coxswain/runtime"
)

// ContainerStats implements runtime.StatsProvider from the container's
// cgroup: CPU usage (cpuacct or cpu.stat), memory usage and working set
// (usage minus inactive file pages), pids.
func (r *Runtime) ContainerStats(ctx context.Context, id string) (*runtime.ContainerStats, error) {
	rec, err := r.current(id)
	if err != nil {
		return nil, err
	}
	if rec.Status.State != runtime.ContainerRunning {
		return nil, runtime.Errorf(runtime.ErrFailedPrecondition, "container %s is %s", id, rec.Status.State)
	}
	c, err := lc.Load(r.lcRoot(), id)
	if errors.Is(err, lc.ErrNotExist) {
		return nil, runtime.Errorf(runtime.ErrFailedPrecondition, "container %s is not running", id)
	}
	if err != nil {
		return nil, fmt.Errorf("container %s: load: %w", id, err)
	}
	st, err := c.Stats()
	if err != nil {
		return nil, fmt.Errorf("container %s: stats: %w", id, err)
	}
	cg := st.CgroupStats
	if cg == nil {
		return nil, fmt.Errorf("container %s: no cgroup stats", id)
	}
	mem := cg.MemoryStats
	usage := mem.Usage.Usage
	inactive := mem.Stats["total_inactive_file"]
	if v, ok := mem.Stats["inactive_file"]; ok && inactive == 0 {
		inactive = v
	}
	ws := uint64(0)
	if usage > inactive {
		ws = usage - inactive
	}
	return &runtime.ContainerStats{
		Timestamp:             time.Now(),
		CPUUsageNanos:         cg.CpuStats.CpuUsage.TotalUsage,
		MemoryWorkingSetBytes: ws,
		MemoryUsageBytes:      usage,
		Pids:                  cg.PidsStats.Current,
	}, nil
}
