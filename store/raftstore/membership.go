package raftstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/raftstore/internal/raftpb"
)

// Member is one member of the cluster as the current configuration lists
// it.
type Member struct {
	ID     string
	Addr   string
	Voter  bool
	Leader bool
}

// Members returns the cluster's members as this member knows them.
func (s *Store) Members(ctx context.Context) ([]Member, error) {
	f := s.raft.GetConfiguration()
	if err := s.waitFuture(ctx, f); err != nil {
		return nil, err
	}
	_, leader := s.raft.LeaderWithID()
	var out []Member
	for _, srv := range f.Configuration().Servers {
		out = append(out, Member{ID: string(srv.ID), Addr: string(srv.Address), Voter: srv.Suffrage == raft.Voter, Leader: srv.ID == leader})
	}
	return out, nil
}

// Leader returns the id and address of the member this one believes leads
// ("" when none is known).
func (s *Store) Leader() (id, addr string) {
	a, i := s.raft.LeaderWithID()
	return string(i), string(a)
}

// IsLeader reports whether this member leads.
func (s *Store) IsLeader() bool { return s.isLeader() }

// ID returns this member's id.
func (s *Store) ID() string { return s.cfg.ID }

// Addr returns the address other members reach this one at ("" without
// a network).
func (s *Store) Addr() string {
	if s.mux == nil {
		return ""
	}
	return s.mux.Addr().String()
}

// AddVoter adds a member that votes and counts toward quorum. Called on any
// member; the leader does it. The new member must be started (Open) with
// the same registry, Bootstrap false, and will catch up from the log or a
// snapshot.
func (s *Store) AddVoter(ctx context.Context, id, addr string) error {
	return s.membership(ctx, &raftpb.Membership{Op: raftpb.Membership_ADD_VOTER, Id: id, Address: addr})
}

// AddNonvoter adds a member that replicates the log and serves reads and
// watches but does not vote (read scaling).
func (s *Store) AddNonvoter(ctx context.Context, id, addr string) error {
	return s.membership(ctx, &raftpb.Membership{Op: raftpb.Membership_ADD_NONVOTER, Id: id, Address: addr})
}

// RemoveMember removes a member from the cluster.
func (s *Store) RemoveMember(ctx context.Context, id string) error {
	return s.membership(ctx, &raftpb.Membership{Op: raftpb.Membership_REMOVE, Id: id})
}

// TransferLeadership hands leadership to the member id ("" for any
// up-to-date voter) and waits until it is done.
func (s *Store) TransferLeadership(ctx context.Context, id string) error {
	return s.membership(ctx, &raftpb.Membership{Op: raftpb.Membership_TRANSFER_LEADERSHIP, Id: id})
}

func (s *Store) membership(ctx context.Context, m *raftpb.Membership) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		if attempt > 0 {
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				continue
			}
		}
		var err error
		if s.isLeader() {
			err = s.changeMembership(ctx, m)
		} else {
			addr, _ := s.raft.LeaderWithID()
			if addr == "" || s.mux == nil {
				continue
			}
			var p *peer
			if p, err = s.peerFor(string(addr)); err == nil {
				var resp *raftpb.Response
				if resp, err = p.call(ctx, &raftpb.Request{Membership: m}); err == nil {
					err = codeError(resp.GetCode(), resp.GetMessage())
				}
			}
		}
		if isRetryable(err) {
			continue
		}
		return err
	}
}

func isRetryable(err error) bool {
	return err != nil && (errors.Is(err, errNotLeader) || errors.Is(err, errSendFailed))
}

// changeMembership runs on the leader.
func (s *Store) changeMembership(ctx context.Context, m *raftpb.Membership) error {
	var f raft.Future
	switch m.GetOp() {
	case raftpb.Membership_ADD_VOTER:
		f = s.raft.AddVoter(raft.ServerID(m.GetId()), raft.ServerAddress(m.GetAddress()), 0, 0)
	case raftpb.Membership_ADD_NONVOTER:
		f = s.raft.AddNonvoter(raft.ServerID(m.GetId()), raft.ServerAddress(m.GetAddress()), 0, 0)
	case raftpb.Membership_REMOVE:
		f = s.raft.RemoveServer(raft.ServerID(m.GetId()), 0, 0)
	case raftpb.Membership_TRANSFER_LEADERSHIP:
		if m.GetId() == "" {
			f = s.raft.LeadershipTransfer()
		} else {
			addr, err := s.memberAddr(m.GetId())
			if err != nil {
				return err
			}
			f = s.raft.LeadershipTransferToServer(raft.ServerID(m.GetId()), raft.ServerAddress(addr))
		}
	default:
		return store.Errorf(store.ErrInvalid, "unknown membership change %v", m.GetOp())
	}
	err := s.waitFuture(ctx, f)
	if errors.Is(err, raft.ErrNotLeader) {
		return fmt.Errorf("%w: %w", errNotLeader, err)
	}
	if err != nil {
		return fmt.Errorf("membership change %v %s: %w: %w", m.GetOp(), m.GetId(), store.ErrUnavailable, err)
	}
	return nil
}

func (s *Store) memberAddr(id string) (string, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return "", err
	}
	for _, srv := range f.Configuration().Servers {
		if string(srv.ID) == id {
			return string(srv.Address), nil
		}
	}
	return "", store.Errorf(store.ErrNotFound, "member %q", id)
}
