// Package agent is the node agent: it registers its Node, heartbeats, and
// runs the pods bound to its node through the runtime, network and volume
// interfaces.
//
// # What it does
//
//   - Registration: at Start the agent creates (or updates) its Node with
//     capacity measured from the machine (cpu: the CPUs Go sees; memory:
//     MemTotal; pods: Config.MaxPods), extended resources and overrides from
//     Config.Capacity, allocatable = capacity - Config.Reserved, the
//     well-known labels plus Config.Labels, InternalIP and Hostname
//     addresses, and a Ready condition refreshed every
//     Config.NodeStatusInterval.
//   - Heartbeat: a Lease named after the node in namespace
//     [NodeLeaseNamespace], renewed every Config.HeartbeatInterval.
//   - Pods: an informer watches only pods with spec.nodeName equal to the
//     node (a server-side field selector). Each pod key goes through a work
//     queue (one sync per pod at a time, Config.Workers at once).
//   - Relist: every Config.SyncPeriod one ListContainers call finds the
//     containers whose state changed (started, exited, gone) and queues
//     their pods, as the kubelet's PLEG does; every pod is also synced each
//     Config.ResyncPeriod, and earlier when a probe or a backoff is due.
//
// One sync is level-triggered: it reads the pod from the cache and the
// runtime's containers by label, and acts on the difference:
//
//  1. the finalizer [FinalizerNodeAgent] is added if missing;
//  2. volumes are set up (volume.Registry.SetUpPod under RootDir/pods/<uid>);
//  3. the sandbox is found or created; with a Config.Network the agent
//     makes the pod's network namespace (under RootDir/netns), calls
//     PodNetwork.SetUp and hands the namespace to the runtime; without one
//     the runtime gives the pod a namespace with only loopback and the pod
//     has no IP; a hostNetwork pod joins the node's namespace
//     (Config.HostNetNS, default the agent's own) and reports the node's IP;
//  4. init containers run one at a time, in order, each to exit 0;
//  5. app containers are started, and restarted per restartPolicy
//     (Always, OnFailure, Never). Restarts are in place (same sandbox,
//     attempt+1, which is restartCount). The first restart is immediate,
//     then the wait doubles from Config.BackoffBase up to Config.BackoffMax
//     (10s and 5m by default, as the kubelet); a container that ran longer
//     than Config.BackoffReset starts over;
//     A postStart exec hook runs right after a container starts; if it
//     fails, the container is killed and the restart policy applies;
//  6. probes (exec, httpGet, tcpSocket): a startup probe holds the others
//     back until it passes (and restarts the container if it fails);
//     liveness probes stop a failing container so the restart policy
//     applies; readiness probes decide the container's ready flag and so
//     the pod's ContainersReady and Ready conditions. httpGet and tcpSocket
//     connect to the probe's host, else the pod IP, else 127.0.0.1 inside
//     the pod's network namespace. A pod past spec.activeDeadlineSeconds is
//     killed and marked Failed (reason DeadlineExceeded);
//  7. the status (phase, conditions PodScheduled/Initialized/
//     ContainersReady/Ready, hostIP, podIP, container states with exit codes
//     and restart counts) is computed from the runtime and written with
//     UpdateStatus only when it differs from the stored one.
//
// The pod's /etc/resolv.conf follows dnsPolicy: ClusterFirst (the default)
// points at Config.ClusterDNS (network/dns.ResolvConf) when set, Default and
// hostNetwork pods get the host's, None only spec.dnsConfig (which the
// others append).
//
// Images are pulled per imagePullPolicy (default Always for :latest or
// untagged references, else IfNotPresent) with the credentials of the pod's
// imagePullSecrets (kubernetes.io/dockerconfigjson or dockercfg) for the
// image's registry.
//
// Environment variables come from volume/envvars (literal values,
// ConfigMaps, Secrets, fieldRef and resourceFieldRef); ConfigMap, Secret
// and downward API volume contents are kept current by volume/refresher,
// which the agent runs over the pods whose volumes it set up.
//
// # Events
//
// The agent records Events (through orchestrator/events) for what an
// operator needs to see, not for every normal step (which would cost a store
// write on the pod-startup path): Failed (a container could not be
// created or started), BackOff (once per crash), Unhealthy (a failed
// probe), Killing (a container restarted by a probe) and DeadlineExceeded.
//
// # Deletion
//
// When a pod's deletionTimestamp is set, the preStop exec hooks run (their
// time counts against the grace period), then its containers get SIGTERM, the
// grace period (metadata.deletionGracePeriodSeconds, else
// spec.terminationGracePeriodSeconds, else Config.DefaultGracePeriod), then
// SIGKILL; then its network is torn down, the sandbox and network namespace
// removed, the volumes torn down and the pod directory removed; last, the
// finalizer is removed, so the store deletes the pod. A pod that reaches
// Succeeded or Failed has its sandbox stopped and its network freed at once;
// its exited containers (and logs) stay until it is deleted.
//
// # Restart
//
// Everything the agent creates carries labels ([LabelNode], [LabelPodUID],
// [LabelContainer]). After Start has synced its pod cache it removes every
// sandbox whose pod is no longer bound to the node, every network namespace
// under RootDir/netns no sandbox uses, every network allocation
// (PodNetwork.Reconcile) and every pod directory of a pod it does not run;
// the sandboxes and containers of the pods it still runs are adopted by the
// next sync (a running container keeps running, with its restart count).
// Cancelling the context of Start leaves containers running for that
// reason: stopping the agent is not stopping the pods.
//
// # Pod stats for the autoscaler
//
// Every Config.StatsInterval the agent reads the runtime's stats of each
// running container and writes the pod's usage into its own status:
// status.usage["cpu"] is the CPU rate over the last interval (cores, as a
// quantity such as "250m"), status.usage["memory"] the working set in
// bytes, status.usageTimestamp when it was measured. We chose status fields
// over a metrics endpoint so the autoscaler reads usage through the same
// store API (and watch) as everything else, with no extra transport,
// address discovery or authentication; the cost is one status write per
// running pod per interval, which StatsInterval bounds (a negative interval
// turns it off).
//
// # Concurrency
//
// Start runs the informer, the work queue's workers, the heartbeat, the
// volume refresher and the stats loop, and returns when its context ends,
// after they have stopped. Agent.mu guards the per-pod state map; it is
// never held during I/O.
package agent
