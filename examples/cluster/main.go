// Command cluster runs a Coxswain cluster on one machine the way it would
// run on six: three control-plane members (coxd server, a Raft cluster) and
// three nodes (coxd node), each node in a network namespace of its own with
// its own address on a shared switch. It spreads a Deployment across the
// nodes, then kills the elected leader and a node, and shows the cluster heal:
// a new leader takes over, the lost node is marked NotReady, and its pods are
// replaced on the other nodes.
//
// It needs root; run.sh builds coxd and coxctl and runs it:
//
//	sudo examples/cluster/run.sh
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	crremote "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/vishvananda/netlink"
	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote"
)

const (
	switchIP   = "192.168.77.1"
	subnet     = "/24"
	cgroupRoot = "/coxswain-cluster"
	image      = "127.0.0.1:5000/coxswain/busybox:v1"
	members    = 3
	nodes      = 3
)

func main() {
	coxd := flag.String("coxd", "coxd", "path of the coxd binary")
	coxctl := flag.String("coxctl", "coxctl", "path of the coxctl binary")
	cni := flag.String("cni-bin-dir", os.Getenv("COXSWAIN_CNI_BIN_DIR"), "directory of the CNI plugins")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cluster{coxd: *coxd, coxctl: *coxctl, cni: *cni, procs: map[string]*proc{}}
	err := c.run(ctx)
	c.cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "\ncluster example failed: %v\n", err)
		os.Exit(1)
	}
}

type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	log    string
}

type cluster struct {
	coxd, coxctl, cni string
	dir               string
	sw                string   // the switch's namespace, where the members run
	nodeNS            []string // each node's namespace
	procs             map[string]*proc
	client            store.Store
	undo              []func()
}

func step(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }
func say(format string, args ...any)  { fmt.Printf("    "+format+"\n", args...) }

func memberAPI(i int) string  { return fmt.Sprintf("%s:%d", switchIP, 6440+i) }
func memberRaft(i int) string { return fmt.Sprintf("%s:%d", switchIP, 7000+i) }
func nodeIP(i int) string     { return fmt.Sprintf("192.168.77.%d", 10+i) }

func (c *cluster) servers() string {
	var s []string
	for i := 1; i <= members; i++ {
		s = append(s, "http://"+memberAPI(i))
	}
	return strings.Join(s, ",")
}

func (c *cluster) run(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return errors.New("the cluster example runs real containers and needs root")
	}
	for _, bin := range []*string{&c.coxd, &c.coxctl} {
		p, err := exec.LookPath(*bin)
		if err != nil {
			return fmt.Errorf("%s not found (run.sh builds it): %w", *bin, err)
		}
		*bin, _ = filepath.Abs(p)
	}
	if c.cni == "" {
		c.cni = "/opt/cni/bin"
	}
	var err error
	if c.dir, err = os.MkdirTemp("", "coxswain-cluster-"); err != nil {
		return err
	}

	step("Wiring a switch and three node network namespaces (192.168.77.0/24)")
	if err := c.network(); err != nil {
		return err
	}
	if err := c.registries(); err != nil {
		return err
	}

	step("Starting three control-plane members (coxd server, one Raft cluster)")
	var peers []string
	for i := 1; i <= members; i++ {
		peers = append(peers, fmt.Sprintf("m%d=%s", i, memberRaft(i)))
	}
	for i := 1; i <= members; i++ {
		if err := c.start(fmt.Sprintf("m%d", i), c.sw, "server",
			"-member-id", fmt.Sprintf("m%d", i), "-data-dir", filepath.Join(c.dir, fmt.Sprintf("m%d", i)),
			"-raft-addr", memberRaft(i), "-bootstrap", "-peers", strings.Join(peers, ","),
			"-api-addr", memberAPI(i), "-health-addr", fmt.Sprintf("127.0.0.1:%d", 10260+i),
			"-leader-lease", "6s", "-node-grace-period", "8s", "-pod-eviction-timeout", "4s"); err != nil {
			return err
		}
		say("m%d: API http://%s, Raft %s", i, memberAPI(i), memberRaft(i))
	}
	cl, err := remote.NewClient(remote.ClientConfig{Servers: strings.Split(c.servers(), ","), Transport: c.transport(c.sw),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), WatchRetryTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	c.client = cl
	if err := c.wait(ctx, "a controller leader", 90*time.Second, func() error {
		_, err := c.leader(ctx)
		return err
	}); err != nil {
		return err
	}

	step("Starting three nodes (coxd node), each in its own namespace")
	for i := 1; i <= nodes; i++ {
		n := fmt.Sprintf("node-%d", i)
		if err := c.start(n, c.nodeNS[i-1], "node", "-node-name", n, "-server", c.servers(),
			"-node-ip", nodeIP(i), "-root-dir", filepath.Join(c.dir, n), "-cgroup-root", cgroupRoot+"/"+n,
			"-cni-bin-dir", c.cni, "-health-addr", "127.0.0.1:10250", "-node-api-addr", nodeIP(i)+":10255",
			"-heartbeat-interval", "2s"); err != nil {
			return err
		}
	}
	if err := c.wait(ctx, "three Ready nodes", 60*time.Second, func() error {
		ns, _, err := store.For[*api.Node](c.client).List(ctx, store.ListOptions{})
		if err != nil {
			return err
		}
		ready := 0
		for _, n := range ns {
			if nodeReady(n) {
				ready++
			}
		}
		if ready != nodes {
			return fmt.Errorf("%d of %d nodes ready", ready, nodes)
		}
		return nil
	}); err != nil {
		return err
	}
	c.ctl(ctx, "get", "nodes", "-o", "wide")

	step("Deploying 6 web servers; the scheduler spreads them over the nodes")
	if err := c.deploy(ctx); err != nil {
		return err
	}
	if err := c.waitAvailable(ctx, 6, ""); err != nil {
		return err
	}
	c.ctl(ctx, "get", "pods", "-o", "wide")

	leader, err := c.leader(ctx)
	if err != nil {
		return err
	}
	step("Killing the elected leader (%s) and node-2 with SIGKILL", leader)
	c.kill(leader)
	c.kill("node-2")
	c.unplug(2)
	say("%s and node-2 are gone; node-2's network cable is unplugged", leader)

	step("Watching the cluster heal")
	if err := c.wait(ctx, "a new leader", 60*time.Second, func() error {
		l, err := c.leader(ctx)
		if err != nil {
			return err
		}
		if l == leader {
			return errors.New("old leader still holds the lease")
		}
		say("new controller leader: %s", l)
		return nil
	}); err != nil {
		return err
	}
	if err := c.wait(ctx, "node-2 NotReady", 60*time.Second, func() error {
		n, err := store.For[*api.Node](c.client).Get(ctx, "", "node-2")
		if err != nil {
			return err
		}
		if nodeReady(n) {
			return errors.New("still ready")
		}
		say("node-2 is NotReady")
		return nil
	}); err != nil {
		return err
	}
	if err := c.waitAvailable(ctx, 6, "node-2"); err != nil {
		return err
	}
	say("6 pods available again, none of them on node-2")
	c.ctl(ctx, "get", "nodes")
	c.ctl(ctx, "get", "pods", "-o", "wide")

	step("Cleaning up")
	if _, err := c.client.Delete(ctx, api.KindDeployment, "default", "web", store.DeleteOptions{}); err != nil {
		return err
	}
	// node-2 is gone for good: deleting its Node releases its pods.
	if _, err := c.client.Delete(ctx, api.KindNode, "", "node-2", store.DeleteOptions{}); err != nil {
		return err
	}
	return c.wait(ctx, "every pod gone", 60*time.Second, func() error {
		ps, _, err := store.For[*api.Pod](c.client).List(ctx, store.ListOptions{Namespace: "default"})
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			return fmt.Errorf("%d pods left", len(ps))
		}
		return nil
	})
}

func nodeReady(n *api.Node) bool {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

// leader is the member holding the controllers' Lease.
func (c *cluster) leader(ctx context.Context) (string, error) {
	l, err := store.For[*api.Lease](c.client).Get(ctx, "coxswain-system", "coxd-controllers")
	if err != nil {
		return "", err
	}
	h := l.GetSpec().GetHolderIdentity()
	if h == "" {
		return "", errors.New("no holder")
	}
	return h, nil
}

func (c *cluster) deploy(ctx context.Context) error {
	labels := map[string]string{"app": "web"}
	_, err := c.client.Create(ctx, &api.Deployment{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &api.DeploymentSpec{
			Replicas: proto.Int32(6),
			Selector: &api.LabelSelector{MatchLabels: labels},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: labels},
				Spec: &api.PodSpec{
					TerminationGracePeriodSeconds: 1,
					Containers: []*api.Container{{
						Name: "httpd", Image: image, Command: []string{"sh", "-c"},
						Args: []string{`mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www`},
					}},
				},
			},
		},
	})
	return err
}

// waitAvailable waits for n running, ready pods, none on the node avoid.
func (c *cluster) waitAvailable(ctx context.Context, n int, avoid string) error {
	return c.wait(ctx, fmt.Sprintf("%d available pods", n), 3*time.Minute, func() error {
		ps, _, err := store.For[*api.Pod](c.client).List(ctx, store.ListOptions{Namespace: "default", LabelSelector: "app=web"})
		if err != nil {
			return err
		}
		per := map[string]int{}
		ok := 0
		for _, p := range ps {
			if p.GetMetadata().GetDeletionTimestamp() != nil || p.GetSpec().GetNodeName() == avoid {
				continue
			}
			for _, cs := range p.GetStatus().GetContainerStatuses() {
				if cs.GetReady() {
					ok++
					per[p.GetSpec().GetNodeName()]++
				}
			}
		}
		if ok < n {
			return fmt.Errorf("%d of %d pods ready (%v)", ok, n, per)
		}
		keys := make([]string, 0, len(per))
		for k := range per {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var s []string
		for _, k := range keys {
			s = append(s, fmt.Sprintf("%s: %d", k, per[k]))
		}
		say("ready pods per node: %s", strings.Join(s, ", "))
		return nil
	})
}

// ctl runs coxctl from the switch's namespace, showing the command.
func (c *cluster) ctl(ctx context.Context, args ...string) {
	fmt.Printf("\n    $ coxctl %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + c.sw, c.coxctl}, args...)...)
	cmd.Env = append(os.Environ(), "COXSWAIN_SERVER="+c.servers(), "COXSWAIN_CONFIG=/dev/null")
	out, _ := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		fmt.Println("    " + line)
	}
}

// start runs coxd MODE ARGS in the namespace ns.
func (c *cluster) start(id, ns, mode string, args ...string) error {
	logPath := filepath.Join(c.dir, id+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command("nsenter", append([]string{"--net=" + ns, c.coxd, mode}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	p := &proc{cmd: cmd, exited: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); f.Close(); close(p.exited) }()
	c.procs[id] = p
	return nil
}

// kill sends SIGKILL to a process (nsenter execs coxd, so the pid is coxd's).
func (c *cluster) kill(id string) {
	if p, ok := c.procs[id]; ok {
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// unplug takes node i's link down.
func (c *cluster) unplug(i int) {
	_ = network.Do(c.sw, func() error {
		l, err := netlink.LinkByName(fmt.Sprintf("vn%d", i))
		if err != nil {
			return err
		}
		return netlink.LinkSetDown(l)
	})
}

// wait polls cond until it succeeds or the timeout passes.
func (c *cluster) wait(ctx context.Context, what string, timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (c *cluster) transport(ns string) *http.Transport {
	return &http.Transport{DialContext: func(ctx context.Context, netw, addr string) (net.Conn, error) {
		var conn net.Conn
		err := network.Do(ns, func() error {
			var err error
			conn, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, netw, addr)
			return err
		})
		return conn, err
	}}
}

// network creates the switch namespace with a bridge and, per node, a
// namespace joined to it by a veth pair.
func (c *cluster) network() error {
	var err error
	nsDir := filepath.Join(c.dir, "netns")
	if c.sw, err = network.NewNetNS(nsDir, "switch"); err != nil {
		return err
	}
	err = network.Do(c.sw, func() error {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}
		if err := netlink.LinkAdd(br); err != nil {
			return err
		}
		addr, _ := netlink.ParseAddr(switchIP + subnet)
		if err := netlink.AddrAdd(br, addr); err != nil {
			return err
		}
		return netlink.LinkSetUp(br)
	})
	if err != nil {
		return fmt.Errorf("switch: %w", err)
	}
	for i := 1; i <= nodes; i++ {
		ns, err := network.NewNetNS(nsDir, fmt.Sprintf("node-%d", i))
		if err != nil {
			return err
		}
		c.nodeNS = append(c.nodeNS, ns)
		if err := c.plug(i, ns); err != nil {
			return fmt.Errorf("node-%d: %w", i, err)
		}
		say("node-%d: %s in %s", i, nodeIP(i), ns)
	}
	return nil
}

// plug connects node i's namespace to the switch.
func (c *cluster) plug(i int, ns string) error {
	peer := fmt.Sprintf("vp%d", i)
	err := network.Do(c.sw, func() error {
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: fmt.Sprintf("vn%d", i)}, PeerName: peer}
		if err := netlink.LinkAdd(veth); err != nil {
			return err
		}
		br, err := netlink.LinkByName("br0")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetMaster(veth, br); err != nil {
			return err
		}
		if err := netlink.LinkSetUp(veth); err != nil {
			return err
		}
		p, err := netlink.LinkByName(peer)
		if err != nil {
			return err
		}
		f, err := os.Open(ns)
		if err != nil {
			return err
		}
		defer f.Close()
		return netlink.LinkSetNsFd(p, int(f.Fd()))
	})
	if err != nil {
		return err
	}
	return network.Do(ns, func() error {
		l, err := netlink.LinkByName(peer)
		if err != nil {
			return err
		}
		if err := netlink.LinkSetName(l, "eth0"); err != nil {
			return err
		}
		addr, _ := netlink.ParseAddr(nodeIP(i) + subnet)
		if err := netlink.AddrAdd(l, addr); err != nil {
			return err
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return err
		}
		return netlink.RouteAdd(&netlink.Route{Gw: net.ParseIP(switchIP), LinkIndex: l.Attrs().Index})
	})
}

// registries serves the busybox image on 127.0.0.1:5000 inside every node's
// namespace (one registry, three listeners).
func (c *cluster) registries() error {
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	for _, ns := range c.nodeNS {
		var ln net.Listener
		if err := network.Do(ns, func() error {
			var err error
			ln, err = net.Listen("tcp", "127.0.0.1:5000")
			return err
		}); err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		c.undo = append(c.undo, func() { _ = srv.Close() })
	}
	img, err := imagetest.Busybox()
	if err != nil {
		return fmt.Errorf("building the busybox image (install busybox-static): %w", err)
	}
	ref, err := name.ParseReference(image)
	if err != nil {
		return err
	}
	if err := crremote.Write(ref, img, crremote.WithTransport(c.transport(c.nodeNS[0]))); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	say("image %s served inside every node", image)
	return nil
}

// cleanup stops every process and removes what the example created.
func (c *cluster) cleanup() {
	for id, p := range c.procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		_ = id
	}
	for i := len(c.undo) - 1; i >= 0; i-- {
		c.undo[i]()
	}
	if c.dir == "" {
		return
	}
	ctx := context.Background()
	for i := 1; i <= nodes; i++ {
		n := fmt.Sprintf("node-%d", i)
		state := filepath.Join(c.dir, n, "runtime")
		if _, err := os.Stat(state); err != nil {
			continue
		}
		rt, err := libcontainer.New(libcontainer.Config{StateDir: state, CgroupRoot: cgroupRoot + "/" + n,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			continue
		}
		if sbs, err := rt.ListPodSandboxes(ctx, nil); err == nil {
			for _, sb := range sbs {
				_ = rt.RemovePodSandbox(ctx, sb.ID)
			}
		}
	}
	unmountBelow(c.dir, filepath.Join(c.dir, "netns"))
	for _, ns := range c.nodeNS {
		_ = network.DeleteNetNS(ns)
	}
	if c.sw != "" {
		_ = network.DeleteNetNS(c.sw)
	}
	removeCgroups(cgroupRoot)
	_ = os.RemoveAll(c.dir)
	fmt.Println("\n==> Done: processes, containers, namespaces, cgroups and state removed")
}
