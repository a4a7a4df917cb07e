package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/manifest"
	"github.com/coxswain-io/coxswain/store"
)

func getCommand() command {
	return command{name: "get", summary: "list objects as a table, YAML or JSON (-l, -w, -o wide|yaml|json|name)", run: runGet}
}

// runGet prints objects of one kind: named ones, or a (filtered) list, and
// with -w the changes after it.
func runGet(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c connFlags
	c.register(fs, true)
	out := fs.String("o", "", "output: wide, yaml, json or name (default a table)")
	sel := fs.String("l", "", "label selector, e.g. app=web,tier!=db")
	fsel := fs.String("field-selector", "", "field selector, e.g. spec.nodeName=node-1,status.phase=Running")
	watch := fs.Bool("w", false, "after listing, print every change")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: coxctl get TYPE [NAME...] [-n NS | -A] [-l SELECTOR] [-o wide|yaml|json|name] [-w]")
		fs.PrintDefaults()
	}
	pos, code, stop := parseVerbFlags(fs, args)
	if stop {
		return code
	}
	switch *out {
	case "", "wide", "yaml", "json", "name":
	default:
		fmt.Fprintf(e.stderr, "coxctl get: unknown output format %q\n", *out)
		return exitUsage
	}
	if len(pos) == 1 && strings.Contains(pos[0], ",") && !strings.Contains(pos[0], "/") {
		// Several types: one listing each, as kubectl does.
		if *watch {
			fmt.Fprintln(e.stderr, "coxctl get: -w takes one resource type")
			return exitUsage
		}
		code := exitOK
		rest := args[:0:0]
		for _, a := range args {
			if a != pos[0] {
				rest = append(rest, a)
			}
		}
		for i, typ := range strings.Split(pos[0], ",") {
			if i > 0 && (*out == "" || *out == "wide") {
				fmt.Fprintln(e.stdout)
			}
			if c := runGet(ctx, e, append([]string{typ}, rest...)); c != exitOK {
				code = c
			}
		}
		return code
	}
	s, err := connect(&c)
	if err != nil {
		return fail(e, "get", err)
	}
	k, names, err := kindAndNames(s.reg, pos)
	if err != nil {
		fmt.Fprintf(e.stderr, "coxctl get: %v\n", err)
		return exitUsage
	}
	var objs []api.Object
	var rev int64
	if len(names) > 0 {
		code = exitOK
		for _, n := range names {
			obj, err := s.store.Get(ctx, k.Kind, s.ns(k), n)
			if err != nil {
				fmt.Fprintf(e.stderr, "coxctl get: %s: %v\n", displayName(k, n), err)
				code = exitFailed
				continue
			}
			objs = append(objs, obj)
			rev = max(rev, obj.GetMetadata().GetResourceVersion())
		}
		if len(objs) == 0 {
			return code
		}
	} else {
		res, err := s.store.List(ctx, k.Kind, store.ListOptions{Namespace: s.listNS(k), LabelSelector: *sel, FieldSelector: *fsel})
		if err != nil {
			return fail(e, "get", err)
		}
		objs, rev = res.Items, res.Revision
		if len(objs) == 0 && !*watch && *out == "" {
			where := "in namespace " + s.namespace
			if s.listNS(k) == "" {
				where = ""
			}
			fmt.Fprintf(e.stderr, "No %s found %s\n", k.Resource, where)
		}
	}
	p := newPrinter(e.stdout, k, *out, s.all && k.Scope == api.Namespaced)
	if err := p.print(objs, ""); err != nil {
		return fail(e, "get", err)
	}
	if !*watch {
		return code
	}
	opts := store.WatchOptions{Namespace: s.listNS(k), Revision: rev, LabelSelector: *sel, FieldSelector: *fsel}
	if len(names) == 1 {
		opts.FieldSelector = "metadata.name=" + names[0]
	}
	w, err := s.store.Watch(ctx, k.Kind, opts)
	if err != nil {
		return fail(e, "get", err)
	}
	defer w.Stop()
	p.headerDone = true
	for ev := range w.Events() {
		if ev.Type == store.EventBookmark || ev.Object == nil {
			continue
		}
		tag := ""
		if ev.Type == store.EventDeleted {
			tag = "deleted"
		}
		if err := p.print([]api.Object{ev.Object}, tag); err != nil {
			return fail(e, "get", err)
		}
	}
	if err := w.Err(); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		return fail(e, "get", err)
	}
	return exitOK
}

// printer writes objects in one output format.
type printer struct {
	w          io.Writer
	kind       api.KindInfo
	format     string
	withNS     bool
	headerDone bool
}

func newPrinter(w io.Writer, k api.KindInfo, format string, withNS bool) *printer {
	return &printer{w: w, kind: k, format: format, withNS: withNS}
}

// print writes objs; tag (e.g. "deleted") is appended to table rows.
func (p *printer) print(objs []api.Object, tag string) error {
	switch p.format {
	case "yaml", "json":
		f := manifest.YAML
		if p.format == "json" {
			f = manifest.JSON
		}
		for i, o := range objs {
			b, err := manifest.Encode(o, f)
			if err != nil {
				return err
			}
			if f == manifest.YAML && (i > 0 || p.headerDone) {
				fmt.Fprintln(p.w, "---")
			}
			if _, err := p.w.Write(b); err != nil {
				return err
			}
			if len(b) > 0 && b[len(b)-1] != '\n' {
				fmt.Fprintln(p.w)
			}
		}
		return nil
	case "name":
		for _, o := range objs {
			fmt.Fprintln(p.w, displayName(p.kind, o.GetMetadata().GetName()))
		}
		return nil
	}
	tw := tabwriter.NewWriter(p.w, 0, 8, 3, ' ', 0)
	cols := columnsFor(p.kind.Kind)
	wide := p.format == "wide"
	if !p.headerDone {
		var hdr []string
		if p.withNS {
			hdr = append(hdr, "NAMESPACE")
		}
		for _, c := range cols {
			if !c.wide || wide {
				hdr = append(hdr, c.name)
			}
		}
		writeRow(tw, hdr, "")
		p.headerDone = true
	}
	for _, o := range objs {
		var row []string
		if p.withNS {
			row = append(row, o.GetMetadata().GetNamespace())
		}
		for _, c := range cols {
			if !c.wide || wide {
				row = append(row, c.value(o))
			}
		}
		writeRow(tw, row, tag)
	}
	return tw.Flush()
}

func writeRow(w io.Writer, cells []string, tag string) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(w, "\t")
		}
		if c == "" {
			c = "<none>"
		}
		fmt.Fprint(w, c)
	}
	if tag != "" {
		fmt.Fprint(w, "\t("+tag+")")
	}
	fmt.Fprintln(w)
}
