// Command coxd is coxd (cmd/coxd) with the Website kind compiled in: its
// control plane serves websites.example.coxswain.io, so the Website
// controller (examples/customcontroller) can run against it remotely:
//
//	go run ./examples/customcontroller/coxd server -data-dir /tmp/site-cp -api-addr 127.0.0.1:6443
//	go run ./examples/customcontroller -server http://127.0.0.1:6443
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/coxswain-io/coxswain/cmd/coxd/daemon"
	"github.com/coxswain-io/coxswain/examples/customcontroller/website"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
)

// The runtime re-executes this binary as each container's init.
func init() { libcontainer.Init() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := daemon.Run(ctx, os.Args[1:], os.Stderr, daemon.Options{Registry: website.Registry()})
	stop()
	os.Exit(code)
}
