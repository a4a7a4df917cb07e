// Package refresher keeps projected volumes current: it watches ConfigMaps
// and Secrets in the store and, when one changes, calls
// Registry.UpdatePod for each pod on this node that uses it (volume.Uses),
// so a running container sees new files within a watch delivery of the
// write, without a restart.
//
// It is level-triggered: on start, after any watch failure (compaction, a
// slow-watcher cancel, a store restart) and every Resync interval it updates
// every pod, so a missed event only delays an update. Updates are atomic
// and no-ops when nothing changed, so extra passes cost a compare.
//
// The node agent runs one Refresher (Start blocks until ctx ends) and
// supplies the pods whose volumes are set up through PodSource.
package refresher
