package alloc

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"

	"github.com/coxswain-io/coxswain/store"
)

// Error classes of the allocators, tested with errors.Is.
var (
	// ErrFull: every value of the range is allocated.
	ErrFull = errors.New("range is full")
	// ErrAllocated: the value asked for is already taken. It wraps
	// store.ErrAlreadyExists as well.
	ErrAllocated = fmt.Errorf("already allocated: %w", store.ErrAlreadyExists)
	// ErrNotInRange: the value is outside the allocator's range. It wraps
	// store.ErrInvalid as well.
	ErrNotInRange = fmt.Errorf("not in range: %w", store.ErrInvalid)
)

// bitmap is a set of the integers [0, size) with next-fit allocation.
type bitmap struct {
	mu    sync.Mutex
	words []uint64
	size  int
	used  int
	next  int // where the next search starts
}

func newBitmap(size int) *bitmap {
	return &bitmap{words: make([]uint64, (size+63)/64), size: size}
}

func (b *bitmap) has(i int) bool { return b.words[i/64]&(1<<(uint(i)%64)) != 0 }

// take marks i used; false if it already was.
func (b *bitmap) take(i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.has(i) {
		return false
	}
	b.words[i/64] |= 1 << (uint(i) % 64)
	b.used++
	return true
}

func (b *bitmap) release(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.has(i) {
		b.words[i/64] &^= 1 << (uint(i) % 64)
		b.used--
	}
}

func (b *bitmap) contains(i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.has(i)
}

func (b *bitmap) free() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.size - b.used
}

// allocateNext takes the first free value at or after next, wrapping around.
func (b *bitmap) allocateNext() (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used >= b.size {
		return 0, false
	}
	for n := 0; n < b.size; {
		i := (b.next + n) % b.size
		w := b.words[i/64] | (uint64(1)<<(uint(i)%64) - 1) // ignore bits below i
		if w == ^uint64(0) {
			n += 64 - i%64
			continue
		}
		j := i/64*64 + bits.TrailingZeros64(^w)
		if j >= b.size {
			n += b.size - i
			continue
		}
		b.words[j/64] |= 1 << (uint(j) % 64)
		b.used++
		b.next = (j + 1) % b.size
		return j, true
	}
	return 0, false
}
