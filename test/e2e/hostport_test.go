package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/store"
)

// TestHostPortRulesRemovedWithPod checks that a pod's hostPort DNAT rules
// (the portmap plugin's CNI-DN-* chain) go with the pod, both when the
// agent deletes it and when a restarted agent reconciles a pod deleted
// while it was down.
//
// The portmap plugin's DEL does nothing unless the runtime config carries
// the port mappings again; the agent tears down from the sandbox record,
// without them.
func TestHostPortRulesRemovedWithPod(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	b := c.nodes[1]
	for i, name := range []string{"hp-deleted", "hp-orphaned"} {
		p := c.webPod(name, b)
		p.Spec.Containers[0].Ports[0].HostPort = int32(18081 + i)
		if _, err := c.st.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for i, name := range []string{"hp-deleted", "hp-orphaned"} {
		waitPod(t, c.st, "default", name, "ready", podReady)
		url := fmt.Sprintf("http://%s:%d/", b.ip, 18081+i)
		eventually(t, 20*time.Second, "outside GET "+url, func() (bool, string) {
			tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			out, err := nettest.Run(tctx, c.sw, "timeout", "2", "busybox", "wget", "-q", "-O-", url)
			return err == nil && strings.TrimSpace(out) == name, fmt.Sprint(out, err)
		})
	}
	natRules := func() string {
		out, err := nettest.Run(ctx, b.ns, "iptables-save", "-t", "nat")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if rules := natRules(); !strings.Contains(rules, "--dport 18081") || !strings.Contains(rules, "--dport 18082") {
		t.Fatalf("no host port rules while the pods run:\n%s", rules)
	}

	// Deleted through the agent.
	if _, err := c.st.Delete(ctx, api.KindPod, "default", "hp-deleted", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, c.st, "default", "hp-deleted")
	// Deleted while the agent is down, reconciled by the next one.
	b.stop()
	if _, err := c.st.Delete(ctx, api.KindPod, "default", "hp-orphaned", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.For[*api.Pod](c.st).Mutate(ctx, "default", "hp-orphaned", func(p *api.Pod) error {
		p.Metadata.Finalizers = nil
		return nil
	}); err != nil && !store.IsNotFound(err) {
		t.Fatal(err)
	}
	waitGone(t, c.st, "default", "hp-orphaned")
	b.reopen(t)
	c.startAgent(t, b)
	eventually(t, 30*time.Second, "orphan reconciled", func() (bool, string) {
		sbs, err := b.rt.ListPodSandboxes(ctx, nil)
		return err == nil && len(sbs) == 0 && len(veths(t, b.ns)) == 0, fmt.Sprintf("%d sandboxes, veths %v", len(sbs), veths(t, b.ns))
	})

	rules := natRules()
	for _, port := range []string{"18081", "18082"} {
		if strings.Contains(rules, "--dport "+port) {
			t.Errorf("the DNAT rules of host port %s outlive their pod", port)
		}
	}
	if t.Failed() {
		t.Logf("node-b nat table:\n%s", rules)
	}
}
