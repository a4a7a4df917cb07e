package manifest_test

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api/manifest"
	"github.com/coxswain-io/coxswain/api/validation"
)

// TestKubernetesManifestsLoadUnchanged decodes manifests written exactly as
// the Kubernetes documentation writes them, defaults and validates them,
// and checks they survive a YAML round trip.
func TestKubernetesManifestsLoadUnchanged(t *testing.T) {
	files, err := filepath.Glob("testdata/kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := manifest.Decode(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) == 0 {
				t.Fatal("no objects")
			}
			for _, obj := range objs {
				validation.Default(obj)
				if err := validation.ValidateObject(obj); err != nil {
					t.Errorf("%s: %v", obj.GetMetadata().GetName(), err)
				}
				b, err := manifest.Encode(obj, manifest.YAML)
				if err != nil {
					t.Fatal(err)
				}
				back, err := manifest.Decode(b, nil)
				if err != nil || len(back) != 1 || !proto.Equal(back[0], obj) {
					t.Errorf("round trip of %s failed: %v\n%s", obj.GetMetadata().GetName(), err, b)
				}
			}
		})
	}
}
