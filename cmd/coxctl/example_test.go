package main

import (
	"context"
	"os"
	"strings"
)

// Example runs coxctl's offline validate verb on a manifest from standard
// input, as `coxctl validate -f -` does.
func Example() {
	manifest := `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`
	run(context.Background(), env{stdin: strings.NewReader(manifest), stdout: os.Stdout, stderr: os.Stdout}, []string{"validate", "-f", "-"})
	// Output: ok v1 Service default/web
}
