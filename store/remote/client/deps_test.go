package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeanDependencies keeps the client free of what only the server needs,
// so a controller that imports it stays small: no YAML, no api/manifest,
// no Prometheus and not package remote (the server) itself.
func TestLeanDependencies(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH; this test inspects the module with go list")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "github.com/coxswain-io/coxswain/store/remote/client").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{
		"gopkg.in/yaml.v3",
		"go.yaml.in/",
		"github.com/coxswain-io/coxswain/api/manifest",
		"github.com/prometheus/",
		"google.golang.org/protobuf/encoding/protojson",
		"net/http/pprof",
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/coxswain-io/coxswain/store/remote" {
			t.Errorf("client depends on %s (the server)", dep)
		}
		for _, bad := range forbidden {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("client depends on %s; it is only for the server", dep)
			}
		}
	}
}
