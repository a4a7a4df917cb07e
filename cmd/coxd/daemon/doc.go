// Package daemon is coxd as a library: Run parses coxd's command line and
// runs a control-plane member, a node, or both (see the coxd command's
// documentation for the modes and flags). A program that serves kinds of its
// own runs coxd with them through Options.Registry:
//
//	func init() { libcontainer.Init() }
//
//	func main() {
//		reg := api.NewBuiltinRegistry()
//		reg.MustRegister(myKindInfo)
//		os.Exit(daemon.Run(ctx, os.Args[1:], os.Stderr, daemon.Options{Registry: reg}))
//	}
package daemon
