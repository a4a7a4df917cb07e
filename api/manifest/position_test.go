package manifest_test

import (
	"testing"

	"github.com/coxswain-io/coxswain/api/manifest"
)

func TestLineOf(t *testing.T) {
	docs, err := manifest.DecodeDocuments([]byte(deploymentYAML+"---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n    labels:\n      app.kubernetes.io/name: x\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, cm := docs[0], docs[1]
	tests := []struct {
		doc  manifest.Document
		path string
		want int
	}{
		{d, "", 2},
		{d, "metadata.name", 5},
		{d, "spec.template.spec.containers[0].image", 28},
		{d, "spec.template.spec.containers[0].env[1].valueFrom.fieldRef.fieldPath", 36},
		{d, "spec.template.spec.containers[0].resources.requests[cpu]", 42},
		{d, "spec.template.spec.containers[0].terminationMessagePath", 27}, // not written: the container's line
		{d, "spec.template.spec.restartPolicy", 25},                        // not written: the pod spec's line
		{d, "spec.template.spec.containers[7].image", 26},                  // no such container: the list's line
		{d, "status.replicas", 2},
		{cm, "metadata.labels[app.kubernetes.io/name]", 61},
		{manifest.Document{}, "metadata", 0},
	}
	for _, tt := range tests {
		if got := tt.doc.LineOf(tt.path); got != tt.want {
			t.Errorf("LineOf(%q) = %d, want %d", tt.path, got, tt.want)
		}
	}
}
