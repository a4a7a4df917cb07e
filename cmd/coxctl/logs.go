package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// annotationNodeAPI is the Node annotation with the URL of the node's logs
// and exec endpoint (set by coxd).
const annotationNodeAPI = "coxswain.io/node-api"

func logsCommand() command {
	return command{name: "logs", summary: "print a container's logs (-f to follow, -p for the previous instance)", run: runLogs}
}

// podTarget resolves "POD" or "pod/POD" and a container name to the pod,
// the container and the URL of its node's API.
func podTarget(ctx context.Context, s *session, arg, container string) (*api.Pod, string, string, error) {
	name := arg
	if k, n, err := kindAndNames(s.reg, []string{arg}); err == nil && len(n) == 1 {
		if k.Kind != api.KindPod {
			return nil, "", "", fmt.Errorf("%s: only pods have containers", arg)
		}
		name = n[0]
	}
	pod, err := store.For[*api.Pod](s.store).Get(ctx, s.namespace, name)
	if err != nil {
		return nil, "", "", err
	}
	if container == "" {
		cs := pod.GetSpec().GetContainers()
		if len(cs) == 0 {
			return nil, "", "", fmt.Errorf("pod %s has no containers", name)
		}
		container = cs[0].GetName()
	}
	nodeName := pod.GetSpec().GetNodeName()
	if nodeName == "" {
		return nil, "", "", fmt.Errorf("pod %s is not scheduled yet", name)
	}
	node, err := store.For[*api.Node](s.store).Get(ctx, "", nodeName)
	if err != nil {
		return nil, "", "", fmt.Errorf("node %s: %w", nodeName, err)
	}
	u := node.GetMetadata().GetAnnotations()[annotationNodeAPI]
	if u == "" {
		return nil, "", "", fmt.Errorf("node %s does not serve logs and exec (its coxd runs without -node-api-addr)", nodeName)
	}
	return pod, container, u, nil
}

// runLogs streams a container's log from its node.
func runLogs(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c connFlags
	c.register(fs, false)
	container := fs.String("c", "", "container (default the pod's first)")
	follow := fs.Bool("f", false, "keep streaming until the container exits")
	previous := fs.Bool("p", false, "the previous (restarted) instance's log")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: coxctl logs POD [-c CONTAINER] [-f] [-p]")
		fs.PrintDefaults()
	}
	pos, code, stop := parseVerbFlags(fs, args)
	if stop {
		return code
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitUsage
	}
	s, err := connect(&c)
	if err != nil {
		return fail(e, "logs", err)
	}
	pod, ctr, base, err := podTarget(ctx, s, pos[0], *container)
	if err != nil {
		return fail(e, "logs", err)
	}
	q := url.Values{"follow": {strconv.FormatBool(*follow)}, "previous": {strconv.FormatBool(*previous)}}
	u := fmt.Sprintf("%s/logs/%s/%s/%s?%s", base, url.PathEscape(pod.Metadata.Namespace), url.PathEscape(pod.Metadata.Name), url.PathEscape(ctr), q.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail(e, "logs", err)
	}
	s.authorize(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail(e, "logs", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fail(e, "logs", fmt.Errorf("node: %s: %s", resp.Status, b))
	}
	if _, err := io.Copy(e.stdout, resp.Body); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		return fail(e, "logs", err)
	}
	return exitOK
}
