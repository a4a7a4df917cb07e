package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// runtimeCollector reads the Go runtime's metrics (runtime/metrics and
// runtime/debug) and the process's (Linux /proc) each time it collects.
type runtimeCollector struct {
	proc string // the process's /proc directory

	bootOnce sync.Once
	boot     float64 // system boot time, seconds since the epoch; 0 if unknown
}

func newRuntimeCollector() *runtimeCollector {
	return &runtimeCollector{proc: "/proc/self"}
}

// The runtime/metrics samples the Go families are computed from, in this
// order.
var runtimeSampleNames = [...]string{
	"/sched/goroutines:goroutines",
	"/sched/gomaxprocs:threads",
	"/gc/gogc:percent",
	"/gc/gomemlimit:bytes",
	"/gc/heap/goal:bytes",
	"/gc/heap/objects:objects",
	"/gc/heap/allocs:bytes",
	"/gc/heap/allocs:objects",
	"/gc/heap/frees:objects",
	"/gc/heap/tiny/allocs:objects",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/os-stacks:bytes",
	"/memory/classes/total:bytes",
}

func (c *runtimeCollector) collect() []family {
	samples := make([]rtmetrics.Sample, len(runtimeSampleNames))
	for i, n := range runtimeSampleNames {
		samples[i].Name = n
	}
	rtmetrics.Read(samples)
	v := func(name string) float64 {
		for _, s := range samples {
			if s.Name == name && s.Value.Kind() == rtmetrics.KindUint64 {
				return float64(s.Value.Uint64())
			}
		}
		return 0 // not supported by this Go version
	}
	threads, _ := runtime.ThreadCreateProfile(nil)
	gc := debug.GCStats{PauseQuantiles: make([]time.Duration, 5)}
	debug.ReadGCStats(&gc)
	lastGC := 0.0
	if !gc.LastGC.IsZero() {
		lastGC = float64(gc.LastGC.UnixNano()) / 1e9
	}
	var pauses []sample
	for i, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		pauses = append(pauses, sample{labels: []label{{"quantile", q}}, value: gc.PauseQuantiles[i].Seconds()})
	}
	pauses = append(pauses, sample{suffix: "_sum", value: gc.PauseTotal.Seconds()}, sample{suffix: "_count", value: float64(gc.NumGC)})

	heapObjects := v("/memory/classes/heap/objects:bytes")
	heapUnused := v("/memory/classes/heap/unused:bytes")
	heapFree := v("/memory/classes/heap/free:bytes")
	heapReleased := v("/memory/classes/heap/released:bytes")
	stacks := v("/memory/classes/heap/stacks:bytes")
	tiny := v("/gc/heap/tiny/allocs:objects")
	one := func(name, typ, help string, value float64) family {
		return family{name: name, typ: typ, help: help, samples: []sample{{value: value}}}
	}
	fams := []family{
		one("go_goroutines", "gauge", "Goroutines that exist now.", v("/sched/goroutines:goroutines")),
		one("go_threads", "gauge", "Operating-system threads the Go runtime has created.", float64(threads)),
		{name: "go_info", typ: "gauge", help: "The Go version the program was built with, as a label; always 1.",
			samples: []sample{{labels: []label{{"version", runtime.Version()}}, value: 1}}},
		{name: "go_gc_duration_seconds", typ: "summary", help: "Stop-the-world pauses of garbage collection, in seconds (quantiles over the recent pauses).", samples: pauses},
		one("go_gc_gogc_percent", "gauge", "GOGC: the heap growth target, in percent.", v("/gc/gogc:percent")),
		one("go_gc_gomemlimit_bytes", "gauge", "GOMEMLIMIT: the runtime's soft memory limit, in bytes.", v("/gc/gomemlimit:bytes")),
		one("go_sched_gomaxprocs_threads", "gauge", "GOMAXPROCS: threads that may run Go code at once.", v("/sched/gomaxprocs:threads")),
		one("go_memstats_alloc_bytes", "gauge", "Bytes of live and not yet swept heap objects.", heapObjects),
		one("go_memstats_alloc_bytes_total", "counter", "Bytes allocated on the heap since the program started.", v("/gc/heap/allocs:bytes")),
		one("go_memstats_heap_alloc_bytes", "gauge", "Bytes of live and not yet swept heap objects (as go_memstats_alloc_bytes).", heapObjects),
		one("go_memstats_heap_idle_bytes", "gauge", "Heap bytes free for reuse or returned to the OS.", heapReleased+heapFree),
		one("go_memstats_heap_inuse_bytes", "gauge", "Heap bytes in spans that hold objects.", heapObjects+heapUnused),
		one("go_memstats_heap_objects", "gauge", "Live and not yet swept heap objects.", v("/gc/heap/objects:objects")),
		one("go_memstats_heap_released_bytes", "gauge", "Heap bytes returned to the OS.", heapReleased),
		one("go_memstats_heap_sys_bytes", "gauge", "Heap bytes mapped from the OS.", heapObjects+heapUnused+heapReleased+heapFree),
		one("go_memstats_last_gc_time_seconds", "gauge", "When the last garbage collection ended, in seconds since the Unix epoch (0 before the first).", lastGC),
		one("go_memstats_mallocs_total", "counter", "Heap objects allocated since the program started.", v("/gc/heap/allocs:objects")+tiny),
		one("go_memstats_frees_total", "counter", "Heap objects freed since the program started.", v("/gc/heap/frees:objects")+tiny),
		one("go_memstats_next_gc_bytes", "gauge", "Heap size at which the next garbage collection starts.", v("/gc/heap/goal:bytes")),
		one("go_memstats_stack_inuse_bytes", "gauge", "Bytes of goroutine stacks allocated from the heap.", stacks),
		one("go_memstats_stack_sys_bytes", "gauge", "Bytes of goroutine and OS thread stacks.", stacks+v("/memory/classes/os-stacks:bytes")),
		one("go_memstats_sys_bytes", "gauge", "Bytes of memory mapped by the Go runtime.", v("/memory/classes/total:bytes")),
	}
	return append(fams, c.processFamilies(one)...)
}

// userHZ is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, which
// Linux fixes at 100 on every architecture it reports to user space).
const userHZ = 100

// processFamilies returns the process_* families, or none where /proc
// cannot be read (not Linux): a family is left out rather than reported
// wrong.
func (c *runtimeCollector) processFamilies(one func(name, typ, help string, value float64) family) []family {
	data, err := os.ReadFile(c.proc + "/stat")
	if err != nil {
		return nil
	}
	st, err := parseProcStat(data)
	if err != nil {
		return nil
	}
	fams := []family{
		one("process_cpu_seconds_total", "counter", "User and system CPU time the process has used, in seconds.", float64(st.utime+st.stime)/userHZ),
		one("process_resident_memory_bytes", "gauge", "Resident set size of the process, in bytes.", float64(st.rss)*float64(os.Getpagesize())),
		one("process_virtual_memory_bytes", "gauge", "Virtual memory size of the process, in bytes.", float64(st.vsize)),
	}
	if boot := c.bootTime(); boot > 0 {
		fams = append(fams, one("process_start_time_seconds", "gauge", "When the process started, in seconds since the Unix epoch.", boot+float64(st.starttime)/userHZ))
	}
	if fds, err := os.ReadDir(c.proc + "/fd"); err == nil {
		fams = append(fams, one("process_open_fds", "gauge", "File descriptors the process has open.", float64(len(fds))))
	}
	if limits, err := os.ReadFile(c.proc + "/limits"); err == nil {
		if limit, ok := parseMaxOpenFiles(limits); ok {
			fams = append(fams, one("process_max_fds", "gauge", "Soft limit on the process's open file descriptors.", limit))
		}
	}
	return fams
}

// bootTime returns the system's boot time from /proc/stat, read once.
func (c *runtimeCollector) bootTime() float64 {
	c.bootOnce.Do(func() {
		data, err := os.ReadFile("/proc/stat")
		if err != nil {
			return
		}
		for line := range bytes.Lines(data) {
			if rest, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
				if v, err := strconv.ParseUint(string(bytes.TrimSpace(rest)), 10, 64); err == nil {
					c.boot = float64(v)
				}
				return
			}
		}
	})
	return c.boot
}

// procStat holds the fields of /proc/<pid>/stat the process metrics use.
type procStat struct {
	utime, stime, starttime uint64 // in clock ticks (userHZ)
	vsize                   uint64 // bytes
	rss                     uint64 // pages
}

// parseProcStat parses /proc/<pid>/stat (proc(5)). The command name, field
// 2, is in parentheses and may itself contain spaces and parentheses, so
// fields are counted from the last ')'.
func parseProcStat(data []byte) (procStat, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procStat{}, errors.New("metrics: /proc stat: no command name")
	}
	f := bytes.Fields(data[end+1:]) // f[0] is field 3 (state)
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("metrics: /proc stat: %d fields after the command name, want at least 22", len(f))
	}
	field := func(n int) (uint64, error) { // n is the 1-based field number of proc(5)
		v, err := strconv.ParseUint(string(f[n-3]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("metrics: /proc stat field %d: %w", n, err)
		}
		return v, nil
	}
	var st procStat
	for _, x := range []struct {
		n   int
		dst *uint64
	}{{14, &st.utime}, {15, &st.stime}, {22, &st.starttime}, {23, &st.vsize}, {24, &st.rss}} {
		v, err := field(x.n)
		if err != nil {
			return procStat{}, err
		}
		*x.dst = v
	}
	return st, nil
}

// parseMaxOpenFiles returns the soft limit on open files from
// /proc/<pid>/limits; "unlimited" is reported as +Inf.
func parseMaxOpenFiles(data []byte) (float64, bool) {
	for line := range bytes.Lines(data) {
		rest, ok := bytes.CutPrefix(line, []byte("Max open files"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			return 0, false
		}
		if string(f[0]) == "unlimited" {
			return math.Inf(1), true
		}
		v, err := strconv.ParseUint(string(f[0]), 10, 64)
		return float64(v), err == nil
	}
	return 0, false
}
