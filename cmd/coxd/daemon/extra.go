package daemon

import (
	"fmt"
	"log/slog"

	"github.com/coxswain-io/coxswain/orchestrator/controllers/disruption"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/endpoints"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/job"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/namespace"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/nodelifecycle"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
)

// version is reported by the API's /version.
var version = "coxswain-dev"

// addExtraControllers registers the built-in controllers beyond the
// replication loop, the Deployment controller and the garbage collector.
func addExtraControllers(mgr *manager.Manager, cfg *settings, log *slog.Logger) error {
	if err := endpoints.Add(mgr, endpoints.Options{}); err != nil {
		return fmt.Errorf("endpoints controller: %w", err)
	}
	if _, err := job.Add(mgr, job.Options{}); err != nil {
		return fmt.Errorf("job controller: %w", err)
	}
	if err := namespace.Add(mgr, namespace.Options{}); err != nil {
		return fmt.Errorf("namespace controller: %w", err)
	}
	if _, err := nodelifecycle.Add(mgr, nodelifecycle.Options{GracePeriod: cfg.NodeGrace, PodEvictionTimeout: cfg.PodEviction}); err != nil {
		return fmt.Errorf("node lifecycle controller: %w", err)
	}
	if err := disruption.Add(mgr, disruption.Options{}); err != nil {
		return fmt.Errorf("disruption controller: %w", err)
	}
	log.Debug("built-in controllers registered")
	return nil
}
