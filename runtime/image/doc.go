// Package image is the image store of the libcontainer runtime: it pulls
// OCI and Docker images from registries (OCI distribution, through
// go-containerregistry), loads them from OCI layouts and tarballs, unpacks
// each layer once into a content store keyed by the layer's uncompressed
// digest (diff ID), and gives each container a copy-on-write root: an
// overlayfs mount whose lower directories are the image's unpacked layers
// and whose upper and work directories belong to the container.
//
// Layer whiteouts (".wh.NAME" and the opaque marker ".wh..wh..opq") are
// converted at unpack time into overlayfs's own form (a 0/0 character
// device, and the trusted.overlay.opaque xattr), so the kernel applies them
// across lower directories.
//
// Layout under the store's root:
//
//	layers/<hex>/     one unpacked layer per diff ID
//	images/<hex>.json one record per image config digest (tags, config, layers)
//
// Removing an image drops its record; Prune removes layers no image record
// references (the runtime calls it when no container uses them).
//
// Unpacking and mounting need root (mknod, chown, overlay mounts).
package image
