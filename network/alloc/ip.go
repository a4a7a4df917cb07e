package alloc

import (
	"fmt"
	"math/big"
	"net/netip"

	"github.com/coxswain-io/coxswain/store"
)

// IPAllocator hands out single addresses from a CIDR (the service range for
// cluster IPs). The network address and, for IPv4, the broadcast address are
// never handed out.
type IPAllocator struct {
	prefix netip.Prefix
	base   netip.Addr // first allocatable address
	bm     *bitmap
}

// maxRangeBits caps a range at 2^20 values so the bitmap stays small.
const maxRangeBits = 20

// NewIPAllocator returns an allocator over cidr, e.g. "10.96.0.0/12".
func NewIPAllocator(cidr string) (*IPAllocator, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, store.Errorf(store.ErrInvalid, "service range %q: %v", cidr, err)
	}
	p = p.Masked()
	hostBits := p.Addr().BitLen() - p.Bits()
	if hostBits < 2 {
		return nil, store.Errorf(store.ErrInvalid, "service range %s is too small", p)
	}
	if hostBits > maxRangeBits {
		hostBits = maxRangeBits
	}
	size := 1<<hostBits - 1 // minus the network address
	if p.Addr().Is4() && hostBits == p.Addr().BitLen()-p.Bits() {
		size-- // minus broadcast
	}
	return &IPAllocator{prefix: p, base: p.Addr().Next(), bm: newBitmap(size)}, nil
}

// CIDR returns the range the allocator hands addresses out of, masked to
// its network address.
func (a *IPAllocator) CIDR() netip.Prefix { return a.prefix }

func (a *IPAllocator) offset(ip netip.Addr) (int, error) {
	if !a.prefix.Contains(ip) {
		return 0, fmt.Errorf("%s not in %s: %w", ip, a.prefix, ErrNotInRange)
	}
	d := new(big.Int).Sub(new(big.Int).SetBytes(ip.AsSlice()), new(big.Int).SetBytes(a.base.AsSlice()))
	if d.Sign() < 0 || !d.IsInt64() || d.Int64() >= int64(a.bm.size) {
		return 0, fmt.Errorf("%s is reserved in %s: %w", ip, a.prefix, ErrNotInRange)
	}
	return int(d.Int64()), nil
}

func (a *IPAllocator) addr(off int) netip.Addr {
	v := new(big.Int).Add(new(big.Int).SetBytes(a.base.AsSlice()), big.NewInt(int64(off)))
	b := v.FillBytes(make([]byte, a.base.BitLen()/8))
	ip, _ := netip.AddrFromSlice(b)
	return ip
}

// Allocate hands out the next free address, or fails with ErrFull.
func (a *IPAllocator) Allocate() (netip.Addr, error) {
	off, ok := a.bm.allocateNext()
	if !ok {
		return netip.Addr{}, fmt.Errorf("service range %s: %w", a.prefix, ErrFull)
	}
	return a.addr(off), nil
}

// Occupy marks ip allocated (a user's chosen cluster IP, or rebuilding from
// existing services). It fails with ErrAllocated if ip is taken and with
// ErrNotInRange if it is outside the range.
func (a *IPAllocator) Occupy(ip netip.Addr) error {
	off, err := a.offset(ip)
	if err != nil {
		return err
	}
	if !a.bm.take(off) {
		return fmt.Errorf("cluster IP %s: %w", ip, ErrAllocated)
	}
	return nil
}

// Release frees ip; releasing a free or foreign address does nothing.
func (a *IPAllocator) Release(ip netip.Addr) {
	if off, err := a.offset(ip); err == nil {
		a.bm.release(off)
	}
}

// Has reports whether ip is allocated.
func (a *IPAllocator) Has(ip netip.Addr) bool {
	off, err := a.offset(ip)
	return err == nil && a.bm.contains(off)
}

// Free returns how many addresses are left.
func (a *IPAllocator) Free() int { return a.bm.free() }
