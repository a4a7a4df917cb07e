// Package pvc is the persistentVolumeClaim volume plugin: it resolves the
// pod's claim to the PersistentVolume bound to it and bind-mounts that
// volume's directory (a local or hostPath source) at the volume directory,
// read-only when the pod's volume or the mount asks for it. A claim that is
// not bound yet fails with volume.ErrNotReady, so the agent retries. With
// WithPlugins, a volume of another source (a vendor's flexVolume PV) is
// mounted by the registry's plugin for it.
//
// Tear-down unmounts and removes only the (then empty) mount point: the
// volume's data is never deleted here; reclaiming it is the Deleter's job.
package pvc
