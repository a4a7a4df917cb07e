package agent

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/orchestrator/events"
	"github.com/coxswain-io/coxswain/runtime"
)

// probeState is the result history of one probe of one container.
type probeState struct {
	lastRun   time.Time
	successes int
	failures  int
	// ok is the probe's current verdict (thresholds applied).
	ok bool
}

func probeKey(containerID, kind string) string { return containerID + "/" + kind }

// isReady reports whether a running container is ready: its readiness
// probe has passed, or it has none.
func (a *Agent) isReady(c *api.Container, cur *runtime.ContainerStatus, st *podState) bool {
	if c.GetReadinessProbe() == nil {
		return true
	}
	ps := st.probes[probeKey(cur.ID, "readiness")]
	return ps != nil && ps.ok
}

// probe runs the liveness and readiness probes of a running container that
// are due; a liveness failure past its threshold stops the container (the
// restart policy then decides).
func (a *Agent) probe(ctx context.Context, pod *api.Pod, st *podState, sb *runtime.SandboxStatus, podIP string,
	c *api.Container, cur *runtime.ContainerStatus, wake func(time.Time), log interface{ Info(string, ...any) }) {
	for _, kind := range []string{"startup", "liveness", "readiness"} {
		var p *api.Probe
		switch kind {
		case "startup":
			p = c.GetStartupProbe()
		case "liveness":
			p = c.GetLivenessProbe()
		default:
			p = c.GetReadinessProbe()
		}
		if p == nil {
			continue
		}
		if kind != "startup" && !a.started(c, cur, st) {
			// Liveness and readiness wait for the startup probe.
			continue
		}
		key := probeKey(cur.ID, kind)
		ps := st.probes[key]
		if ps == nil {
			ps = &probeState{ok: kind == "liveness"}
			st.probes[key] = ps
		}
		if kind == "startup" && ps.ok {
			continue // passed once: never run again for this container
		}
		period := secondsOr(p.GetPeriodSeconds(), 10)
		due := cur.StartedAt.Add(time.Duration(p.GetInitialDelaySeconds()) * time.Second)
		if !ps.lastRun.IsZero() {
			due = ps.lastRun.Add(period)
		}
		now := a.now()
		if now.Before(due) {
			wake(due)
			continue
		}
		ps.lastRun = now
		wake(now.Add(period))
		err := a.runProbe(ctx, p, sb, podIP, c, cur)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			ps.successes++
			ps.failures = 0
			if ps.successes >= int(max(p.GetSuccessThreshold(), 1)) {
				ps.ok = true
			}
		} else {
			a.event(ctx, pod, events.TypeWarning, "Unhealthy", "%s probe of container %s failed: %v", kind, c.GetName(), err)
			ps.failures++
			ps.successes = 0
			if ps.failures >= failureThreshold(p) {
				ps.ok = false
			}
		}
		startupFailed := kind == "startup" && err != nil && ps.failures >= failureThreshold(p)
		if (kind == "liveness" && !ps.ok) || startupFailed {
			log.Info(kind+" probe failed, restarting container", "container", c.GetName(), "err", err)
			a.event(ctx, pod, events.TypeNormal, "Killing", "container %s failed its %s probe, will be restarted", c.GetName(), kind)
			grace := st.grace
			if g := p.GetTerminationGracePeriodSeconds(); g > 0 {
				grace = time.Duration(g) * time.Second
			}
			_ = a.cfg.Runtime.StopContainer(ctx, cur.ID, grace)
			for _, k := range []string{"startup", "liveness", "readiness"} {
				delete(st.probes, probeKey(cur.ID, k))
			}
			return
		}
	}
}

func failureThreshold(p *api.Probe) int {
	if t := int(p.GetFailureThreshold()); t > 0 {
		return t
	}
	return 3
}

// started reports whether a running container has passed its startup
// probe (or has none).
func (a *Agent) started(c *api.Container, cur *runtime.ContainerStatus, st *podState) bool {
	if c.GetStartupProbe() == nil {
		return true
	}
	ps := st.probes[probeKey(cur.ID, "startup")]
	return ps != nil && ps.ok
}

func secondsOr(s int32, def int) time.Duration {
	if s <= 0 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(s) * time.Second
}

// runProbe performs one check; nil means healthy.
func (a *Agent) runProbe(ctx context.Context, p *api.Probe, sb *runtime.SandboxStatus, podIP string, c *api.Container, cur *runtime.ContainerStatus) error {
	ctx, cancel := context.WithTimeout(ctx, secondsOr(p.GetTimeoutSeconds(), 1))
	defer cancel()
	switch {
	case p.GetExec() != nil:
		var out strings.Builder
		code, err := a.cfg.Runtime.Exec(ctx, cur.ID, runtime.ExecRequest{Cmd: p.GetExec().GetCommand(), Stdout: &out, Stderr: &out})
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("exec probe exited %d: %s", code, strings.TrimSpace(out.String()))
		}
		return nil
	case p.GetHttpGet() != nil:
		g := p.GetHttpGet()
		port, err := namedPort(g.GetPort(), c)
		if err != nil {
			return err
		}
		host, inNetNS := probeHost(g.GetHost(), podIP)
		scheme := strings.ToLower(g.GetScheme())
		if scheme == "" {
			scheme = "http"
		}
		path := g.GetPath()
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(host, strconv.Itoa(port))+path, nil)
		if err != nil {
			return err
		}
		for _, h := range g.GetHttpHeaders() {
			req.Header.Set(h.GetName(), h.GetValue())
		}
		return a.dialIn(sb, inNetNS, func() error {
			tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true} //nolint:gosec // probes do not verify, like the kubelet
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", req.URL.Host)
			if err != nil {
				return err
			}
			tr.DialContext = func(context.Context, string, string) (net.Conn, error) { return conn, nil }
			resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
			if resp.StatusCode < 200 || resp.StatusCode >= 400 {
				return fmt.Errorf("http probe: status %d", resp.StatusCode)
			}
			return nil
		})
	case p.GetTcpSocket() != nil:
		t := p.GetTcpSocket()
		port, err := namedPort(t.GetPort(), c)
		if err != nil {
			return err
		}
		host, inNetNS := probeHost(t.GetHost(), podIP)
		return a.dialIn(sb, inNetNS, func() error {
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
			if err != nil {
				return err
			}
			return conn.Close()
		})
	}
	return fmt.Errorf("probe has no handler")
}

// probeHost picks where to connect: the probe's host (from the agent's own
// network namespace), else the pod's IP, else loopback, both from inside
// the pod's network namespace. Dialing the pod's IP from inside works
// wherever the node's network lives: the agent's namespace cannot reach
// pod IPs when the pod network is set up in another one (cni.Config's
// NodeNetNS, as for several nodes on one host).
func probeHost(host, podIP string) (string, bool) {
	switch {
	case host != "":
		return host, false
	case podIP != "":
		return podIP, true
	default:
		return "127.0.0.1", true
	}
}

// dialIn runs fn (which opens its connection synchronously) inside the
// sandbox's network namespace when inNetNS is set.
func (a *Agent) dialIn(sb *runtime.SandboxStatus, inNetNS bool, fn func() error) error {
	if !inNetNS || sb.NetNSPath == "" {
		return fn()
	}
	return network.Do(sb.NetNSPath, fn)
}

// namedPort resolves a probe port (a number, or a container port's name).
func namedPort(p *api.IntOrString, c *api.Container) (int, error) {
	switch v := p.GetValue().(type) {
	case *api.IntOrString_IntVal:
		return int(v.IntVal), nil
	case *api.IntOrString_StrVal:
		if n, err := strconv.Atoi(v.StrVal); err == nil {
			return n, nil
		}
		for _, cp := range c.GetPorts() {
			if cp.GetName() == v.StrVal {
				return int(cp.GetContainerPort()), nil
			}
		}
		return 0, fmt.Errorf("probe port %q: no container port has that name", v.StrVal)
	}
	return 0, fmt.Errorf("probe has no port")
}
