package main

import (
	"context"
	"flag"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/manifest"
	"github.com/coxswain-io/coxswain/api/validation"
	"github.com/coxswain-io/coxswain/store"
)

func applyCommand() command {
	return command{name: "apply", summary: "create or update objects from manifests (-f FILE|DIR|-)", run: runApply}
}

// runApply creates each object of the manifests that does not exist and
// replaces the spec, labels and annotations of each that does.
func runApply(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var files fileList
	var c connFlags
	c.register(fs, false)
	fs.Var(&files, "f", "manifest file, directory or - for standard input (repeatable)")
	dry := fs.Bool("dry-run", false, "validate and print what would happen, change nothing")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: coxctl apply -f FILE|DIR|- [-f ...] [-n NAMESPACE] [--dry-run]")
		fs.PrintDefaults()
	}
	pos, code, stop := parseVerbFlags(fs, args)
	if stop {
		return code
	}
	if len(files) == 0 || len(pos) > 0 {
		fs.Usage()
		return exitUsage
	}
	inputs, err := expandInputs(files)
	if err != nil {
		fmt.Fprintf(e.stderr, "coxctl apply: %v\n", err)
		return exitIOError
	}
	s, err := connect(&c)
	if err != nil {
		return fail(e, "apply", err)
	}
	var objs []api.Object
	for _, in := range inputs {
		data, err := readInput(in, e.stdin)
		if err != nil {
			fmt.Fprintf(e.stderr, "coxctl apply: %v\n", err)
			return exitIOError
		}
		got, err := manifest.Decode(data, s.reg)
		if err != nil {
			fmt.Fprintf(e.stderr, "coxctl apply: %s: %v\n", in, err)
			return exitFailed
		}
		objs = append(objs, got...)
	}
	code = exitOK
	for _, obj := range objs {
		if err := ctx.Err(); err != nil {
			return fail(e, "apply", err)
		}
		info, err := s.reg.KindOf(obj)
		if err != nil {
			fmt.Fprintf(e.stderr, "coxctl apply: %v\n", err)
			code = exitFailed
			continue
		}
		md := api.Meta(obj)
		if info.Scope == api.Namespaced && md.Namespace == "" {
			md.Namespace = s.namespace
		}
		result, err := applyOne(ctx, s.store, info, obj, *dry)
		if err != nil {
			fmt.Fprintf(e.stderr, "coxctl apply: %s: %v\n", displayName(info, md.GetName()), err)
			code = exitFailed
			continue
		}
		suffix := ""
		if *dry {
			suffix = " (dry run)"
		}
		fmt.Fprintf(e.stdout, "%s %s%s\n", displayName(info, md.GetName()), result, suffix)
	}
	return code
}

// applyOne creates obj or updates the stored object to it, and says which:
// "created", "configured" or "unchanged".
func applyOne(ctx context.Context, s store.Store, info api.KindInfo, obj api.Object, dry bool) (string, error) {
	md := obj.GetMetadata()
	if md.GetName() == "" {
		if dry {
			return "created", validateOffline(obj)
		}
		if _, err := s.Create(ctx, obj); err != nil {
			return "", err
		}
		return "created", nil
	}
	for attempt := 0; ; attempt++ {
		cur, err := s.Get(ctx, info.Kind, md.GetNamespace(), md.GetName())
		if store.IsNotFound(err) {
			if dry {
				return "created", validateOffline(obj)
			}
			if _, err := s.Create(ctx, obj); err != nil {
				if store.IsAlreadyExists(err) && attempt < 3 {
					continue
				}
				return "", err
			}
			return "created", nil
		}
		if err != nil {
			return "", err
		}
		want := mergeForApply(cur, obj)
		if proto.Equal(want, cur) {
			return "unchanged", nil
		}
		if dry {
			return "configured", validateOffline(want)
		}
		if _, err := s.Update(ctx, want); err != nil {
			if store.IsConflict(err) && attempt < 5 {
				continue
			}
			return "", err
		}
		return "configured", nil
	}
}

// mergeForApply is the object an apply of desired over cur writes: desired's
// spec (and every other field it sets), labels and annotations, with the
// fields the system manages (uid, resourceVersion, owners, finalizers,
// timestamps, status) kept from cur. Defaults are applied first, so an
// unchanged manifest compares equal to the stored object.
func mergeForApply(cur, desired api.Object) api.Object {
	want := api.Clone(desired)
	validation.Default(want)
	wm, cm := api.Meta(want), cur.GetMetadata()
	wm.Uid = cm.GetUid()
	wm.ResourceVersion = cm.GetResourceVersion()
	wm.Generation = cm.GetGeneration()
	wm.CreationTimestamp = cm.GetCreationTimestamp()
	wm.DeletionTimestamp = cm.GetDeletionTimestamp()
	wm.DeletionGracePeriodSeconds = cm.GetDeletionGracePeriodSeconds()
	if len(wm.OwnerReferences) == 0 {
		wm.OwnerReferences = cm.GetOwnerReferences()
	}
	if len(wm.Finalizers) == 0 {
		wm.Finalizers = cm.GetFinalizers()
	}
	if wm.GenerateName == "" {
		wm.GenerateName = cm.GetGenerateName()
	}
	// Annotations the system sets (e.g. a Deployment's revision) survive.
	for k, v := range cm.GetAnnotations() {
		if _, ok := wm.Annotations[k]; !ok && isSystemAnnotation(k) {
			if wm.Annotations == nil {
				wm.Annotations = map[string]string{}
			}
			wm.Annotations[k] = v
		}
	}
	copyStatus(want, cur)
	keepAllocated(want, cur)
	return want
}

// keepAllocated keeps the values the control plane allocated (a Service's
// cluster IPs and node ports, a Node's pod CIDR) that the manifest leaves
// out, as a server-side merge would.
func keepAllocated(want, cur api.Object) {
	switch w := want.(type) {
	case *api.Service:
		c, ok := cur.(*api.Service)
		if !ok || w.Spec == nil {
			return
		}
		if w.Spec.ClusterIp == "" {
			w.Spec.ClusterIp = c.GetSpec().GetClusterIp()
			if len(w.Spec.ClusterIps) == 0 {
				w.Spec.ClusterIps = c.GetSpec().GetClusterIps()
			}
		}
		for _, p := range w.Spec.Ports {
			if p.NodePort != 0 {
				continue
			}
			for _, cp := range c.GetSpec().GetPorts() {
				if cp.GetPort() == p.GetPort() && orDefault(cp.GetProtocol(), "TCP") == orDefault(p.GetProtocol(), "TCP") {
					p.NodePort = cp.GetNodePort()
				}
			}
		}
	case *api.Node:
		c, ok := cur.(*api.Node)
		if !ok {
			return
		}
		if w.Spec == nil {
			w.Spec = &api.NodeSpec{}
		}
		if w.Spec.PodCidr == "" {
			w.Spec.PodCidr = c.GetSpec().GetPodCidr()
			w.Spec.PodCidrs = c.GetSpec().GetPodCidrs()
		}
	}
}

// isSystemAnnotation reports whether key is set by controllers, not users.
func isSystemAnnotation(key string) bool {
	for _, p := range []string{"deployment.kubernetes.io/", "coxswain.io/", "deployment.coxswain.io/"} {
		if len(key) >= len(p) && key[:len(p)] == p {
			return true
		}
	}
	return false
}

// copyStatus sets want's status field to cur's.
func copyStatus(want, cur api.Object) {
	wr, cr := want.ProtoReflect(), cur.ProtoReflect()
	f := wr.Descriptor().Fields().ByName("status")
	if f == nil {
		return
	}
	if cr.Has(f) {
		wr.Set(f, cr.Get(f))
	} else {
		wr.Clear(f)
	}
}

// validateOffline defaults and validates obj without the server.
func validateOffline(obj api.Object) error {
	obj = api.Clone(obj)
	validation.Default(obj)
	return validation.ValidateObject(obj)
}
