package libcontainer

import (
	"os"

	lc "github.com/opencontainers/runc/libcontainer"

	// Device cgroup rules need the devices controller manager registered.
	_ "github.com/opencontainers/cgroups/devices"
	// nsenter's C constructor joins namespaces in the init child before the
	// Go runtime starts.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// initArg is the argument libcontainer re-executes the binary with.
const initArg = "init"

// Init runs libcontainer's container init and never returns when this
// process was started by libcontainer as a container's init (os.Args[1] is
// "init"); otherwise it returns at once. Every binary that creates
// containers through this package must call it first, from an init function
// of package main or of its test package (see the package documentation).
func Init() {
	if len(os.Args) > 1 && os.Args[1] == initArg {
		lc.Init()
	}
}
