package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/coxswain-io/coxswain/cmd/coxd/daemon"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
)

// The runtime re-executes this binary as each container's init: that must
// happen before anything else runs.
func init() { libcontainer.Init() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := daemon.Run(ctx, os.Args[1:], os.Stderr, daemon.Options{})
	stop()
	os.Exit(code)
}
