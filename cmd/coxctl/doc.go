// Command coxctl is Coxswain's command-line tool.
//
//	coxctl validate -f FILE|DIR|- [-f ...] [-q]
//
// validate decodes, defaults and validates Kubernetes-shaped manifests
// offline, with no control plane, so platform teams can run it in CI. It
// prints one line per valid object ("ok apps/v1 Deployment shop/web") and
// one line per problem, each naming the file, document, line and field
// path, and
// exits 1 if any object is invalid (2 on bad usage, 3 if an input cannot
// be read).
//
// Each verb lives in its own file and is listed in commands() in main.go.
package main
