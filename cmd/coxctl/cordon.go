package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/orchestrator/controllers/drain"
)

func cordonCommand() command {
	return command{name: "cordon", summary: "mark nodes unschedulable", run: nodeVerb("cordon")}
}

func uncordonCommand() command {
	return command{name: "uncordon", summary: "mark nodes schedulable again", run: nodeVerb("uncordon")}
}

func drainCommand() command {
	return command{name: "drain", summary: "cordon nodes and evict their pods (honouring disruption budgets)", run: nodeVerb("drain")}
}

// nodeVerb returns the run function of cordon, uncordon or drain.
func nodeVerb(verb string) func(ctx context.Context, e env, args []string) int {
	return func(ctx context.Context, e env, args []string) int {
		fs := flag.NewFlagSet(verb, flag.ContinueOnError)
		fs.SetOutput(e.stderr)
		var c connFlags
		c.register(fs, false)
		var opts drain.Options
		timeout := fs.Duration("timeout", 0, "drain: give up after this long (0: no limit)")
		if verb == "drain" {
			fs.BoolVar(&opts.Force, "force", false, "also evict pods no controller manages (they are not replaced)")
			fs.BoolVar(&opts.IncludeDaemonSets, "include-daemonsets", false, "also evict DaemonSet pods")
			fs.BoolVar(&opts.Wait, "wait", true, "retry evictions a disruption budget blocks until they succeed")
		}
		fs.Usage = func() {
			fmt.Fprintf(e.stderr, "usage: coxctl %s NODE...\n", verb)
			fs.PrintDefaults()
		}
		pos, code, stop := parseVerbFlags(fs, args)
		if stop {
			return code
		}
		if len(pos) == 0 {
			fs.Usage()
			return exitUsage
		}
		s, err := connect(&c)
		if err != nil {
			return fail(e, verb, err)
		}
		if *timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *timeout)
			defer cancel()
		}
		opts.RetryInterval = time.Second
		code = exitOK
		for _, node := range pos {
			switch verb {
			case "cordon":
				err = drain.Cordon(ctx, s.store, node)
			case "uncordon":
				err = drain.Uncordon(ctx, s.store, node)
			case "drain":
				var evicted []string
				evicted, err = drain.Drain(ctx, s.store, node, opts)
				for _, p := range evicted {
					fmt.Fprintf(e.stdout, "pod/%s evicted\n", p)
				}
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "coxctl %s: node/%s: %v\n", verb, node, err)
				code = exitFailed
				continue
			}
			fmt.Fprintf(e.stdout, "node/%s %sed\n", node, verb)
		}
		return code
	}
}
