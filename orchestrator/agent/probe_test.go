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
