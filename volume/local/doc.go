// Package local is a real local provisioner: for each claim of a
// StorageClass whose provisioner is its name (default "coxswain.io/local")
// it creates a directory under a base directory on one node and returns a
// PersistentVolume with a local source and node affinity to that node.
// Delete removes the directory; Recycle empties it.
//
// By default the volumes are plain directories sharing the base directory's
// filesystem: capacity is recorded, not enforced, so a pod can write past
// its claim's size. With Filesystem "ext4" each volume is an ext4 image
// (<baseDir>/<name>.img, sparse, the claim's size rounded up to 1 MiB)
// attached to a loop device and mounted at <baseDir>/<name>: a write past
// the size fails with ENOSPC. Mounts do not survive a reboot: call MountAll
// when the node starts. Delete unmounts (the loop device detaches itself)
// and removes the image.
package local
