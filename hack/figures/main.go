// Command figures turns `go test -bench` output read from stdin into
// `figure: NAME VALUE UNIT` lines. Each benchmark's metrics become
// figures named after the benchmark (lower-cased, slashes as underscores);
// benchmarks may report their own figures with b.ReportMetric, whose unit
// names the figure's unit. Lines that already are figures pass through.
// Other lines are echoed to stderr, so failures stay visible.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	failed := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "figure: ") {
			fmt.Println(line)
			continue
		}
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") {
			failed = true
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			fmt.Fprintln(os.Stderr, line)
			continue
		}
		name := strings.ToLower(strings.TrimPrefix(m[1], "Benchmark"))
		name = strings.NewReplacer("/", "_", "=", "", " ", "_").Replace(name)
		fields := strings.Fields(m[3])
		for i := 0; i+1 < len(fields); i += 2 {
			value, unit := fields[i], fields[i+1]
			fmt.Printf("figure: %s_%s %s %s\n", name, metricName(unit), value, unit)
		}
	}
	if failed {
		os.Exit(1)
	}
}

func metricName(unit string) string {
	switch unit {
	case "ns/op":
		return "ns_per_op"
	case "B/op":
		return "bytes_per_op"
	case "allocs/op":
		return "allocs_per_op"
	}
	return strings.NewReplacer("/", "_per_", "-", "_").Replace(unit)
}
