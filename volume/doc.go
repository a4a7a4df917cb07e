// Package volume defines Coxswain's volume plugin interface and the registry
// that picks a plugin for a pod's volume or a PersistentVolume.
//
// A plugin is a small value with a name ([Plugin]); what it can do is the set
// of facet interfaces it implements, checked with type assertions:
//
//   - [Mounter]: set a volume up in a pod's directory and tear it down.
//   - [Updater]: refresh projected content (configMap, secret, downwardAPI)
//     when the source object changes, atomically.
//   - [Attacher]: attach a volume to a node and detach it.
//   - [Provisioner]: create a PersistentVolume for a claim (behind a
//     StorageClass), and [Deleter] / [Recycler] to reclaim it.
//
// Plugins get what they need through their constructors: an [ObjectGetter]
// (satisfied by store.Store) to read ConfigMaps, Secrets, claims and volumes,
// and an [OSMounter] for kernel mounts ([Linux] is the real one).
//
// The node agent drives a pod's volumes through [Registry.SetUpPod],
// [Registry.UpdatePod] and [Registry.TearDownPod]. Each volume lives in
//
//	<podDir>/volumes/<plugin name>/<volume name>
//
// and TearDownPod walks that tree, so volumes of a pod whose spec is gone
// (after an agent restart) are still cleaned up.
//
// Built-in plugins live in subpackages: emptydir, hostpath, configmap, secret,
// downwardapi, pvc, flex (out-of-process drivers), local (a provisioner) and
// fake (in memory). volumetest is the conformance suite every plugin passes;
// atomicwriter is the symlink-swap writer projected volumes share; envvars
// resolves a container's environment.
package volume
