// Command customcontroller runs the Website controller (package website)
// against a remote Coxswain control plane: it connects to coxd's API with
// store/remote's client (a store.Store like any other), shares informers and
// elects a leader through the manager, and keeps a Deployment and a Service
// per Website.
//
//	customcontroller -server http://127.0.0.1:6443 [-token T] [-id NAME]
//
// The API server must serve the Website kind: a control plane is started
// with website.Registry() (see the README for why coxd's stock binary does
// not, yet).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/coxswain-io/coxswain/examples/customcontroller/website"
	"github.com/coxswain-io/coxswain/orchestrator/leaderelection"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/metrics/vmmetrics"
	"github.com/coxswain-io/coxswain/store/remote/client"
)

func main() {
	servers := flag.String("server", "http://127.0.0.1:6443", "API server URLs, comma-separated")
	token := flag.String("token", os.Getenv("COXSWAIN_TOKEN"), "bearer token")
	id := flag.String("id", "", "leader election identity (default the host name); empty with -no-leader-election")
	health := flag.String("health-addr", "127.0.0.1:8081", "address of /healthz, /readyz and /metrics (empty: off)")
	noLE := flag.Bool("no-leader-election", false, "run without electing a leader (one replica only)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	// Write # HELP and # TYPE lines in /metrics, so that Prometheus stores
	// the metrics' types (a process-wide switch of the library vmmetrics
	// uses; its HELP lines carry no text).
	vm.ExposeMetadata(true)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, strings.Split(*servers, ","), *token, *id, *health, !*noLE, log); err != nil {
		log.Error("customcontroller", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, servers []string, token, id, health string, elect bool, log *slog.Logger) error {
	cl, err := client.New(client.Config{Servers: servers, Token: token, Registry: website.Registry(), Logger: log})
	if err != nil {
		return err
	}
	opts := manager.Options{
		Store:  cl,
		Logger: log,
		Addr:   health,
		// /metrics on Addr: the framework's metrics, the Go runtime's and
		// the process's, from VictoriaMetrics/metrics (the manager's
		// default discards them and serves no /metrics).
		Metrics: vmmetrics.New(vmmetrics.WithProcessMetrics()),
	}
	if elect {
		if id == "" {
			id, _ = os.Hostname()
		}
		opts.LeaderElection = &leaderelection.Config{Namespace: "default", Name: "website-controller", Identity: id, ReleaseOnCancel: true}
	}
	mgr, err := manager.New(opts)
	if err != nil {
		return err
	}
	if err := website.Add(mgr); err != nil {
		return fmt.Errorf("website controller: %w", err)
	}
	log.Info("website controller starting", "servers", servers)
	return mgr.Start(ctx)
}
