package resource_test

import (
	"errors"
	"math"
	"testing"

	"github.com/coxswain-io/coxswain/api/resource"
)

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in     string
		str    string
		milli  int64
		value  int64
		format resource.Format
	}{
		{"0", "0", 0, 0, resource.DecimalSI},
		{"100m", "100m", 100, 1, resource.DecimalSI},
		{"1500m", "1500m", 1500, 2, resource.DecimalSI},
		{"1.5", "1500m", 1500, 2, resource.DecimalSI},
		{"2000m", "2", 2000, 2, resource.DecimalSI},
		{"1000", "1k", 1000000, 1000, resource.DecimalSI},
		{"1500", "1500", 1500000, 1500, resource.DecimalSI},
		{"1.5k", "1500", 1500000, 1500, resource.DecimalSI},
		{"1G", "1G", 1e12, 1e9, resource.DecimalSI},
		{"1E", "1E", math.MaxInt64, 1e18, resource.DecimalSI},
		{"10n", "10n", 1, 1, resource.DecimalSI},
		{"5u", "5u", 1, 1, resource.DecimalSI},
		{"128Mi", "128Mi", 128 << 20 * 1000, 128 << 20, resource.BinarySI},
		{"1024Mi", "1Gi", 1 << 30 * 1000, 1 << 30, resource.BinarySI},
		{"0.5Gi", "512Mi", 512 << 20 * 1000, 512 << 20, resource.BinarySI},
		{"1536Mi", "1536Mi", 1536 << 20 * 1000, 1536 << 20, resource.BinarySI},
		{"1Ki", "1Ki", 1024000, 1024, resource.BinarySI},
		{"0.5Ki", "512", 512000, 512, resource.BinarySI},
		{"1.3Ki", "1331200m", 1331200, 1332, resource.BinarySI},
		{"2e3", "2e3", 2000000, 2000, resource.DecimalExponent},
		{"2E3", "2e3", 2000000, 2000, resource.DecimalExponent},
		{"1.5e3", "1500", 1500000, 1500, resource.DecimalExponent},
		{"1e-3", "1e-3", 1, 1, resource.DecimalExponent},
		{"12e0", "12", 12000, 12, resource.DecimalExponent},
		{".5", "500m", 500, 1, resource.DecimalSI},
		{"5.", "5", 5000, 5, resource.DecimalSI},
		{"+3", "3", 3000, 3, resource.DecimalSI},
		{"-3", "-3", -3000, -3, resource.DecimalSI},
		{"-1.5", "-1500m", -1500, -1, resource.DecimalSI},
		{"-1Gi", "-1Gi", -(1 << 30) * 1000, -(1 << 30), resource.BinarySI},
		{"0.0000000001", "1n", 1, 1, resource.DecimalSI},   // rounded up to 1n
		{"-0.0000000001", "-1n", 0, 0, resource.DecimalSI}, // away from zero
		{"123456789012345678901234567890", "123456789012345678901234567890", math.MaxInt64, math.MaxInt64, resource.DecimalSI},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := resource.ParseQuantity(tt.in)
			if err != nil {
				t.Fatalf("ParseQuantity(%q): %v", tt.in, err)
			}
			if got := q.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := q.MilliValue(); got != tt.milli {
				t.Errorf("MilliValue() = %d, want %d", got, tt.milli)
			}
			if got := q.Value(); got != tt.value {
				t.Errorf("Value() = %d, want %d", got, tt.value)
			}
			if got := q.Format(); got != tt.format {
				t.Errorf("Format() = %v, want %v", got, tt.format)
			}
			// The canonical form parses back to the same amount.
			back, err := resource.ParseQuantity(q.String())
			if err != nil || !back.Equal(q) {
				t.Errorf("re-parse of %q = %v, %v; want %v", q.String(), back, err, q)
			}
		})
	}
}

func TestParseQuantityErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", resource.ErrFormat},
		{".", resource.ErrFormat},
		{"-", resource.ErrFormat},
		{"+-1", resource.ErrFormat},
		{"1.2.3", resource.ErrFormat},
		{"1 ", resource.ErrFormat},
		{" 1", resource.ErrFormat},
		{"1KiB", resource.ErrFormat},
		{"1K", resource.ErrFormat},
		{"1mi", resource.ErrFormat},
		{"1e", resource.ErrFormat},
		{"1e+", resource.ErrFormat},
		{"1e--3", resource.ErrFormat},
		{"1e3.5", resource.ErrFormat},
		{"abc", resource.ErrFormat},
		{"0x10", resource.ErrFormat},
		{"1e1000", resource.ErrRange},
		{"100e998", resource.ErrRange},
		{"1e2001", resource.ErrRange},
		{"1e-99999999999999999999", resource.ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := resource.ParseQuantity(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseQuantity(%q) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestArithmetic(t *testing.T) {
	tests := []struct {
		a, b     string
		cmp      int
		sum, dif string
	}{
		{"1", "1000m", 0, "2", "0"},
		{"1Gi", "1024Mi", 0, "2Gi", "0"},
		{"1G", "1Gi", -1, "2073741824", "-73741824"},
		{"500m", "250m", 1, "750m", "250m"},
		{"0.1", "0.2", -1, "300m", "-100m"},
		{"2e3", "1k", 1, "3e3", "1e3"},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_"+tt.b, func(t *testing.T) {
			a, b := resource.MustParse(tt.a), resource.MustParse(tt.b)
			if got := a.Cmp(b); got != tt.cmp {
				t.Errorf("Cmp = %d, want %d", got, tt.cmp)
			}
			if got := b.Cmp(a); got != -tt.cmp {
				t.Errorf("reverse Cmp = %d, want %d", got, -tt.cmp)
			}
			if got := a.Add(b).String(); got != tt.sum {
				t.Errorf("Add = %q, want %q", got, tt.sum)
			}
			if got := a.Sub(b).String(); got != tt.dif {
				t.Errorf("Sub = %q, want %q", got, tt.dif)
			}
			// Operands are unchanged.
			if a.String() != resource.MustParse(tt.a).String() {
				t.Errorf("Add/Sub modified the receiver: %v", a)
			}
		})
	}
}

func TestZeroValueAndConstructors(t *testing.T) {
	var z resource.Quantity
	if !z.IsZero() || z.String() != "0" || z.Value() != 0 || z.MilliValue() != 0 {
		t.Fatalf("zero Quantity = %q (IsZero %v)", z.String(), z.IsZero())
	}
	if got := z.Add(resource.MustParse("1Gi")).String(); got != "1Gi" {
		t.Errorf("zero + 1Gi = %q, want 1Gi (format of the non-zero operand)", got)
	}
	tests := []struct {
		q    resource.Quantity
		want string
	}{
		{resource.NewQuantity(5), "5"},
		{resource.NewQuantity(5000), "5k"},
		{resource.NewMilliQuantity(250), "250m"},
		{resource.NewMilliQuantity(3000), "3"},
		{resource.NewMilliQuantity(-1), "-1m"},
	}
	for _, tt := range tests {
		if got := tt.q.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
	if resource.NewMilliQuantity(1).IsZero() {
		t.Error("1m reported zero")
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse(bad) did not panic")
		}
	}()
	resource.MustParse("bad")
}

func TestTextMarshaling(t *testing.T) {
	var q resource.Quantity
	if err := q.UnmarshalText([]byte("2048Mi")); err != nil {
		t.Fatal(err)
	}
	b, err := q.MarshalText()
	if err != nil || string(b) != "2Gi" {
		t.Fatalf("MarshalText = %q, %v", b, err)
	}
	if err := q.UnmarshalText([]byte("x")); !errors.Is(err, resource.ErrFormat) {
		t.Fatalf("UnmarshalText(x) = %v", err)
	}
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"100m", "1.5", "128Mi", "1G", "2e3", "0.5Gi", "-1.5e-3", ".5", "1E", "1e1000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := resource.ParseQuantity(s)
		if err != nil {
			if !errors.Is(err, resource.ErrFormat) && !errors.Is(err, resource.ErrRange) {
				t.Fatalf("ParseQuantity(%q) error %v is neither ErrFormat nor ErrRange", s, err)
			}
			return
		}
		str := q.String()
		back, err := resource.ParseQuantity(str)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", str, s, err)
		}
		if !back.Equal(q) {
			t.Fatalf("canonical %q of %q = %v, not equal", str, s, back)
		}
		if back.String() != str {
			t.Fatalf("canonical form not stable: %q -> %q", str, back.String())
		}
		if q.Sub(q).Sign() != 0 || q.Add(q).Cmp(q) != q.Sign() {
			t.Fatalf("arithmetic inconsistent for %q", s)
		}
	})
}
