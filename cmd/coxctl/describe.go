package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/manifest"
	"github.com/coxswain-io/coxswain/store"
)

func describeCommand() command {
	return command{name: "describe", summary: "show an object in detail, with its events", run: runDescribe}
}

// runDescribe prints each named object (or each matching -l): metadata,
// spec and status, and the Events about it.
func runDescribe(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("describe", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c connFlags
	c.register(fs, false)
	sel := fs.String("l", "", "label selector: describe every object of the type that matches")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: coxctl describe (TYPE NAME... | TYPE/NAME... | TYPE -l SELECTOR)")
		fs.PrintDefaults()
	}
	pos, code, stop := parseVerbFlags(fs, args)
	if stop {
		return code
	}
	s, err := connect(&c)
	if err != nil {
		return fail(e, "describe", err)
	}
	k, names, err := kindAndNames(s.reg, pos)
	if err != nil {
		fmt.Fprintf(e.stderr, "coxctl describe: %v\n", err)
		return exitUsage
	}
	var objs []api.Object
	if len(names) == 0 {
		res, err := s.store.List(ctx, k.Kind, store.ListOptions{Namespace: s.ns(k), LabelSelector: *sel})
		if err != nil {
			return fail(e, "describe", err)
		}
		objs = res.Items
	}
	code = exitOK
	for _, n := range names {
		o, err := s.store.Get(ctx, k.Kind, s.ns(k), n)
		if err != nil {
			fmt.Fprintf(e.stderr, "coxctl describe: %s: %v\n", displayName(k, n), err)
			code = exitFailed
			continue
		}
		objs = append(objs, o)
	}
	for i, o := range objs {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		evs, err := eventsAbout(ctx, s.store, k, o)
		if err != nil {
			return fail(e, "describe", err)
		}
		if err := describe(e.stdout, k, o, evs); err != nil {
			return fail(e, "describe", err)
		}
	}
	return code
}

// eventsAbout lists the Events whose involvedObject is o, oldest first.
func eventsAbout(ctx context.Context, s store.Store, k api.KindInfo, o api.Object) ([]*api.Event, error) {
	md := o.GetMetadata()
	items, _, err := store.For[*api.Event](s).List(ctx, store.ListOptions{Namespace: md.GetNamespace()})
	if err != nil {
		return nil, err
	}
	var out []*api.Event
	for _, ev := range items {
		io := ev.GetInvolvedObject()
		if io.GetUid() == md.GetUid() || (io.GetUid() == "" && io.GetKind() == k.Kind && io.GetName() == md.GetName()) {
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].GetLastTimestamp().AsTime().Before(out[j].GetLastTimestamp().AsTime())
	})
	return out, nil
}

// describe writes one object's description.
func describe(w io.Writer, k api.KindInfo, o api.Object, evs []*api.Event) error {
	md := o.GetMetadata()
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", md.GetName())
	if md.GetNamespace() != "" {
		fmt.Fprintf(tw, "Namespace:\t%s\n", md.GetNamespace())
	}
	fmt.Fprintf(tw, "Kind:\t%s (%s)\n", k.Kind, k.APIVersion)
	fmt.Fprintf(tw, "Labels:\t%s\n", orDefault(joinMap(md.GetLabels()), "<none>"))
	fmt.Fprintf(tw, "Annotations:\t%s\n", orDefault(joinMap(md.GetAnnotations()), "<none>"))
	if ts := md.GetCreationTimestamp(); ts != nil {
		fmt.Fprintf(tw, "Created:\t%s (%s ago)\n", ts.AsTime().UTC().Format("2006-01-02 15:04:05 MST"), age(ts))
	}
	if ts := md.GetDeletionTimestamp(); ts != nil {
		fmt.Fprintf(tw, "Deleting since:\t%s\n", ts.AsTime().UTC().Format("2006-01-02 15:04:05 MST"))
	}
	for _, ref := range md.GetOwnerReferences() {
		fmt.Fprintf(tw, "Controlled By:\t%s/%s\n", ref.GetKind(), ref.GetName())
	}
	if len(md.GetFinalizers()) > 0 {
		fmt.Fprintf(tw, "Finalizers:\t%s\n", strings.Join(md.GetFinalizers(), ","))
	}
	for _, c := range columnsFor(k.Kind) {
		if c.name == "NAME" || c.name == "AGE" {
			continue
		}
		fmt.Fprintf(tw, "%s:\t%s\n", columnTitle(c.name), orDefault(c.value(o), "<none>"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Spec and status as YAML, without the metadata already shown.
	body := api.Clone(o)
	r := body.ProtoReflect()
	if f := r.Descriptor().Fields().ByName("metadata"); f != nil {
		r.Clear(f)
	}
	b, err := manifest.Encode(body, manifest.YAML)
	if err != nil {
		return err
	}
	var keep []string
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(line, "apiVersion:") || strings.HasPrefix(line, "kind:") || strings.HasPrefix(line, "metadata:") {
			continue
		}
		keep = append(keep, line)
	}
	if len(keep) > 0 {
		fmt.Fprintln(w, strings.Join(keep, "\n"))
	}
	fmt.Fprint(w, "Events:")
	if len(evs) == 0 {
		fmt.Fprintln(w, " <none>")
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  TYPE\tREASON\tAGE\tFROM\tMESSAGE")
	for _, ev := range evs {
		from := ev.GetReportingComponent()
		if from == "" {
			from = ev.GetSource().GetComponent()
		}
		count := ""
		if ev.GetCount() > 1 {
			count = fmt.Sprintf(" (x%d)", ev.GetCount())
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s%s\t%s\t%s\n", ev.GetType(), ev.GetReason(), age(ev.GetLastTimestamp()), count, from, ev.GetMessage())
	}
	return tw.Flush()
}

// columnTitle turns "CLUSTER-IP" into "Cluster-ip" style titles.
func columnTitle(s string) string {
	s = strings.ToLower(s)
	return strings.ToUpper(s[:1]) + s[1:]
}
