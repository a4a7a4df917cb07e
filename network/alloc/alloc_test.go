package alloc

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/coxswain-io/coxswain/store"
)

func TestIPAllocator(t *testing.T) {
	a, err := NewIPAllocator("10.96.0.0/29")
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Free(); got != 6 {
		t.Fatalf("Free() = %d, want 6 (network and broadcast reserved)", got)
	}
	if err := a.Occupy(netip.MustParseAddr("10.96.0.3")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		ip, err := a.Allocate()
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ip.String())
	}
	want := []string{"10.96.0.1", "10.96.0.2", "10.96.0.4", "10.96.0.5", "10.96.0.6"}
	if len(got) != len(want) {
		t.Fatalf("allocated %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocated %v, want %v", got, want)
		}
	}
	a.Release(netip.MustParseAddr("10.96.0.2"))
	if a.Has(netip.MustParseAddr("10.96.0.2")) {
		t.Fatal("released address still allocated")
	}
	ip, err := a.Allocate()
	if err != nil || ip.String() != "10.96.0.2" {
		t.Fatalf("Allocate after release = %v, %v; want 10.96.0.2", ip, err)
	}
	for _, tc := range []struct {
		ip   string
		want error
	}{
		{"10.96.0.1", ErrAllocated},
		{"10.96.0.0", ErrNotInRange},
		{"10.96.0.7", ErrNotInRange},
		{"10.97.0.1", ErrNotInRange},
	} {
		err := a.Occupy(netip.MustParseAddr(tc.ip))
		if !errors.Is(err, tc.want) {
			t.Errorf("Occupy(%s) = %v, want %v", tc.ip, err, tc.want)
		}
	}
	if err := a.Occupy(netip.MustParseAddr("10.96.0.1")); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("ErrAllocated does not wrap store.ErrAlreadyExists: %v", err)
	}
}

func TestIPAllocatorNextFit(t *testing.T) {
	a, err := NewIPAllocator("10.0.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := a.Allocate()
	a.Release(first)
	second, _ := a.Allocate()
	if second == first {
		t.Fatalf("a just-released address %s was reused at once", first)
	}
}

func TestIPAllocatorIPv6(t *testing.T) {
	a, err := NewIPAllocator("fd00:10::/108")
	if err != nil {
		t.Fatal(err)
	}
	ip, err := a.Allocate()
	if err != nil || ip.String() != "fd00:10::1" {
		t.Fatalf("Allocate = %v, %v", ip, err)
	}
	if err := a.Occupy(netip.MustParseAddr("fd00:10::f:ffff")); err != nil {
		t.Fatalf("last address: %v", err)
	}
}

func TestPortAllocator(t *testing.T) {
	a, err := NewPortAllocator("30000-30002")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Occupy(30001); err != nil {
		t.Fatal(err)
	}
	p1, _ := a.Allocate()
	p2, _ := a.Allocate()
	if p1 != 30000 || p2 != 30002 {
		t.Fatalf("allocated %d, %d; want 30000, 30002", p1, p2)
	}
	if _, err := a.Allocate(); !errors.Is(err, ErrFull) {
		t.Fatalf("Allocate on full range = %v, want ErrFull", err)
	}
	a.Release(30001)
	if a.Has(30001) || a.Free() != 1 {
		t.Fatal("release did not free the port")
	}
	if err := a.Occupy(29999); !errors.Is(err, ErrNotInRange) {
		t.Fatalf("Occupy(29999) = %v", err)
	}
	for _, bad := range []string{"", "5", "10-5", "0-10", "1-70000"} {
		if _, err := NewPortAllocator(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("NewPortAllocator(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestCIDRAllocator(t *testing.T) {
	a, err := NewCIDRAllocator("10.244.0.0/16", 24)
	if err != nil {
		t.Fatal(err)
	}
	if a.Free() != 256 {
		t.Fatalf("Free() = %d", a.Free())
	}
	if err := a.Occupy(netip.MustParsePrefix("10.244.0.0/24")); err != nil {
		t.Fatal(err)
	}
	p, err := a.Allocate()
	if err != nil || p.String() != "10.244.1.0/24" {
		t.Fatalf("Allocate = %v, %v", p, err)
	}
	for _, tc := range []struct {
		p    string
		want error
	}{
		{"10.244.1.0/24", ErrAllocated},
		{"10.244.2.0/25", ErrNotInRange},
		{"10.245.0.0/24", ErrNotInRange},
	} {
		if err := a.Occupy(netip.MustParsePrefix(tc.p)); !errors.Is(err, tc.want) {
			t.Errorf("Occupy(%s) = %v, want %v", tc.p, err, tc.want)
		}
	}
	a.Release(p)
	if a.Has(p) {
		t.Fatal("released subnet still allocated")
	}
	for i := 0; i < 255; i++ {
		if _, err := a.Allocate(); err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
	}
	if _, err := a.Allocate(); !errors.Is(err, ErrFull) {
		t.Fatalf("Allocate on a full range = %v", err)
	}
	if _, err := NewCIDRAllocator("10.0.0.0/8", 40); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad mask: %v", err)
	}
}

// TestBitmapProperty checks, for many random histories, that allocation
// never hands out a taken value and fills exactly the free ones.
func TestBitmapProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		size := 1 + rng.IntN(300)
		b := newBitmap(size)
		taken := map[int]bool{}
		for op := 0; op < 2*size; op++ {
			i := rng.IntN(size)
			switch rng.IntN(3) {
			case 0:
				if b.take(i) == taken[i] {
					t.Fatalf("take(%d) disagreed with the model", i)
				}
				taken[i] = true
			case 1:
				b.release(i)
				delete(taken, i)
			case 2:
				if j, ok := b.allocateNext(); ok {
					if taken[j] {
						t.Fatalf("allocated taken %d", j)
					}
					taken[j] = true
				} else if len(taken) != size {
					t.Fatalf("full with %d of %d taken", len(taken), size)
				}
			}
		}
		for {
			j, ok := b.allocateNext()
			if !ok {
				break
			}
			if taken[j] {
				t.Fatalf("allocated taken %d", j)
			}
			taken[j] = true
		}
		if len(taken) != size || b.free() != 0 {
			t.Fatalf("size %d: %d taken, %d free after filling", size, len(taken), b.free())
		}
	}
}
