package raftstore

import (
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/storetest"
)

func TestConformanceSingleMember(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openSingle(t) })
}

// The 3-member suite talks to a follower: its writes are forwarded to the
// leader, its reads and watches are served from the follower's own state.
// Timings are shorter than the fault tests' so each fresh cluster elects
// quickly; a spurious election under load only delays writes (batches are
// retried safely).
func TestConformanceThreeMembersFollower(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		c := newCluster(t, 3, func(cfg *Config) {
			cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 300*time.Millisecond, 300*time.Millisecond, 150*time.Millisecond
		})
		return c.members[c.follower()]
	})
}
