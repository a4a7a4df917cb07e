package manifest_test

import (
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/manifest"
)

// BenchmarkDecodeDeployment decodes a typical Deployment manifest (the one
// in deploymentYAML: probes, env, resources, volumes) from YAML.
func BenchmarkDecodeDeployment(b *testing.B) {
	data := []byte(deploymentYAML)
	reg := api.Builtin()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := manifest.Decode(data, reg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeDeploymentJSON decodes the same Deployment written as JSON.
func BenchmarkDecodeDeploymentJSON(b *testing.B) {
	objs, err := manifest.Decode([]byte(deploymentYAML), nil)
	if err != nil {
		b.Fatal(err)
	}
	data, err := manifest.Encode(objs[0], manifest.JSON)
	if err != nil {
		b.Fatal(err)
	}
	reg := api.Builtin()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := manifest.Decode(data, reg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeDeploymentYAML writes the Deployment back as YAML.
func BenchmarkEncodeDeploymentYAML(b *testing.B) {
	objs, err := manifest.Decode([]byte(deploymentYAML), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := manifest.Encode(objs[0], manifest.YAML); err != nil {
			b.Fatal(err)
		}
	}
}
