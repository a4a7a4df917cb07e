package e2e_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/store"
)

// veths lists the pods' veth interfaces in the node namespace at ns (all
// but eth0, the node's own link to the switch).
func veths(t *testing.T, ns string) []string {
	t.Helper()
	out := nettest.MustRun(t, ns, "ip", "-o", "link", "show", "type", "veth")
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			if name := strings.TrimSuffix(strings.SplitN(f[1], "@", 2)[0], ":"); name != "eth0" {
				names = append(names, name)
			}
		}
	}
	return names
}

// allocatedIPs lists the addresses host-local has handed out from the
// node's CNI state.
func allocatedIPs(t *testing.T, n *node) []string {
	t.Helper()
	var ips []string
	_ = filepath.WalkDir(filepath.Join(n.cniState, "ipam"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if _, perr := netip.ParseAddr(d.Name()); perr == nil {
				ips = append(ips, d.Name())
			}
		}
		return nil
	})
	slices.Sort(ips)
	return ips
}

// TestAgentRestartReconcilesNetwork stops a node's agent while it runs two
// pods, removes one pod from the store while the agent is down (as a forced
// deletion would), and starts a new agent over a new runtime handle: the
// surviving pod is adopted untouched and keeps its address, and the gone
// pod's container, veth, IP allocation and network namespace are removed.
func TestAgentRestartReconcilesNetwork(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	a, b := c.nodes[0], c.nodes[1]
	for _, p := range []*api.Pod{c.webPod("client", a), c.webPod("keep", b), c.webPod("gone", b)} {
		if _, err := c.st.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	client := waitPod(t, c.st, "default", "client", "ready", podReady)
	keep := waitPod(t, c.st, "default", "keep", "ready", podReady)
	gone := waitPod(t, c.st, "default", "gone", "ready", podReady)
	clientID, keepID := containerID(t, client, "main"), containerID(t, keep, "main")
	keepIP, goneIP := keep.GetStatus().GetPodIp(), gone.GetStatus().GetPodIp()
	if got := veths(t, b.ns); len(got) != 2 {
		t.Fatalf("node-b veths before: %v, want 2", got)
	}
	if got, want := allocatedIPs(t, b), sorted(keepIP, goneIP); !slices.Equal(got, want) {
		t.Fatalf("node-b allocations before: %v, want %v", got, want)
	}
	c.reach(t, a, clientID, "http://"+goneIP+":8080/", "gone")

	b.stop()
	if _, err := c.st.Delete(ctx, api.KindPod, "default", "gone", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.For[*api.Pod](c.st).Mutate(ctx, "default", "gone", func(p *api.Pod) error {
		p.Metadata.Finalizers = nil
		return nil
	}); err != nil && !store.IsNotFound(err) {
		t.Fatal(err)
	}
	waitGone(t, c.st, "default", "gone")
	b.reopen(t)
	c.startAgent(t, b)

	eventually(t, 30*time.Second, "node-b reconciled", func() (bool, string) {
		v, ips := veths(t, b.ns), allocatedIPs(t, b)
		sbs, err := b.rt.ListPodSandboxes(ctx, nil)
		if err != nil {
			return false, err.Error()
		}
		netns, _ := os.ReadDir(filepath.Join(b.rootDir, "netns"))
		ok := len(v) == 1 && slices.Equal(ips, []string{keepIP}) && len(sbs) == 1 && len(netns) == 1
		return ok, fmt.Sprintf("veths %v, ips %v, %d sandboxes, %d netns", v, ips, len(sbs), len(netns))
	})
	// The surviving pod was adopted, not restarted, and still answers.
	keep = waitPod(t, c.st, "default", "keep", "ready", podReady)
	if got := containerID(t, keep, "main"); got != keepID || keep.GetStatus().GetPodIp() != keepIP {
		t.Errorf("keep changed: container %s -> %s, IP %s -> %s", keepID, got, keepIP, keep.GetStatus().GetPodIp())
	}
	c.reach(t, a, clientID, "http://"+keepIP+":8080/", "keep")
	if out, code, err := execIn(ctx, a.rt, clientID, "timeout 2 wget -q -O- http://"+goneIP+":8080/"); err != nil || code == 0 {
		t.Errorf("the gone pod's address still answers: code %d err %v: %s", code, err, out)
	}

	for _, name := range []string{"client", "keep"} {
		if _, err := c.st.Delete(ctx, api.KindPod, "default", name, store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitGone(t, c.st, "default", "client")
	waitGone(t, c.st, "default", "keep")
	for _, n := range c.nodes {
		if left := n.leftovers(); len(left) > 0 {
			t.Errorf("%s left behind: %v", n.name, left)
		}
		if v := veths(t, n.ns); len(v) != 0 {
			t.Errorf("%s veths left: %v", n.name, v)
		}
		if ips := allocatedIPs(t, n); len(ips) != 0 {
			t.Errorf("%s IP allocations left: %v", n.name, ips)
		}
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}
