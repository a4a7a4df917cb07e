package resource

import (
	"math"
	"testing"
)

// asBig returns q forced into the big.Int form, the reference the int64
// fast paths must agree with.
func asBig(q Quantity) Quantity { return Quantity{big: q.n(), format: q.format} }

func checkAgainstBig(t *testing.T, a, b Quantity) {
	t.Helper()
	ba, bb := asBig(a), asBig(b)
	if a.String() != ba.String() || b.String() != bb.String() {
		t.Fatalf("String(%v) = %q, big says %q", a.n(), a.String(), ba.String())
	}
	if got, want := a.Cmp(b), ba.Cmp(bb); got != want {
		t.Fatalf("Cmp(%v, %v) = %d, big says %d", a, b, got, want)
	}
	if got, want := a.Add(b), ba.Add(bb); got.n().Cmp(want.n()) != 0 || got.String() != want.String() {
		t.Fatalf("Add(%v, %v) = %v, big says %v", a, b, got, want)
	}
	if got, want := a.Sub(b), ba.Sub(bb); got.n().Cmp(want.n()) != 0 || got.String() != want.String() {
		t.Fatalf("Sub(%v, %v) = %v, big says %v", a, b, got, want)
	}
	if got, want := a.Neg().n(), ba.Neg().n(); got.Cmp(want) != 0 {
		t.Fatalf("Neg(%v) = %v, big says %v", a, got, want)
	}
	if got, want := a.MilliValue(), ba.MilliValue(); got != want {
		t.Fatalf("MilliValue(%v) = %d, big says %d", a, got, want)
	}
	if got, want := a.Value(), ba.Value(); got != want {
		t.Fatalf("Value(%v) = %d, big says %d", a, got, want)
	}
	if a.Sign() != ba.Sign() || a.IsZero() != ba.IsZero() {
		t.Fatalf("Sign(%v) = %d, big says %d", a, a.Sign(), ba.Sign())
	}
}

func TestFastPathMatchesBig(t *testing.T) {
	qs := []Quantity{
		{}, NewQuantity(0), NewQuantity(1), NewQuantity(-1), NewMilliQuantity(1), NewMilliQuantity(-1500),
		NewQuantity(math.MaxInt64), NewQuantity(math.MinInt64), NewMilliQuantity(math.MaxInt64), NewMilliQuantity(math.MinInt64),
		{v: math.MaxInt64, scale: -9}, {v: math.MinInt64, scale: -9}, {v: 7, scale: -6},
		MustParse("128Mi"), MustParse("1E"), MustParse("9E"), MustParse("-9E"), MustParse("1.000000001"),
		MustParse("123456789012345678901234567890"), MustParse("1n"), MustParse("0.5Gi"), MustParse("2e3"),
	}
	for _, a := range qs {
		for _, b := range qs {
			checkAgainstBig(t, a, b)
		}
	}
}

func FuzzArithmetic(f *testing.F) {
	f.Add("9E", "1E")
	f.Add("-9223372036854775808n", "1n")
	f.Add("1.5", "250m")
	f.Add("128Mi", "0.5Gi")
	f.Fuzz(func(t *testing.T, x, y string) {
		a, err := ParseQuantity(x)
		if err != nil {
			return
		}
		b, err := ParseQuantity(y)
		if err != nil {
			return
		}
		checkAgainstBig(t, a, b)
	})
}

// FuzzParseSmallMatchesBig checks the int64 parser against the big.Int one.
func FuzzParseSmallMatchesBig(f *testing.F) {
	for _, s := range []string{"1.5", "0.5Gi", "1.3Ki", "-0.0000000001", "999999999999999999", "8Ei", "1e-12", "12.5e-7", "1.5n", "7Ei", "0.000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := split(s)
		if err != nil {
			return
		}
		small, ok := p.small()
		if !ok {
			return
		}
		big, err := p.big(s)
		if err != nil {
			t.Fatalf("%q: small path parsed %v, big path failed: %v", s, small, err)
		}
		if small.n().Cmp(big.n()) != 0 || small.format != big.format || small.String() != big.String() {
			t.Fatalf("%q: small %v (%s), big %v (%s)", s, small.n(), small, big.n(), big)
		}
	})
}

func TestParseSmallMatchesBig(t *testing.T) {
	for _, s := range []string{"1.5", "0.5Gi", "1.3Ki", "-0.0000000001", "999999999999999999", "7Ei", "1e-12", "12.5e-7", "1.5n", "-1.5u", "100m", "0"} {
		p, err := split(s)
		if err != nil {
			t.Fatal(err)
		}
		small, ok := p.small()
		big, _ := p.big(s)
		if !ok || small.n().Cmp(big.n()) != 0 || small.String() != big.String() {
			t.Errorf("%q: small %v %v, big %v", s, small, ok, big)
		}
	}
}
