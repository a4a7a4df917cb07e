// Package secret is the secret volume plugin: a Secret's keys projected as
// files like the configMap plugin, but on a tmpfs mounted at the volume
// directory before anything is written, so secret data never touches the
// node's disk. Updates are atomic (the atomic writer's symlink swap happens
// inside the tmpfs). Tear-down unmounts the tmpfs, which frees the data.
package secret
