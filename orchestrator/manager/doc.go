// Package manager runs a set of runnables (controllers, informers, servers,
// anything with Start(ctx) error) as one unit: it shares one informer per
// kind among them, elects a leader through a Lease so that leader-only
// runnables run on one replica at a time, serves /healthz, /readyz and
// /metrics, and stops everything when its ctx ends or any runnable fails.
package manager
