package raftstore

import (
	"testing"

	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/storetest"
)

func TestConformanceSingleMember(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openSingle(t) })
}

// The 3-member suite talks to a follower: its writes are forwarded to the
// leader, its reads and watches are served from the follower's own state.
func TestConformanceThreeMembersFollower(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		c := newCluster(t, 3, nil)
		return c.members[c.follower()]
	})
}
