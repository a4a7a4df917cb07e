// Package imagetest builds a tiny OCI image from the host's static busybox
// (Debian's busybox-static, /bin/busybox) and serves images from an
// in-process registry (go-containerregistry's pkg/registry) on loopback,
// for tests of the runtime and of anything that runs real containers.
package imagetest
