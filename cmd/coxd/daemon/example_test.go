package daemon_test

import (
	"context"
	"os"

	"github.com/coxswain-io/coxswain/cmd/coxd/daemon"
)

// Example shows coxd's modes, as `coxd help` does. A program embedding
// coxd calls Run the same way with its own arguments (and, for kinds of its
// own, Options.Registry).
func Example() {
	daemon.Run(context.Background(), []string{"help"}, os.Stdout, daemon.Options{})
	// Output:
	// usage: coxd MODE [flags]
	//
	// modes:
	//   all      run a control-plane member and a node agent in one process
	//   node     run a node agent against a list of API servers
	//   server   run a control-plane member (store, API, controllers, scheduler)
	//
	// Run 'coxd MODE -h' for a mode's flags.
}
