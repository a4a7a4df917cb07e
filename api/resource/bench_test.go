package resource_test

import (
	"testing"

	"github.com/coxswain-io/coxswain/api/resource"
)

func BenchmarkParseQuantity(b *testing.B) {
	inputs := []string{"100m", "1.5", "128Mi", "1G", "2e3", "0.5Gi"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := resource.ParseQuantity(inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkQuantityAddCmp is the scheduler's inner loop: add a request to
// the used amount and compare with what is allocatable.
func BenchmarkQuantityAddCmp(b *testing.B) {
	used, req, alloc := resource.MustParse("3500m"), resource.MustParse("250m"), resource.MustParse("4")
	b.ReportAllocs()
	for b.Loop() {
		if used.Add(req).Cmp(alloc) > 0 {
			b.Fatal("does not fit")
		}
	}
}

func BenchmarkQuantityString(b *testing.B) {
	q := resource.MustParse("1536Mi")
	b.ReportAllocs()
	for b.Loop() {
		_ = q.String()
	}
}
