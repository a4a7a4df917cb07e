// Package volumebinding binds PersistentVolumeClaims to PersistentVolumes,
// provisions volumes for claims that name a StorageClass, and reclaims
// volumes whose claim is gone.
//
// A claim binds to the smallest available volume of its storage class
// (storageClassName; unset means the class annotated
// storageclass.kubernetes.io/is-default-class=true, or none) that offers
// every access mode it asks for, at least its storage request, and labels
// matching its selector. The volume's claimRef and the claim's volumeName
// are written in one transaction, so two claims can never take the same
// volume; then both statuses become Bound. A claim that nothing fits stays
// Pending until a volume or class appears; if its class names a
// provisioner in the volume.Registry given in Options, the controller asks
// it for a volume named pvc-<claim uid>, pre-bound to the claim. A claim
// whose volume disappeared is Lost.
//
// When a bound claim is deleted, its volume is Released and its reclaim
// policy applies: Retain keeps it (and its data) Released, never bound
// again until an administrator clears its claimRef; Delete deletes the
// storage through the plugin that supports it (volume.Deleter) and then
// the PersistentVolume; Recycle scrubs it (volume.Recycler) and makes it
// Available. Claims are bound by one worker so decisions never race.
//
// Binding is immediate (no waiting for the first pod, so a local volume's
// node affinity then constrains where the claim's pods can run).
package volumebinding
