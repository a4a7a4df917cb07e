// Package controllers is the home of the built-in controllers, one package
// each (replicaset, deployment, gc, namespace, endpoints, nodelifecycle, job,
// cronjob, daemonset, podautoscaler, volumebinding, ...).
package controllers
