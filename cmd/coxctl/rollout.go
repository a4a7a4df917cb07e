package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/deployment"
	"github.com/coxswain-io/coxswain/store"
)

func rolloutCommand() command {
	return command{name: "rollout", summary: "status, history and undo of a Deployment's rollout", run: runRollout}
}

// runRollout dispatches rollout status|history|undo.
func runRollout(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c connFlags
	c.register(fs, false)
	toRev := fs.Int("to-revision", 0, "undo: the revision to go back to (0: the previous one)")
	timeout := fs.Duration("timeout", 5*time.Minute, "status: give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: coxctl rollout status|history|undo deployment/NAME [--to-revision=N] [--timeout=D]")
		fs.PrintDefaults()
	}
	pos, code, stop := parseVerbFlags(fs, args)
	if stop {
		return code
	}
	if len(pos) < 2 {
		fs.Usage()
		return exitUsage
	}
	sub := pos[0]
	s, err := connect(&c)
	if err != nil {
		return fail(e, "rollout", err)
	}
	k, names, err := kindAndNames(s.reg, pos[1:])
	if err != nil || len(names) != 1 || k.Kind != api.KindDeployment {
		fmt.Fprintln(e.stderr, "coxctl rollout: name one deployment, e.g. deployment/web")
		return exitUsage
	}
	ns, name := s.ns(k), names[0]
	switch sub {
	case "status":
		sctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		if err := rolloutStatus(sctx, e, s.store, ns, name); err != nil {
			return fail(e, "rollout status", err)
		}
	case "history":
		if err := rolloutHistory(ctx, e, s.store, ns, name); err != nil {
			return fail(e, "rollout history", err)
		}
	case "undo":
		_, err := store.For[*api.Deployment](s.store).Mutate(ctx, ns, name, func(d *api.Deployment) error {
			m := api.Meta(d)
			if m.Annotations == nil {
				m.Annotations = map[string]string{}
			}
			m.Annotations[deployment.AnnotationRollbackTo] = strconv.Itoa(*toRev)
			return nil
		})
		if err != nil {
			return fail(e, "rollout undo", err)
		}
		fmt.Fprintf(e.stdout, "deployment.apps/%s rolled back\n", name)
	default:
		fmt.Fprintf(e.stderr, "coxctl rollout: unknown subcommand %q\n", sub)
		return exitUsage
	}
	return exitOK
}

// rolloutStatus prints progress until the Deployment's rollout completes.
func rolloutStatus(ctx context.Context, e env, s store.Store, ns, name string) error {
	deps := store.For[*api.Deployment](s)
	last := ""
	return poll(ctx, 250*time.Millisecond, func() (bool, error) {
		d, err := deps.Get(ctx, ns, name)
		if err != nil {
			return false, err
		}
		msg, done := rolloutMessage(d)
		if msg != last {
			fmt.Fprintln(e.stdout, msg)
			last = msg
		}
		return done, nil
	})
}

// rolloutMessage is kubectl's rollout status line for d, and whether the
// rollout is complete.
func rolloutMessage(d *api.Deployment) (string, bool) {
	st, want := d.GetStatus(), d.GetSpec().GetReplicas()
	name := d.GetMetadata().GetName()
	switch {
	case st.GetObservedGeneration() < d.GetMetadata().GetGeneration():
		return "Waiting for deployment spec update to be observed...", false
	case st.GetUpdatedReplicas() < want:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", name, st.GetUpdatedReplicas(), want), false
	case st.GetReplicas() > st.GetUpdatedReplicas():
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", name, st.GetReplicas()-st.GetUpdatedReplicas()), false
	case st.GetAvailableReplicas() < st.GetUpdatedReplicas():
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", name, st.GetAvailableReplicas(), st.GetUpdatedReplicas()), false
	}
	return fmt.Sprintf("deployment %q successfully rolled out", name), true
}

// rolloutHistory lists the Deployment's revisions (its ReplicaSets).
func rolloutHistory(ctx context.Context, e env, s store.Store, ns, name string) error {
	rss, err := ownedReplicaSets(ctx, s, ns, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deployment.apps/%s\n", name)
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tREPLICASET\tREPLICAS\tIMAGES\tCHANGE-CAUSE")
	for _, rs := range rss {
		a := rs.GetMetadata().GetAnnotations()
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", a[deployment.AnnotationRevision], rs.GetMetadata().GetName(),
			rs.GetSpec().GetReplicas(), containerImages(rs.GetSpec().GetTemplate().GetSpec()), orDefault(a["kubernetes.io/change-cause"], "<none>"))
	}
	return tw.Flush()
}

// ownedReplicaSets returns the ReplicaSets the Deployment controls, oldest
// revision first.
func ownedReplicaSets(ctx context.Context, s store.Store, ns, name string) ([]*api.ReplicaSet, error) {
	d, err := store.For[*api.Deployment](s).Get(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	sel, err := labels.FromLabelSelector(d.GetSpec().GetSelector())
	if err != nil {
		return nil, err
	}
	items, _, err := store.For[*api.ReplicaSet](s).List(ctx, store.ListOptions{Namespace: ns, LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var out []*api.ReplicaSet
	for _, rs := range items {
		for _, o := range rs.GetMetadata().GetOwnerReferences() {
			if o.GetController() && o.GetUid() == d.GetMetadata().GetUid() {
				out = append(out, rs)
			}
		}
	}
	rev := func(rs *api.ReplicaSet) int {
		n, _ := strconv.Atoi(rs.GetMetadata().GetAnnotations()[deployment.AnnotationRevision])
		return n
	}
	sort.Slice(out, func(i, j int) bool { return rev(out[i]) < rev(out[j]) })
	return out, nil
}
