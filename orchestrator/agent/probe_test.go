package agent_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/runtime/fake"
	"github.com/coxswain-io/coxswain/store"
)

func port(t *testing.T, addr string) *api.IntOrString {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: int32(n)}}
}

func TestHTTPReadinessProbe(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || !healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	e := newEnv(t)
	p := pod("http", "", forever)
	p.Spec.Containers[0].ReadinessProbe = &api.Probe{PeriodSeconds: 1, FailureThreshold: 1,
		HttpGet: &api.HTTPGetAction{Host: "127.0.0.1", Path: "/healthz", Port: port(t, srv.Listener.Addr().String())}}
	e.create(p)
	e.waitPod("http", "ready", func(p *api.Pod) bool { return cond(p, agent.PodReady) == "True" })
	healthy.Store(false)
	p = e.waitPod("http", "not ready", func(p *api.Pod) bool { return cond(p, agent.PodReady) == "False" })
	if cs := containerStatus(p, "c0"); cs.RestartCount != 0 || cs.GetState().GetRunning() == nil {
		t.Errorf("readiness failure touched the container: %v", cs)
	}
}

func TestTCPLivenessProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens: the probe fails
	e := newEnv(t)
	p := pod("tcp", "", forever)
	p.Spec.Containers[0].LivenessProbe = &api.Probe{PeriodSeconds: 1, FailureThreshold: 1,
		TcpSocket: &api.TCPSocketAction{Host: "127.0.0.1", Port: port(t, addr)}}
	e.create(p)
	e.waitPod("tcp", "restarted", func(p *api.Pod) bool { return containerStatus(p, "c0").GetRestartCount() >= 1 })
}

func TestLifecycleHooks(t *testing.T) {
	e := newEnv(t)
	postStart := fake.Command(fake.Behavior{Exit: true, Stdout: "started"})
	preStop := fake.Command(fake.Behavior{Exit: true, Stdout: "stopping"})
	p := pod("hooks", "", forever)
	p.Spec.Containers[0].Lifecycle = &api.Lifecycle{
		PostStart: &api.LifecycleHandler{Exec: &api.ExecAction{Command: postStart}},
		PreStop:   &api.LifecycleHandler{Exec: &api.ExecAction{Command: preStop}},
	}
	e.create(p)
	e.waitPod("hooks", "running", phase(agent.PhaseRunning))
	if n := e.rt.execCount(postStart); n != 1 {
		t.Errorf("postStart ran %d times", n)
	}
	if _, err := e.pods.Delete(context.Background(), "default", "hooks", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "released", func() (bool, string) { _, err := e.get("hooks"); return store.IsNotFound(err), "" })
	if n := e.rt.execCount(preStop); n != 1 {
		t.Errorf("preStop ran %d times", n)
	}

	failing := pod("badhook", agent.RestartNever, forever)
	failing.Spec.Containers[0].Lifecycle = &api.Lifecycle{PostStart: &api.LifecycleHandler{Exec: &api.ExecAction{
		Command: fake.Command(fake.Behavior{Exit: true, ExitCode: 1})}}}
	e.create(failing)
	e.waitPod("badhook", "failed", phase(agent.PhaseFailed))
}

func TestStartupProbe(t *testing.T) {
	e := newEnv(t)
	ok := fake.Command(fake.Behavior{Exit: true})
	bad := fake.Command(fake.Behavior{Exit: true, ExitCode: 1})
	good := pod("startup-ok", "", forever)
	good.Spec.Containers[0].StartupProbe = &api.Probe{PeriodSeconds: 1, Exec: &api.ExecAction{Command: ok}}
	good.Spec.Containers[0].ReadinessProbe = &api.Probe{PeriodSeconds: 1, Exec: &api.ExecAction{Command: ok}}
	e.create(good)
	failing := pod("startup-bad", "", forever)
	failing.Spec.Containers[0].StartupProbe = &api.Probe{PeriodSeconds: 1, FailureThreshold: 1, Exec: &api.ExecAction{Command: bad}}
	// Would restart at once if it ran before the startup probe passed.
	failing.Spec.Containers[0].LivenessProbe = &api.Probe{PeriodSeconds: 1, FailureThreshold: 1, Exec: &api.ExecAction{Command: fake.Command(fake.Behavior{Exit: true, ExitCode: 2})}}
	e.create(failing)

	p := e.waitPod("startup-ok", "ready", func(p *api.Pod) bool { return cond(p, agent.PodReady) == "True" })
	if cs := containerStatus(p, "c0"); !cs.GetStarted() {
		t.Errorf("started = false after the startup probe passed: %v", cs)
	}
	p = e.waitPod("startup-bad", "restarted", func(p *api.Pod) bool { return containerStatus(p, "c0").GetRestartCount() >= 1 })
	if cs := containerStatus(p, "c0"); cs.GetStarted() || cs.Ready {
		t.Errorf("a container failing its startup probe reported started/ready: %v", cs)
	}
	// Liveness never ran for it: only the startup probe did.
	if n := e.rt.execCount(failing.Spec.Containers[0].LivenessProbe.Exec.Command); n != 0 {
		t.Errorf("liveness ran %d times before startup passed", n)
	}
}

func TestActiveDeadline(t *testing.T) {
	e := newEnv(t)
	p := pod("deadline", agent.RestartAlways, forever)
	p.Spec.ActiveDeadlineSeconds = 1
	e.create(p)
	e.waitPod("deadline", "running", phase(agent.PhaseRunning))
	p = e.waitPod("deadline", "failed", phase(agent.PhaseFailed))
	if p.Status.Reason != "DeadlineExceeded" {
		t.Errorf("reason %q", p.Status.Reason)
	}
	if cs := containerStatus(p, "c0"); cs.GetState().GetTerminated() == nil {
		t.Errorf("container not terminated: %v", cs)
	}
}
