// Package local is a real local provisioner: for each claim of a
// StorageClass whose provisioner is its name (default "coxswain.io/local")
// it creates a directory under a base directory on one node and returns a
// PersistentVolume with a local source and node affinity to that node.
// Delete removes the directory; Recycle empties it.
//
// Capacity is recorded, not enforced: the volumes are plain directories
// sharing the base directory's filesystem, so a pod can write past its
// claim's size. Enforcing it would need a filesystem per volume (a loop
// device with ext4, or project quotas on XFS); that is left out here.
package local
