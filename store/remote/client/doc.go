// Package client is the lean client of a Coxswain API server: Client
// implements store.Store over HTTP, so controllers, agents and users' code
// run unchanged against a remote control plane.
//
// It is the client half of package store/remote without the server (no
// authorization, no Prometheus collectors, no YAML): a program that only
// talks to coxd imports this package and keeps its binary small. It speaks
// protobuf by default; set Config.JSON (remote.KubernetesJSON) to speak
// JSON instead. remote.NewClient and remote.ClientConfig are the same
// client under the names most programs use.
//
// See package store/remote for the REST paths, the wire formats and the
// failover and watch-resume behaviour.
package client
