package framework_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPluginFacingPackagesImportOnlyTheObjectModel keeps plugins portable:
// the framework and the default plugins may import nothing of this module
// beyond api, api/labels and api/resource (and what api itself is built
// on: internal/fastclone, its copier).
func TestPluginFacingPackagesImportOnlyTheObjectModel(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH; this test inspects the module with go list")
	}
	allowed := map[string]bool{
		"github.com/coxswain-io/coxswain/api":                 true,
		"github.com/coxswain-io/coxswain/api/labels":          true,
		"github.com/coxswain-io/coxswain/api/resource":        true,
		"github.com/coxswain-io/coxswain/internal/fastclone":  true,
		"github.com/coxswain-io/coxswain/scheduler/framework": true,
		"github.com/coxswain-io/coxswain/scheduler/plugins":   true,
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/coxswain-io/coxswain/scheduler/framework", "github.com/coxswain-io/coxswain/scheduler/plugins").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/coxswain-io/coxswain") && !allowed[dep] {
			t.Errorf("plugin-facing packages depend on %s", dep)
		}
	}
}
