package metrics_test

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/coxswain-io/coxswain/orchestrator/metrics"
)

// A Registry is what a manager serves at /metrics by default; a controller
// reports through the Instruments it was given.
func ExampleRegistry() {
	reg := metrics.NewRegistry()
	ins := reg.Instruments("website")
	ins.Success.Inc()
	ins.Requeue.Inc()
	ins.Success.Inc()
	depth := 4
	defer reg.RegisterQueue("website", func() int { return depth })()

	var out strings.Builder
	if err := reg.WriteText(&out); err != nil {
		fmt.Println(err)
		return
	}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "coxswain_controller_reconcile_total") || strings.HasPrefix(line, "coxswain_workqueue_depth") {
			fmt.Println(line)
		}
	}
	// Output:
	// coxswain_controller_reconcile_total{controller="website",result="error"} 0
	// coxswain_controller_reconcile_total{controller="website",result="requeue"} 1
	// coxswain_controller_reconcile_total{controller="website",result="requeue_after"} 0
	// coxswain_controller_reconcile_total{controller="website",result="success"} 2
	// coxswain_controller_reconcile_total{controller="website",result="terminal_error"} 0
	// coxswain_workqueue_depth{controller="website"} 4
}
