// Package fake is a real in-memory volume plugin for tests: it handles
// flexVolume sources (pod volumes and PersistentVolumes) whose driver is the
// plugin's name, and implements every facet — Mounter, Updater, Attacher,
// Provisioner and Deleter — keeping its state in memory.
//
// SetUp projects the volume's flexVolume options as files (one file per
// option, through the atomic writer) into the volume directory, so a
// container sees real content; everything else (attachments, provisioned
// volumes, set-up counts) lives in memory and can be inspected. Errors can be
// injected per operation with FailNext.
//
// Limits: no kernel mounts, so a read-only request is recorded but not
// enforced.
package fake
