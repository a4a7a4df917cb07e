package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/manifest"
	"github.com/coxswain-io/coxswain/store"
)

func deleteCommand() command {
	return command{name: "delete", summary: "delete objects by name, selector or manifest (--cascade)", run: runDelete}
}

// target is one object to act on.
type target struct {
	kind api.KindInfo
	ns   string
	name string
}

// runDelete deletes the named objects (or those a selector or manifest
// names) with a cascade policy, and by default waits until they are gone.
func runDelete(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("delete", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c connFlags
	c.register(fs, false)
	var files fileList
	fs.Var(&files, "f", "delete the objects of this manifest file or directory (repeatable)")
	sel := fs.String("l", "", "label selector: delete every object of the type that matches")
	cascade := fs.String("cascade", "background", "what happens to dependents: background, foreground or orphan")
	wait := fs.Bool("wait", true, "wait until the objects are gone")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait with --wait")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: coxctl delete (TYPE NAME... | TYPE/NAME... | TYPE -l SELECTOR | -f FILE) [--cascade=background|foreground|orphan] [--wait=false]")
		fs.PrintDefaults()
	}
	pos, code, stop := parseVerbFlags(fs, args)
	if stop {
		return code
	}
	policy, ok := map[string]string{"background": "Background", "foreground": "Foreground", "orphan": "Orphan", "true": "Background", "false": "Orphan"}[strings.ToLower(*cascade)]
	if !ok {
		fmt.Fprintf(e.stderr, "coxctl delete: --cascade %q: want background, foreground or orphan\n", *cascade)
		return exitUsage
	}
	s, err := connect(&c)
	if err != nil {
		return fail(e, "delete", err)
	}
	var targets []target
	switch {
	case len(files) > 0:
		inputs, err := expandInputs(files)
		if err != nil {
			return fail(e, "delete", err)
		}
		for _, in := range inputs {
			data, err := readInput(in, e.stdin)
			if err != nil {
				return fail(e, "delete", err)
			}
			objs, err := manifest.Decode(data, s.reg)
			if err != nil {
				return fail(e, "delete", fmt.Errorf("%s: %w", in, err))
			}
			for _, o := range objs {
				k, err := s.reg.KindOf(o)
				if err != nil {
					return fail(e, "delete", err)
				}
				ns := o.GetMetadata().GetNamespace()
				if ns == "" {
					ns = s.ns(k)
				}
				targets = append(targets, target{k, ns, o.GetMetadata().GetName()})
			}
		}
	default:
		k, names, err := kindAndNames(s.reg, pos)
		if err != nil {
			fmt.Fprintf(e.stderr, "coxctl delete: %v\n", err)
			return exitUsage
		}
		if *sel != "" {
			res, err := s.store.List(ctx, k.Kind, store.ListOptions{Namespace: s.ns(k), LabelSelector: *sel})
			if err != nil {
				return fail(e, "delete", err)
			}
			for _, o := range res.Items {
				names = append(names, o.GetMetadata().GetName())
			}
			if len(names) == 0 {
				fmt.Fprintf(e.stderr, "No %s found\n", k.Resource)
				return exitOK
			}
		}
		if len(names) == 0 {
			fmt.Fprintln(e.stderr, "coxctl delete: name the objects, or use -l or -f")
			return exitUsage
		}
		for _, n := range names {
			targets = append(targets, target{k, s.ns(k), n})
		}
	}
	code = exitOK
	var deleted []target
	for _, t := range targets {
		_, err := s.store.Delete(ctx, t.kind.Kind, t.ns, t.name, store.DeleteOptions{PropagationPolicy: policy})
		if err != nil {
			fmt.Fprintf(e.stderr, "coxctl delete: %s: %v\n", displayName(t.kind, t.name), err)
			code = exitFailed
			continue
		}
		fmt.Fprintf(e.stdout, "%s deleted\n", displayName(t.kind, t.name))
		deleted = append(deleted, t)
	}
	if *wait {
		wctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		for _, t := range deleted {
			if err := waitGone(wctx, s.store, t); err != nil {
				fmt.Fprintf(e.stderr, "coxctl delete: %s: %v\n", displayName(t.kind, t.name), err)
				code = exitFailed
			}
		}
	}
	return code
}

// waitGone polls until t no longer exists.
func waitGone(ctx context.Context, s store.Store, t target) error {
	return poll(ctx, 200*time.Millisecond, func() (bool, error) {
		_, err := s.Get(ctx, t.kind.Kind, t.ns, t.name)
		if store.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// poll calls cond every interval until it reports done, fails, or ctx ends.
func poll(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := cond()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up waiting: %w", ctx.Err())
		case <-t.C:
		}
	}
}
