// Package coxswain is a library-first container orchestration SDK.
//
// Coxswain takes the design of Kubernetes as its early talks present it
// (pods, labels, controllers, services, volumes, config, secrets,
// scheduling) and makes every part importable: a platform team embeds a
// control plane in its own product, a Go developer composes custom
// controllers, and a test suite runs a whole control plane in memory.
//
// The map of packages:
//
//	api/                  object model (protobuf), kind registry, manifests,
//	  labels/             label selectors
//	  fields/             field selectors
//	  resource/           resource quantities
//	  validation/         validation and defaulting
//	  manifest/           YAML/JSON manifests in Kubernetes shape
//	store/                the Store contract: CRUD, list+watch, transactions
//	  memstore/           in-memory MVCC backend
//	  raftstore/          replicated backend on hashicorp/raft
//	  remote/             HTTP API server and client
//	  storetest/          conformance suite for backends
//	orchestrator/         reconcile-loop framework: informers, queue, builder, manager
//	  controllers/        built-in controllers, one package each
//	  agent/              the node agent
//	  admission/          admission chain around a Store
//	  testenv/            a whole control plane in memory for tests
//	scheduler/            scheduling framework, default plugins and scheduler
//	runtime/              container runtime interface and images
//	  libcontainer/       real containers on runc's libcontainer
//	  fake/               in-memory runtime
//	network/              pod network interface
//	  cni/                pod networking through CNI plugins
//	  proxy/              service VIPs through iptables
//	  dns/                cluster DNS
//	  fake/               in-memory pod network
//	volume/               volume plugins
//	cmd/coxd, cmd/coxctl  the daemon and the CLI
//
// Dependencies point one way: api <- store <- orchestrator; runtime,
// network, volume and scheduler depend on api (and store where they watch),
// never on orchestrator. A program that only writes controllers links no
// container runtime, CNI or iptables code.
package coxswain
