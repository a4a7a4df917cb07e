package e2e_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/alloc"
	"github.com/coxswain-io/coxswain/network/cni"
	"github.com/coxswain-io/coxswain/network/dns"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/network/proxy"
	"github.com/coxswain-io/coxswain/network/routes"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/endpoints"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

const (
	clusterCIDR = "10.244.0.0/16"
	serviceCIDR = "10.96.0.0/16"
)

// webScript serves the pod's name over HTTP on 8080 and marks it ready
// (the readiness probe tests /tmp/ready).
// /cgi-bin/ip answers the client address the server sees.
const webScript = `mkdir -p /www/cgi-bin && echo $POD_NAME > /www/index.html && ` +
	`printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho $REMOTE_ADDR\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && ` +
	`touch /tmp/ready && httpd -p 8080 -h /www && ` + idle

// cluster is two nodes with real agents, CNI, routes and proxies, and one
// memstore control plane with the Endpoints controller.
type cluster struct {
	st      store.Store
	image   string
	sw      string // the switch namespace, also an outside client
	plugins string // CNI plugin dir
	nodes   []*node
	proxies []*proxy.Proxier
}

// newCluster builds the switch and the nodes, assigns pod CIDRs through the
// allocator, and starts the agents, routes, proxies, the DNS server (on the
// first node's address) and the Endpoints controller.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	requireRoot(t)
	nettest.HostUnchanged(t)
	hostMountsUnchanged(t)
	ctx := context.Background()
	c := &cluster{st: memstore.New(), image: imagetest.BusyboxRef(t)}
	c.plugins = nettest.CNIPluginDir(t)

	// The switch: a namespace with a bridge the nodes plug into; it also
	// plays the outside client of node ports (192.168.77.254).
	c.sw = nettest.NetNS(t, "switch")
	nettest.MustRun(t, c.sw, "ip", "link", "add", "br0", "type", "bridge")
	nettest.MustRun(t, c.sw, "ip", "addr", "add", "192.168.77.254/24", "dev", "br0")
	nettest.MustRun(t, c.sw, "ip", "link", "set", "br0", "up")

	nodes := store.For[*api.Node](c.st)
	for i, name := range []string{"node-a", "node-b"} {
		n := newNode(t, name)
		n.ip = fmt.Sprintf("192.168.77.%d", i+1)
		n.ns = nettest.NetNS(t, name)
		peer := fmt.Sprintf("veth%d", i)
		nettest.MustRun(t, c.sw, "ip", "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", n.ns)
		nettest.MustRun(t, c.sw, "ip", "link", "set", peer, "master", "br0", "up")
		nettest.MustRun(t, n.ns, "ip", "addr", "add", n.ip+"/24", "dev", "eth0")
		nettest.MustRun(t, n.ns, "ip", "link", "set", "eth0", "up")
		nettest.MustRun(t, n.ns, "ip", "route", "add", "default", "via", "192.168.77.254")
		if _, err := nodes.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: name}, Spec: &api.NodeSpec{}}); err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, n)
	}
	// The control plane's allocator gives each node its pod CIDR.
	cidrs, err := alloc.AssignPodCIDRs(ctx, c.st, clusterCIDR, 24)
	if err != nil {
		t.Fatal(err)
	}
	// The first node serves cluster DNS on its address.
	srv, err := dns.New(dns.Config{Store: c.st, Addr: c.nodes[0].ip + ":53", NetNS: c.nodes[0].ns})
	if err != nil {
		t.Fatal(err)
	}
	runBG(t, "dns", srv.Start)
	for _, n := range c.nodes {
		p, ok := cidrs[n.name]
		if !ok {
			t.Fatalf("no pod CIDR for %s: %v", n.name, cidrs)
		}
		n.podCIDR = p.String()
		n.cniState = filepath.Join(t.TempDir(), "cni")
		rm, err := routes.New(routes.Config{Store: c.st, NodeName: n.name, NetNS: n.ns, CleanupOnExit: true})
		if err != nil {
			t.Fatal(err)
		}
		runBG(t, "routes "+n.name, rm.Start)
		px, err := proxy.New(proxy.Config{Store: c.st, NetNS: n.ns, CleanupOnExit: true,
			Rules: proxy.Options{ClusterCIDR: clusterCIDR, NodeName: n.name}})
		if err != nil {
			t.Fatal(err)
		}
		runBG(t, "proxy "+n.name, px.Start)
		c.proxies = append(c.proxies, px)
		c.startAgent(t, n)
	}
	// The Endpoints controller, as the control plane runs it.
	mgr, err := manager.New(manager.Options{Store: c.st, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := endpoints.Add(mgr, endpoints.Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	runBG(t, "controllers", mgr.Start)
	select {
	case <-srv.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("dns server not ready")
	}
	return c
}

// startAgent runs the node's agent with a CNI network over the node's CNI
// state and the first node's address as cluster DNS.
func (c *cluster) startAgent(t *testing.T, n *node) {
	t.Helper()
	netw, err := cni.New(cni.Config{PluginDirs: []string{c.plugins}, NodeNetNS: n.ns,
		StateDir: n.cniState, PodCIDR: n.podCIDR})
	if err != nil {
		t.Fatal(err)
	}
	n.start(t, c.st, func(cfg *agent.Config) {
		cfg.Network = netw
		cfg.HostNetNS = n.ns
		cfg.ClusterDNS = []string{c.nodes[0].ip}
	})
}

// webPod is a pod serving its name, labelled app=web, with a readiness
// probe on /tmp/ready.
func (c *cluster) webPod(name string, n *node) *api.Pod {
	p := busybox(name, n.name, c.image, webScript)
	p.Metadata.Labels["app"] = "web"
	ctr := p.Spec.Containers[0]
	ctr.Env = []*api.EnvVar{{Name: "POD_NAME", ValueFrom: &api.EnvVarSource{
		FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
	ctr.ReadinessProbe = &api.Probe{PeriodSeconds: 1, FailureThreshold: 1,
		Exec: &api.ExecAction{Command: []string{"test", "-f", "/tmp/ready"}}}
	ctr.Ports = []*api.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: "TCP"}}
	return p
}

// port8080 is the web pods' port by number; portHTTP by name.
var (
	port8080 = &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: 8080}}
	portHTTP = &api.IntOrString{Value: &api.IntOrString_StrVal{StrVal: "http"}}
)

// service creates a Service over the pods matching selector, port 80 to
// target, gives it its cluster IP (and node port) through the allocator and
// returns it.
func (c *cluster) service(t *testing.T, name, typ string, selector map[string]string, target *api.IntOrString) *api.Service {
	t.Helper()
	ctx := context.Background()
	if _, err := c.st.Create(ctx, &api.Service{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: name},
		Spec: &api.ServiceSpec{Type: typ, Selector: selector, Ports: []*api.ServicePort{{
			Name: "http", Port: 80, Protocol: "TCP", TargetPort: target,
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := alloc.AssignServices(ctx, c.st, alloc.ServiceRanges{ServiceCIDR: serviceCIDR}); err != nil {
		t.Fatal(err)
	}
	svc, err := store.For[*api.Service](c.st).Get(ctx, "default", name)
	if err != nil {
		t.Fatal(err)
	}
	if svc.GetSpec().GetClusterIp() == "" || (typ == "NodePort" && svc.GetSpec().GetPorts()[0].GetNodePort() == 0) {
		t.Fatalf("service %s not allocated: %v", name, svc.GetSpec())
	}
	return svc
}

// waitEndpoints waits until the service's Endpoints list exactly the given
// ready and not-ready pod IPs, then until every proxy has programmed them.
func (c *cluster) waitEndpoints(t *testing.T, name string, ready, notReady []string) {
	t.Helper()
	slices.Sort(ready)
	slices.Sort(notReady)
	var rev int64
	eventually(t, 30*time.Second, "endpoints of "+name, func() (bool, string) {
		ep, err := store.For[*api.Endpoints](c.st).Get(context.Background(), "default", name)
		if err != nil {
			return false, err.Error()
		}
		var r, nr []string
		for _, s := range ep.GetSubsets() {
			for _, a := range s.GetAddresses() {
				r = append(r, a.GetIp())
			}
			for _, a := range s.GetNotReadyAddresses() {
				nr = append(nr, a.GetIp())
			}
		}
		slices.Sort(r)
		slices.Sort(nr)
		rev = ep.GetMetadata().GetResourceVersion()
		return slices.Equal(r, ready) && slices.Equal(nr, notReady), fmt.Sprintf("ready %v notReady %v", r, nr)
	})
	c.waitSynced(t, rev)
}

// waitSynced waits until every proxy has programmed store revision rev.
func (c *cluster) waitSynced(t *testing.T, rev int64) {
	t.Helper()
	eventually(t, 30*time.Second, "proxies synced", func() (bool, string) {
		for i, px := range c.proxies {
			if got := px.SyncedRevision(); got < rev {
				return false, fmt.Sprintf("%s at revision %d < %d", c.nodes[i].name, got, rev)
			}
		}
		return true, ""
	})
}

// fetch GETs url n times from inside the pod's container and counts the
// answers (failed requests count under "").
func (c *cluster) fetch(t *testing.T, rt *node, id, url string, n int) map[string]int {
	t.Helper()
	script := fmt.Sprintf(`for i in $(seq %d); do echo "=$(timeout 2 wget -q -O- %s 2>/dev/null)"; done`, n, url)
	out := mustExec(t, rt.rt, id, script)
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		seen[strings.TrimPrefix(line, "=")]++
	}
	t.Logf("GET %s x%d: %v", url, n, seen)
	return seen
}

// reach polls until one GET of url from inside the container answers want
// (any answer if want is empty).
func (c *cluster) reach(t *testing.T, n *node, id, url, want string) {
	t.Helper()
	eventually(t, 20*time.Second, "GET "+url, func() (bool, string) {
		out, code, err := execIn(context.Background(), n.rt, id, "timeout 2 wget -q -O- "+url)
		// httpd reports IPv4 clients of its dual-stack socket as [::ffff:a.b.c.d].
		got := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(out), "[::ffff:"), "]")
		if err != nil || code != 0 {
			return false, fmt.Sprintf("code %d err %v: %s", code, err, out)
		}
		return want == "" || got == want, fmt.Sprintf("got %q, want %q", got, want)
	})
}

type webPod struct {
	name, ip, id string
	node         *node
}

func TestTwoNodeServices(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	a, b := c.nodes[0], c.nodes[1]

	var pods []*webPod
	for _, w := range []struct {
		name string
		n    *node
	}{{"web-a", a}, {"web-b1", b}, {"web-b2", b}} {
		if _, err := c.st.Create(ctx, c.webPod(w.name, w.n)); err != nil {
			t.Fatal(err)
		}
		pods = append(pods, &webPod{name: w.name, node: w.n})
	}
	for _, p := range pods {
		got := waitPod(t, c.st, "default", p.name, "ready", podReady)
		p.ip, p.id = got.GetStatus().GetPodIp(), containerID(t, got, "main")
		if !strings.HasPrefix(p.ip, strings.TrimSuffix(p.node.podCIDR, "0/24")) {
			t.Fatalf("%s has IP %s outside its node's CIDR %s", p.name, p.ip, p.node.podCIDR)
		}
	}
	wa, wb1, wb2 := pods[0], pods[1], pods[2]
	ips := []string{wa.ip, wb1.ip, wb2.ip}

	t.Run("PodToPodAcrossNodes", func(t *testing.T) {
		c.reach(t, a, wa.id, "http://"+wb1.ip+":8080/", "web-b1")
		c.reach(t, b, wb2.id, "http://"+wa.ip+":8080/", "web-a")
		// No NAT between pods: each server sees the client's pod IP.
		c.reach(t, a, wa.id, "http://"+wb1.ip+":8080/cgi-bin/ip", wa.ip)
		c.reach(t, b, wb1.id, "http://"+wa.ip+":8080/cgi-bin/ip", wb1.ip)
	})

	// The target port by name: the Endpoints controller resolves it per pod.
	web := c.service(t, "web", "NodePort", map[string]string{"app": "web"}, portHTTP)
	vip := web.GetSpec().GetClusterIp()
	nodePort := strconv.Itoa(int(web.GetSpec().GetPorts()[0].GetNodePort()))
	c.waitEndpoints(t, "web", ips, nil)

	t.Run("ClusterIPFromBothNodes", func(t *testing.T) {
		c.reach(t, a, wa.id, "http://"+vip+"/", "")
		c.reach(t, b, wb1.id, "http://"+vip+"/", "")
	})

	t.Run("ClusterIPFromNodes", func(t *testing.T) {
		// A process on the node itself (in the node's namespace).
		for _, n := range c.nodes {
			eventually(t, 20*time.Second, n.name+" GET VIP", func() (bool, string) {
				tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				out, err := nettest.Run(tctx, n.ns, "timeout", "2", "busybox", "wget", "-q", "-O-", "http://"+vip+"/")
				return err == nil && strings.HasPrefix(out, "web-"), fmt.Sprint(out, err)
			})
		}
	})

	t.Run("NodePortFromPodsAndOutside", func(t *testing.T) {
		for _, n := range c.nodes {
			url := "http://" + n.ip + ":" + nodePort + "/"
			c.reach(t, a, wa.id, url, "")
			c.reach(t, b, wb1.id, url, "")
			eventually(t, 20*time.Second, "outside GET "+url, func() (bool, string) {
				tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				out, err := nettest.Run(tctx, c.sw, "timeout", "2", "busybox", "wget", "-q", "-O-", url)
				return err == nil && strings.HasPrefix(out, "web-"), fmt.Sprint(out, err)
			})
			// From outside, each node's port spreads over pods on both nodes.
			seen := map[string]int{}
			for range 15 {
				tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				out, err := nettest.Run(tctx, c.sw, "timeout", "2", "busybox", "wget", "-q", "-O-", url)
				cancel()
				if err != nil {
					t.Fatalf("outside GET %s: %v", url, err)
				}
				seen[strings.TrimSpace(out)]++
			}
			t.Logf("outside GET %s x15: %v", url, seen)
			if seen["web-a"] == 0 || seen["web-b1"]+seen["web-b2"] == 0 {
				t.Errorf("node port on %s did not reach both nodes' pods: %v", n.name, seen)
			}
		}
	})

	t.Run("HostPort", func(t *testing.T) {
		hp := c.webPod("hostport", b)
		delete(hp.Metadata.Labels, "app") // not behind the service
		hp.Spec.Containers[0].Ports[0].HostPort = 18080
		if _, err := c.st.Create(ctx, hp); err != nil {
			t.Fatal(err)
		}
		waitPod(t, c.st, "default", "hostport", "ready", podReady)
		url := "http://" + b.ip + ":18080/"
		eventually(t, 20*time.Second, "outside GET "+url, func() (bool, string) {
			tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			out, err := nettest.Run(tctx, c.sw, "timeout", "2", "busybox", "wget", "-q", "-O-", url)
			return err == nil && strings.TrimSpace(out) == "hostport", fmt.Sprint(out, err)
		})
		c.reach(t, a, wa.id, url, "hostport")
		if _, err := c.st.Delete(ctx, api.KindPod, "default", "hostport", store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c.st, "default", "hostport")
	})

	t.Run("HostNetworkPod", func(t *testing.T) {
		hn := c.webPod("hostnet", b)
		delete(hn.Metadata.Labels, "app")
		hn.Spec.HostNetwork = true
		if _, err := c.st.Create(ctx, hn); err != nil {
			t.Fatal(err)
		}
		got := waitPod(t, c.st, "default", "hostnet", "ready", podReady)
		if ip := got.GetStatus().GetPodIp(); ip != b.ip {
			t.Errorf("hostNetwork pod IP %s, want the node's %s", ip, b.ip)
		}
		if out := mustExec(t, b.rt, containerID(t, got, "main"), "ip -4 -o addr show eth0"); !strings.Contains(out, b.ip+"/") {
			t.Errorf("the hostNetwork pod is not in its node's namespace: %s", out)
		}
		url := "http://" + b.ip + ":8080/"
		eventually(t, 20*time.Second, "outside GET "+url, func() (bool, string) {
			tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			out, err := nettest.Run(tctx, c.sw, "timeout", "2", "busybox", "wget", "-q", "-O-", url)
			return err == nil && strings.TrimSpace(out) == "hostnet", fmt.Sprint(out, err)
		})
		if _, err := c.st.Delete(ctx, api.KindPod, "default", "hostnet", store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c.st, "default", "hostnet")
	})

	t.Run("NetworkProbes", func(t *testing.T) {
		// httpGet readiness on the named port and tcpSocket liveness, which
		// the agent runs from the pod's network namespace.
		pp := c.webPod("probed", b)
		delete(pp.Metadata.Labels, "app")
		ctr := pp.Spec.Containers[0]
		ctr.ReadinessProbe = &api.Probe{PeriodSeconds: 1, FailureThreshold: 1,
			HttpGet: &api.HTTPGetAction{Path: "/index.html", Port: portHTTP}}
		ctr.LivenessProbe = &api.Probe{PeriodSeconds: 1, FailureThreshold: 2,
			TcpSocket: &api.TCPSocketAction{Port: port8080}}
		if _, err := c.st.Create(ctx, pp); err != nil {
			t.Fatal(err)
		}
		got := waitPod(t, c.st, "default", "probed", "ready", podReady)
		id := containerID(t, got, "main")
		// The server goes away: not ready, then restarted by liveness
		// (the script starts it again), then ready again.
		mustExec(t, b.rt, id, "killall httpd")
		waitPod(t, c.st, "default", "probed", "restarted and ready", func(p *api.Pod) bool {
			for _, cs := range p.GetStatus().GetContainerStatuses() {
				if cs.GetName() == "main" {
					return cs.GetRestartCount() >= 1 && podReady(p)
				}
			}
			return false
		})
		if _, err := c.st.Delete(ctx, api.KindPod, "default", "probed", store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c.st, "default", "probed")
	})

	t.Run("VIPSpreadsOverReadyEndpoints", func(t *testing.T) {
		seen := c.fetch(t, a, wa.id, "http://"+vip+"/", 30)
		for _, p := range pods {
			if seen[p.name] == 0 {
				t.Errorf("%s got no traffic through the VIP: %v", p.name, seen)
			}
		}
		if seen[""] != 0 {
			t.Errorf("%d requests failed: %v", seen[""], seen)
		}
	})

	t.Run("NotReadyPodStopsReceiving", func(t *testing.T) {
		mustExec(t, b.rt, wb2.id, "rm /tmp/ready")
		waitPod(t, c.st, "default", wb2.name, "not ready", func(p *api.Pod) bool { return !podReady(p) })
		c.waitEndpoints(t, "web", []string{wa.ip, wb1.ip}, []string{wb2.ip})
		seen := c.fetch(t, b, wb1.id, "http://"+vip+"/", 20)
		if seen["web-b2"] != 0 || seen["web-a"]+seen["web-b1"] != 20 {
			t.Errorf("traffic with web-b2 not ready: %v, want only web-a and web-b1", seen)
		}
		// Ready again: it gets traffic again.
		mustExec(t, b.rt, wb2.id, "touch /tmp/ready")
		waitPod(t, c.st, "default", wb2.name, "ready again", podReady)
		c.waitEndpoints(t, "web", ips, nil)
		if seen := c.fetch(t, a, wa.id, "http://"+vip+"/", 30); seen["web-b2"] == 0 {
			t.Errorf("web-b2 ready again but got no traffic: %v", seen)
		}
	})

	t.Run("SessionAffinityClientIP", func(t *testing.T) {
		svc := c.service(t, "sticky", "ClusterIP", map[string]string{"app": "web"}, portHTTP)
		updated, err := store.For[*api.Service](c.st).Mutate(ctx, "default", "sticky", func(s *api.Service) error {
			s.Spec.SessionAffinity = "ClientIP"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		c.waitEndpoints(t, "sticky", ips, nil)
		c.waitSynced(t, updated.GetMetadata().GetResourceVersion())
		url := "http://" + svc.GetSpec().GetClusterIp() + "/"
		for _, client := range []*webPod{wa, wb1} {
			c.reach(t, client.node, client.id, url, "")
			if seen := c.fetch(t, client.node, client.id, url, 12); len(seen) != 1 {
				t.Errorf("%s was spread over %v despite ClientIP affinity", client.name, seen)
			}
		}
	})

	t.Run("HairpinThroughOwnService", func(t *testing.T) {
		for _, p := range []*webPod{wa, wb1} {
			svc := c.service(t, "solo-"+p.name, "ClusterIP", map[string]string{"pod": p.name}, port8080)
			c.waitEndpoints(t, svc.GetMetadata().GetName(), []string{p.ip}, nil)
			c.reach(t, p.node, p.id, "http://"+svc.GetSpec().GetClusterIp()+"/", p.name)
		}
	})

	t.Run("DNS", func(t *testing.T) {
		for _, p := range []*webPod{wa, wb1} {
			conf := mustExec(t, p.node.rt, p.id, "cat /etc/resolv.conf")
			if !strings.Contains(conf, "nameserver "+a.ip) || !strings.Contains(conf, "search default.svc.cluster.local") {
				t.Fatalf("%s resolv.conf:\n%s", p.name, conf)
			}
			eventually(t, 20*time.Second, p.name+" nslookup", func() (bool, string) {
				out, code, err := execIn(ctx, p.node.rt, p.id, "timeout 3 nslookup web.default.svc.cluster.local")
				return err == nil && code == 0 && strings.Contains(out, vip), fmt.Sprintf("code %d err %v: %s", code, err, out)
			})
			// By the short name through the search path.
			c.reach(t, p.node, p.id, "http://web/", "")
		}
	})

	t.Run("HeadlessServiceByDNS", func(t *testing.T) {
		if _, err := c.st.Create(ctx, &api.Service{
			Metadata: &api.ObjectMeta{Namespace: "default", Name: "direct"},
			Spec: &api.ServiceSpec{ClusterIp: "None", Selector: map[string]string{"app": "web"},
				Ports: []*api.ServicePort{{Name: "http", Port: 8080, Protocol: "TCP"}}},
		}); err != nil {
			t.Fatal(err)
		}
		c.waitEndpoints(t, "direct", ips, nil)
		eventually(t, 20*time.Second, "headless lookup", func() (bool, string) {
			out, code, err := execIn(ctx, b.rt, wb1.id, "timeout 3 nslookup direct.default.svc.cluster.local")
			for _, ip := range ips {
				if !strings.Contains(out, ip) {
					return false, fmt.Sprintf("code %d err %v: %s lacks %s", code, err, out, ip)
				}
			}
			return true, ""
		})
		c.reach(t, a, wa.id, "http://direct:8080/", "")
	})

	t.Run("DeletedServiceLeavesNoRules", func(t *testing.T) {
		svc, err := store.For[*api.Service](c.st).Get(ctx, "default", "solo-web-a")
		if err != nil {
			t.Fatal(err)
		}
		soloVIP := svc.GetSpec().GetClusterIp()
		if _, err := c.st.Delete(ctx, api.KindService, "default", "solo-web-a", store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, n := range c.nodes {
			eventually(t, 20*time.Second, "rules of "+soloVIP+" removed on "+n.name, func() (bool, string) {
				out, err := nettest.Run(ctx, n.ns, "iptables-save", "-t", "nat")
				return err == nil && !strings.Contains(out, soloVIP), out
			})
		}
		if out, code, err := execIn(ctx, a.rt, wa.id, "timeout 2 wget -q -O- http://"+soloVIP+"/"); err != nil || code == 0 {
			t.Errorf("the deleted service's VIP still answers: code %d err %v: %s", code, err, out)
		}
		// Its cluster IP is released: the allocator, rebuilt from the
		// stored services, hands the lowest free address to the next one.
		if got := c.service(t, "reuse", "ClusterIP", map[string]string{"pod": wa.name}, port8080).GetSpec().GetClusterIp(); got != soloVIP {
			t.Errorf("next service got %s, want the released %s", got, soloVIP)
		}
	})

	// Deleting the pods releases them and leaves nothing on the nodes.
	for _, p := range pods {
		if _, err := c.st.Delete(ctx, api.KindPod, "default", p.name, store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pods {
		waitGone(t, c.st, "default", p.name)
	}
	for _, n := range c.nodes {
		if left := n.leftovers(); len(left) > 0 {
			t.Errorf("%s left behind: %v", n.name, left)
		}
	}
}
