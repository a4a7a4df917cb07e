package memstore_test

import (
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := memstore.New(memstore.WithBookmarkInterval(20 * time.Millisecond))
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestConformanceSmallBuffers(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := memstore.New(memstore.WithBookmarkInterval(20*time.Millisecond), memstore.WithWatchBuffer(1, 1000), memstore.WithHistory(1000, 0))
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestConformanceWithLatency runs the suite with every operation delayed,
// as a replicated or remote backend would be, to keep the suite free of
// timing assumptions.
func TestConformanceWithLatency(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := memstore.New(memstore.WithBookmarkInterval(100 * time.Millisecond))
		s.InjectFault(memstore.Fault{Delay: 200 * time.Microsecond})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
