package alloc

import (
	"fmt"
	"math/big"
	"net/netip"

	"github.com/coxswain-io/coxswain/store"
)

// CIDRAllocator splits a cluster range into equal per-node subnets, e.g.
// 10.244.0.0/16 into /24s.
type CIDRAllocator struct {
	cluster  netip.Prefix
	maskSize int
	bm       *bitmap
}

// NewCIDRAllocator returns an allocator of /maskSize subnets of clusterCIDR.
func NewCIDRAllocator(clusterCIDR string, maskSize int) (*CIDRAllocator, error) {
	p, err := netip.ParsePrefix(clusterCIDR)
	if err != nil {
		return nil, store.Errorf(store.ErrInvalid, "cluster CIDR %q: %v", clusterCIDR, err)
	}
	p = p.Masked()
	if maskSize < p.Bits() || maskSize > p.Addr().BitLen() {
		return nil, store.Errorf(store.ErrInvalid, "node mask /%d does not fit in %s", maskSize, p)
	}
	if maskSize-p.Bits() > maxRangeBits {
		return nil, store.Errorf(store.ErrInvalid, "%s split into /%d gives more than 2^%d subnets", p, maskSize, maxRangeBits)
	}
	return &CIDRAllocator{cluster: p, maskSize: maskSize, bm: newBitmap(1 << (maskSize - p.Bits()))}, nil
}

// ClusterCIDR returns the cluster range.
func (a *CIDRAllocator) ClusterCIDR() netip.Prefix { return a.cluster }

func (a *CIDRAllocator) subnet(i int) netip.Prefix {
	shift := uint(a.cluster.Addr().BitLen() - a.maskSize)
	v := new(big.Int).Lsh(big.NewInt(int64(i)), shift)
	v.Add(v, new(big.Int).SetBytes(a.cluster.Addr().AsSlice()))
	ip, _ := netip.AddrFromSlice(v.FillBytes(make([]byte, a.cluster.Addr().BitLen()/8)))
	return netip.PrefixFrom(ip, a.maskSize)
}

func (a *CIDRAllocator) index(p netip.Prefix) (int, error) {
	p = p.Masked()
	if p.Bits() != a.maskSize || !a.cluster.Contains(p.Addr()) {
		return 0, fmt.Errorf("%s is not a /%d of %s: %w", p, a.maskSize, a.cluster, ErrNotInRange)
	}
	shift := uint(a.cluster.Addr().BitLen() - a.maskSize)
	d := new(big.Int).Sub(new(big.Int).SetBytes(p.Addr().AsSlice()), new(big.Int).SetBytes(a.cluster.Addr().AsSlice()))
	return int(d.Rsh(d, shift).Int64()), nil
}

// Allocate hands out the next free subnet, or fails with ErrFull.
func (a *CIDRAllocator) Allocate() (netip.Prefix, error) {
	i, ok := a.bm.allocateNext()
	if !ok {
		return netip.Prefix{}, fmt.Errorf("cluster CIDR %s: %w", a.cluster, ErrFull)
	}
	return a.subnet(i), nil
}

// Occupy marks p allocated; ErrAllocated if taken, ErrNotInRange if it is not
// one of this allocator's subnets.
func (a *CIDRAllocator) Occupy(p netip.Prefix) error {
	i, err := a.index(p)
	if err != nil {
		return err
	}
	if !a.bm.take(i) {
		return fmt.Errorf("pod CIDR %s: %w", p, ErrAllocated)
	}
	return nil
}

// Release frees p.
func (a *CIDRAllocator) Release(p netip.Prefix) {
	if i, err := a.index(p); err == nil {
		a.bm.release(i)
	}
}

// Has reports whether p is allocated.
func (a *CIDRAllocator) Has(p netip.Prefix) bool {
	i, err := a.index(p)
	return err == nil && a.bm.contains(i)
}

// Free returns how many subnets are left.
func (a *CIDRAllocator) Free() int { return a.bm.free() }
