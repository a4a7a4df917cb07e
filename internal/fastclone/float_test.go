package fastclone

import (
	"math"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

func TestEqualFloats(t *testing.T) {
	for _, c := range []struct{ x, y float64 }{{math.NaN(), math.NaN()}, {math.NaN(), 1}, {0, math.Copysign(0, -1)}, {1, 2}, {2, 2}} {
		if got, want := equalFloat(c.x, c.y), protoreflect.ValueOfFloat64(c.x).Equal(protoreflect.ValueOfFloat64(c.y)); got != want {
			t.Errorf("equalFloat(%v, %v) = %v, want %v", c.x, c.y, got, want)
		}
	}
}
