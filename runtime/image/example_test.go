package image_test

import (
	"context"
	"fmt"
	"log"

	"github.com/coxswain-io/coxswain/runtime/image"
)

// Example loads an OCI image layout and mounts a copy-on-write root for one
// container. It needs root (unpacking sets ownership and device nodes;
// overlay mounts), so it is compiled but not run by `go test`.
func Example() {
	store, err := image.NewStore("/var/lib/coxswain/images")
	if err != nil {
		log.Fatal(err)
	}
	imgs, err := store.LoadLayout(context.Background(), "./busybox-oci")
	if err != nil {
		log.Fatal(err)
	}
	rootfs, err := store.Mount(imgs[0].ID, "/var/lib/coxswain/containers/c1/fs")
	if err != nil {
		log.Fatal(err)
	}
	defer rootfs.Unmount()
	fmt.Println("container root:", rootfs.Path())
}
