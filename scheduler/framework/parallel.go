package framework

import (
	"context"
	"sync"
	"sync/atomic"
)

// Parallelize calls fn(i) for every i in [0, n) on up to workers
// goroutines, handing out indexes in small chunks. It stops handing out
// work when ctx ends and returns when every started call has returned.
func Parallelize(ctx context.Context, workers, n int, fn func(i int)) {
	if n <= 0 {
		return
	}
	if workers <= 1 || n == 1 {
		for i := 0; i < n; i++ {
			if ctx.Err() != nil {
				return
			}
			fn(i)
		}
		return
	}
	chunk := max(1, min(64, n/(workers*4)))
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		for ctx.Err() == nil {
			start := int(next.Add(int64(chunk))) - chunk
			if start >= n {
				return
			}
			for i := start; i < min(start+chunk, n); i++ {
				fn(i)
			}
		}
	}
	w := min(workers, (n+chunk-1)/chunk)
	wg.Add(w - 1)
	for range w - 1 {
		go func() { defer wg.Done(); work() }()
	}
	work()
	wg.Wait()
}
