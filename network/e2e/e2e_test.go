package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/cni"
	"github.com/coxswain-io/coxswain/network/dns"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/network/proxy"
	"github.com/coxswain-io/coxswain/network/routes"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

const (
	clusterCIDR = "10.244.0.0/16"
	vip         = "10.96.0.10"
	selfVIP     = "10.96.0.11"
	stickyVIP   = "10.96.0.12"
	emptyVIP    = "10.96.0.13"
	localVIP    = "10.96.0.14"
	nodePort    = 30080
)

type node struct {
	name, ns, ip, podCIDR string
	net                   *cni.Network
	proxy                 *proxy.Proxier
}

type pod struct {
	name, ns, ip, node string
}

// run starts a component's Start in the background, stopped in cleanup.
func run(t *testing.T, name string, start func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
}

func TestTwoNodes(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.HostUnchanged(t)
	ctx := context.Background()
	st := memstore.New()
	plugins := nettest.CNIPluginDir(t)

	// The "switch": a namespace with a bridge the nodes plug into. It also
	// plays an outside client for node ports (192.168.100.254).
	sw := nettest.NetNS(t, "switch")
	nettest.MustRun(t, sw, "ip", "link", "add", "br0", "type", "bridge")
	nettest.MustRun(t, sw, "ip", "addr", "add", "192.168.100.254/24", "dev", "br0")
	nettest.MustRun(t, sw, "ip", "link", "set", "br0", "up")

	nodes := []*node{
		{name: "node-a", ip: "192.168.100.1", podCIDR: "10.244.1.0/24"},
		{name: "node-b", ip: "192.168.100.2", podCIDR: "10.244.2.0/24"},
	}
	for i, n := range nodes {
		n.ns = nettest.NetNS(t, n.name)
		peer := fmt.Sprintf("veth%d", i)
		// Create the pair in the switch and move one end into the node.
		nettest.MustRun(t, sw, "ip", "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", n.ns)
		nettest.MustRun(t, sw, "ip", "link", "set", peer, "master", "br0", "up")
		nettest.MustRun(t, n.ns, "ip", "addr", "add", n.ip+"/24", "dev", "eth0")
		nettest.MustRun(t, n.ns, "ip", "link", "set", "eth0", "up")
		// As on a real network, the nodes' default route points at the
		// "router" (the switch namespace); routes to pod CIDRs are
		// more specific.
		nettest.MustRun(t, n.ns, "ip", "route", "add", "default", "via", "192.168.100.254")

		var err error
		n.net, err = cni.New(cni.Config{PluginDirs: []string{plugins}, NodeNetNS: n.ns,
			StateDir: filepath.Join(t.TempDir(), "cni"), PodCIDR: n.podCIDR})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Create(ctx, &api.Node{
			Metadata: &api.ObjectMeta{Name: n.name},
			Spec:     &api.NodeSpec{PodCidr: n.podCIDR},
			Status:   &api.NodeStatus{Addresses: []*api.NodeAddress{{Type: "InternalIP", Address: n.ip}}},
		}); err != nil {
			t.Fatal(err)
		}
		rm, err := routes.New(routes.Config{Store: st, NodeName: n.name, NetNS: n.ns})
		if err != nil {
			t.Fatal(err)
		}
		run(t, "routes "+n.name, rm.Start)
		n.proxy, err = proxy.New(proxy.Config{Store: st, NetNS: n.ns, Rules: proxy.Options{ClusterCIDR: clusterCIDR, NodeName: n.name}})
		if err != nil {
			t.Fatal(err)
		}
		run(t, "proxy "+n.name, n.proxy.Start)
	}
	a, b := nodes[0], nodes[1]

	// Pods: one on A, two on B, each serving its own name over HTTP.
	newPod := func(n *node, name string) *pod {
		p := &pod{name: name, ns: nettest.NetNS(t, name), node: n.name}
		sb := network.Sandbox{ID: name, NetNS: p.ns, Namespace: "default", Name: name}
		res, err := n.net.SetUp(ctx, sb)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := n.net.TearDown(context.Background(), sb); err != nil {
				t.Errorf("teardown %s: %v", name, err)
			}
		})
		p.ip = res.PrimaryIP().String()
		www := filepath.Join(t.TempDir(), name)
		if err := os.MkdirAll(www, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		nettest.Start(t, p.ns, "busybox", "httpd", "-f", "-p", "8080", "-h", www)
		return p
	}
	pa := newPod(a, "pod-a")
	pb1 := newPod(b, "pod-b1")
	pb2 := newPod(b, "pod-b2")

	get := func(fromNS, url string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := nettest.Run(ctx, fromNS, "timeout", "2", "busybox", "wget", "-q", "-O-", url)
		return strings.TrimSpace(out), err
	}
	mustGet := func(fromNS, url, want string) {
		t.Helper()
		nettest.Eventually(t, 15*time.Second, func() error {
			got, err := get(fromNS, url)
			if err != nil {
				return err
			}
			if want != "" && got != want {
				return fmt.Errorf("GET %s = %q, want %q", url, got, want)
			}
			return nil
		})
	}

	t.Run("PodToPodAcrossNodes", func(t *testing.T) {
		mustGet(pa.ns, "http://"+pb1.ip+":8080/", "pod-b1")
		mustGet(pb2.ns, "http://"+pa.ip+":8080/", "pod-a")
	})

	// A NodePort service over all three pods.
	svcs := store.For[*api.Service](st)
	epss := store.For[*api.Endpoints](st)
	if _, err := svcs.Create(ctx, &api.Service{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &api.ServiceSpec{ClusterIp: vip, Type: "NodePort",
			Ports: []*api.ServicePort{{Name: "http", Port: 80, NodePort: nodePort, Protocol: "TCP"}}},
	}); err != nil {
		t.Fatal(err)
	}
	// waitSynced waits until both proxies have programmed revision rev.
	waitSynced := func(rev int64) {
		t.Helper()
		nettest.Eventually(t, 15*time.Second, func() error {
			for _, n := range nodes {
				if got := n.proxy.SyncedRevision(); got < rev {
					return fmt.Errorf("%s synced revision %d < %d", n.name, got, rev)
				}
			}
			return nil
		})
	}
	setEndpoints := func(name string, ready, notReady []*pod) {
		t.Helper()
		e := &api.Endpoints{Metadata: &api.ObjectMeta{Namespace: "default", Name: name},
			Subsets: []*api.EndpointSubset{{Ports: []*api.EndpointPort{{Name: "http", Port: 8080, Protocol: "TCP"}}}}}
		for _, p := range ready {
			e.Subsets[0].Addresses = append(e.Subsets[0].Addresses, &api.EndpointAddress{Ip: p.ip, NodeName: p.node})
		}
		for _, p := range notReady {
			e.Subsets[0].NotReadyAddresses = append(e.Subsets[0].NotReadyAddresses, &api.EndpointAddress{Ip: p.ip})
		}
		var out api.Object
		var err error
		if cur, gerr := epss.Get(ctx, "default", name); gerr == nil {
			e.Metadata.ResourceVersion = cur.GetMetadata().GetResourceVersion()
			out, err = st.Update(ctx, e)
		} else {
			out, err = st.Create(ctx, e)
		}
		if err != nil {
			t.Fatal(err)
		}
		waitSynced(out.GetMetadata().GetResourceVersion())
	}
	setEndpoints("web", []*pod{pa, pb1, pb2}, nil)

	spread := func(fromNS, url string, n int) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for range n {
			got, err := get(fromNS, url)
			if err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
			seen[got]++
		}
		t.Logf("GET %s x%d from %s: %v", url, n, filepath.Base(fromNS), seen)
		return seen
	}

	t.Run("ClusterIPSpreadsOverReadyEndpoints", func(t *testing.T) {
		mustGet(pa.ns, "http://"+vip+"/", "")
		seen := spread(pa.ns, "http://"+vip+"/", 30)
		for _, p := range []string{"pod-a", "pod-b1", "pod-b2"} {
			if seen[p] == 0 {
				t.Errorf("%s got no traffic: %v", p, seen)
			}
		}
		// From the other node's pod too.
		mustGet(pb1.ns, "http://"+vip+"/", "")
	})

	t.Run("NodePortOnEveryNode", func(t *testing.T) {
		for _, n := range nodes {
			mustGet(sw, fmt.Sprintf("http://%s:%d/", n.ip, nodePort), "")
			seen := spread(sw, fmt.Sprintf("http://%s:%d/", n.ip, nodePort), 15)
			if len(seen) < 2 {
				t.Errorf("node port on %s reached only %v", n.name, seen)
			}
		}
	})

	t.Run("ExternalIP", func(t *testing.T) {
		const extIP = "192.0.2.80"
		updated, err := svcs.Mutate(ctx, "default", "web", func(s *api.Service) error {
			s.Spec.ExternalIps = []string{extIP}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		waitSynced(updated.GetMetadata().GetResourceVersion())
		// The outside client routes the external IP to node B.
		nettest.MustRun(t, sw, "ip", "route", "add", extIP+"/32", "via", b.ip)
		mustGet(sw, "http://"+extIP+"/", "")
		if seen := spread(sw, "http://"+extIP+"/", 15); len(seen) < 2 {
			t.Errorf("external IP reached only %v", seen)
		}
	})

	t.Run("ExternalTrafficPolicyLocal", func(t *testing.T) {
		if _, err := svcs.Create(ctx, &api.Service{
			Metadata: &api.ObjectMeta{Namespace: "default", Name: "local"},
			Spec: &api.ServiceSpec{ClusterIp: localVIP, Type: "NodePort", ExternalTrafficPolicy: "Local",
				Ports: []*api.ServicePort{{Name: "http", Port: 80, NodePort: nodePort + 2, Protocol: "TCP"}}},
		}); err != nil {
			t.Fatal(err)
		}
		setEndpoints("local", []*pod{pa, pb1, pb2}, nil)
		for _, n := range nodes {
			url := fmt.Sprintf("http://%s:%d/", n.ip, nodePort+2)
			mustGet(sw, url, "")
			for got := range spread(sw, url, 12) {
				if (n == a) != (got == "pod-a") {
					t.Errorf("node port on %s with policy Local reached %s on another node", n.name, got)
				}
			}
		}
	})

	t.Run("NotReadyEndpointStopsReceiving", func(t *testing.T) {
		setEndpoints("web", []*pod{pa, pb1}, []*pod{pb2})
		seen := spread(pa.ns, "http://"+vip+"/", 20)
		if seen["pod-b2"] != 0 {
			t.Errorf("not-ready pod-b2 got traffic: %v", seen)
		}
		if seen["pod-a"]+seen["pod-b1"] != 20 {
			t.Errorf("traffic went elsewhere: %v", seen)
		}
	})

	t.Run("HairpinThroughOwnService", func(t *testing.T) {
		if _, err := svcs.Create(ctx, &api.Service{
			Metadata: &api.ObjectMeta{Namespace: "default", Name: "self"},
			Spec:     &api.ServiceSpec{ClusterIp: selfVIP, Ports: []*api.ServicePort{{Name: "http", Port: 80, Protocol: "TCP"}}},
		}); err != nil {
			t.Fatal(err)
		}
		setEndpoints("self", []*pod{pa}, nil)
		mustGet(pa.ns, "http://"+selfVIP+"/", "pod-a")
	})

	t.Run("SessionAffinityClientIP", func(t *testing.T) {
		if _, err := svcs.Create(ctx, &api.Service{
			Metadata: &api.ObjectMeta{Namespace: "default", Name: "sticky"},
			Spec: &api.ServiceSpec{ClusterIp: stickyVIP, SessionAffinity: "ClientIP",
				Ports: []*api.ServicePort{{Name: "http", Port: 80, Protocol: "TCP"}}},
		}); err != nil {
			t.Fatal(err)
		}
		setEndpoints("sticky", []*pod{pa, pb1, pb2}, nil)
		mustGet(pb1.ns, "http://"+stickyVIP+"/", "")
		for _, client := range []*pod{pa, pb1} {
			if seen := spread(client.ns, "http://"+stickyVIP+"/", 12); len(seen) != 1 {
				t.Errorf("client %s was spread over %v despite ClientIP affinity", client.name, seen)
			}
		}
	})

	t.Run("NoEndpointsRejected", func(t *testing.T) {
		if _, err := svcs.Create(ctx, &api.Service{
			Metadata: &api.ObjectMeta{Namespace: "default", Name: "empty"},
			Spec: &api.ServiceSpec{ClusterIp: emptyVIP, Type: "NodePort",
				Ports: []*api.ServicePort{{Name: "http", Port: 80, NodePort: nodePort + 1, Protocol: "TCP"}}},
		}); err != nil {
			t.Fatal(err)
		}
		setEndpoints("empty", nil, []*pod{pb2})
		for _, target := range []struct{ from, url string }{
			{pa.ns, "http://" + emptyVIP + "/"},
			{sw, fmt.Sprintf("http://%s:%d/", b.ip, nodePort+1)},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			t0 := time.Now()
			out, err := nettest.Run(ctx, target.from, "timeout", "5", "busybox", "wget", "-q", "-O-", target.url)
			cancel()
			t.Logf("GET %s: %v after %v", target.url, err, time.Since(t0))
			if err == nil || !strings.Contains(out, "refused") {
				t.Errorf("GET %s without endpoints: %v %q, want connection refused", target.url, err, out)
			}
		}
	})

	t.Run("DNS", func(t *testing.T) {
		srv, err := dns.New(dns.Config{Store: st, Addr: a.ip + ":53", NetNS: a.ns})
		if err != nil {
			t.Fatal(err)
		}
		run(t, "dns", srv.Start)
		select {
		case <-srv.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("dns not ready")
		}
		// A pod on the other node resolves the service through the node network.
		nettest.Eventually(t, 10*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			out, err := nettest.Run(ctx, pb1.ns, "timeout", "3", "busybox", "nslookup", "web.default.svc.cluster.local", a.ip)
			if err != nil {
				return err
			}
			if !strings.Contains(out, vip) {
				return fmt.Errorf("nslookup: %s", out)
			}
			return nil
		})
		// And reaches it by its short name through a resolv.conf from
		// ResolvConf (bind-mounted over /etc/resolv.conf in a private mount
		// namespace of the client, as a container's would be).
		conf, err := dns.ResolvConf("default", "", []string{a.ip})
		if err != nil {
			t.Fatal(err)
		}
		confPath := filepath.Join(t.TempDir(), "resolv.conf")
		if err := os.WriteFile(confPath, conf, 0o644); err != nil {
			t.Fatal(err)
		}
		nettest.Eventually(t, 10*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			out, err := nettest.Run(ctx, pb1.ns, "unshare", "-m", "sh", "-c",
				"mount --bind "+confPath+" /etc/resolv.conf && timeout 2 busybox wget -q -O- http://web/")
			if err != nil {
				return err
			}
			if got := strings.TrimSpace(out); got != "pod-a" && got != "pod-b1" {
				return fmt.Errorf("GET http://web/ = %q", got)
			}
			return nil
		})
	})
}
