package validation_test

import (
	"testing"

	"github.com/coxswain-io/coxswain/api/validation"
)

// BenchmarkDefaultAndValidateDeployment defaults and validates a typical
// Deployment, as admission does on every write.
func BenchmarkDefaultAndValidateDeployment(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d := deployment()
		validation.Default(d)
		if err := validation.ValidateObject(d); err != nil {
			b.Fatal(err)
		}
	}
}
