package runtime

import (
	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/resource"
)

// CPU shares and CFS period as Kubernetes sets them.
const (
	minShares        = 2
	maxShares        = 262144
	sharesPerCPU     = 1024
	defaultCPUPeriod = 100000 // microseconds
	minQuota         = 1000   // microseconds
)

// ResourcesFor turns a container's requests and limits into cgroup limits
// the way the kubelet does: cpu.shares from the CPU request (the limit when
// there is no request; 2 when neither is set), a CFS quota from the CPU
// limit over a 100 ms period, and the memory limit in bytes. Quantities
// are exact (api/resource) and round up.
func ResourcesFor(req *api.ResourceRequirements) (Resources, error) {
	var out Resources
	requests, err := resource.ParseList(req.GetRequests())
	if err != nil {
		return out, Errorf(ErrInvalid, "resources.requests: %v", err)
	}
	limits, err := resource.ParseList(req.GetLimits())
	if err != nil {
		return out, Errorf(ErrInvalid, "resources.limits: %v", err)
	}
	cpuReq, hasReq := requests[resource.CPU]
	cpuLim, hasLim := limits[resource.CPU]
	if !hasReq && hasLim {
		cpuReq, hasReq = cpuLim, true
	}
	out.CPUShares = minShares
	if hasReq {
		out.CPUShares = uint64(max(cpuReq.MilliValue()*sharesPerCPU/1000, minShares))
	}
	if hasLim {
		out.CPUPeriod = defaultCPUPeriod
		out.CPUQuota = max(cpuLim.MilliValue()*defaultCPUPeriod/1000, minQuota)
	}
	if mem, ok := limits[resource.Memory]; ok {
		if mem.Sign() <= 0 {
			return out, Errorf(ErrInvalid, "resources.limits.memory: %s is not positive", mem)
		}
		out.MemoryLimit = mem.Value()
	}
	if out.CPUShares > maxShares {
		return out, Errorf(ErrInvalid, "resources.requests.cpu: %s is above %d CPUs", cpuReq, maxShares/sharesPerCPU)
	}
	return out, nil
}
