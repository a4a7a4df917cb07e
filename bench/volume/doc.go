// Package volume holds the volume area's benchmarks (run by run.sh): the
// atomic writer's update, a pod's volume set-up and tear-down, a ConfigMap
// change reaching the projected file, and sealing Secrets at rest.
package volume
