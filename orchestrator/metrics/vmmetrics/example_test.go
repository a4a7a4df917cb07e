package vmmetrics_test

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/coxswain-io/coxswain/orchestrator/metrics/vmmetrics"
)

// A Provider is what a controller binary passes as manager.Options.Metrics
// to serve /metrics; a controller reports through the Instruments it is
// given, and its work queue's depth is read at each scrape.
func ExampleProvider() {
	p := vmmetrics.New() // vmmetrics.WithProcessMetrics() adds go_* and process_*
	ins := p.Instruments("website")
	ins.Success.Inc()
	ins.Requeue.Inc()
	ins.Success.Inc()
	depth := 4
	defer p.RegisterQueue("website", func() int { return depth })()

	var out strings.Builder
	p.WritePrometheus(&out) // what ServeHTTP serves
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
