package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

func scaleCommand() command {
	return command{name: "scale", summary: "set the replicas of a Deployment, ReplicaSet or any kind with spec.replicas", run: runScale}
}

// runScale sets spec.replicas of the named objects.
func runScale(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c connFlags
	c.register(fs, false)
	replicas := fs.Int("replicas", -1, "the new number of replicas (required)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: coxctl scale (TYPE NAME | TYPE/NAME) --replicas=N")
		fs.PrintDefaults()
	}
	pos, code, stop := parseVerbFlags(fs, args)
	if stop {
		return code
	}
	if *replicas < 0 {
		fmt.Fprintln(e.stderr, "coxctl scale: --replicas is required")
		return exitUsage
	}
	s, err := connect(&c)
	if err != nil {
		return fail(e, "scale", err)
	}
	k, names, err := kindAndNames(s.reg, pos)
	if err != nil || len(names) == 0 {
		fmt.Fprintf(e.stderr, "coxctl scale: name what to scale (%v)\n", err)
		return exitUsage
	}
	code = exitOK
	for _, n := range names {
		if err := setReplicas(ctx, s.store, k, s.ns(k), n, int32(*replicas)); err != nil {
			fmt.Fprintf(e.stderr, "coxctl scale: %s: %v\n", displayName(k, n), err)
			code = exitFailed
			continue
		}
		fmt.Fprintf(e.stdout, "%s scaled\n", displayName(k, n))
	}
	return code
}

// errNoReplicas says a kind cannot be scaled.
var errNoReplicas = errors.New("has no spec.replicas")

// setReplicas writes spec.replicas, retrying on conflicts.
func setReplicas(ctx context.Context, s store.Store, k api.KindInfo, ns, name string, n int32) error {
	for attempt := 0; ; attempt++ {
		obj, err := s.Get(ctx, k.Kind, ns, name)
		if err != nil {
			return err
		}
		m := obj.ProtoReflect()
		sf := m.Descriptor().Fields().ByName("spec")
		if sf == nil || sf.Message() == nil {
			return fmt.Errorf("%s %w", k.Kind, errNoReplicas)
		}
		rf := sf.Message().Fields().ByName("replicas")
		if rf == nil || rf.Kind() != protoreflect.Int32Kind {
			return fmt.Errorf("%s %w", k.Kind, errNoReplicas)
		}
		m.Mutable(sf).Message().Set(rf, protoreflect.ValueOfInt32(n))
		if _, err := s.Update(ctx, obj); err != nil {
			if store.IsConflict(err) && attempt < 5 {
				continue
			}
			return err
		}
		return nil
	}
}
