package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/raftstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

// Joining a running cluster goes through the store itself, so it needs no
// extra endpoint: a new member (started with -join) writes a ConfigMap
// "member-<id>" labelled LabelMemberRequest in SystemNamespace through an
// existing member's API, and the elected leader's membership loop adds
// every requested member that the Raft configuration lacks as a voter.
const (
	// LabelMemberRequest marks a join request.
	LabelMemberRequest = "coxswain.io/member-request"
	// membershipInterval is how often the leader checks join requests.
	membershipInterval = time.Second
)

// requestJoin asks the cluster behind servers to add this member.
func requestJoin(ctx context.Context, cfg *settings, servers []string, log *slog.Logger) error {
	cl, err := remote.NewClient(remote.ClientConfig{Servers: servers, Token: cfg.JoinToken, Registry: cfg.Registry, Logger: log})
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	addr := cfg.RaftAdvertise
	if addr == "" {
		addr = cfg.RaftAddr
	}
	req := &api.ConfigMap{
		Metadata: &api.ObjectMeta{Name: "member-" + cfg.MemberID, Namespace: SystemNamespace,
			Labels: map[string]string{LabelMemberRequest: "true"}},
		Data: map[string]string{"id": cfg.MemberID, "raftAddr": addr},
	}
	for {
		_, err := cl.Create(ctx, req)
		if err == nil || store.IsAlreadyExists(err) {
			if err != nil {
				_, err = store.For[*api.ConfigMap](cl).Mutate(ctx, SystemNamespace, req.Metadata.Name, func(c *api.ConfigMap) error {
					c.Data = req.Data
					return nil
				})
			}
			if err == nil {
				log.Info("asked the cluster to add this member", "id", cfg.MemberID, "raftAddr", addr, "via", servers)
				return nil
			}
		}
		log.Warn("join request failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("join: %w", err)
		case <-time.After(2 * time.Second):
		}
	}
}

// membership adds the members that asked to join (leader only).
type membership struct {
	rs    *raftstore.Store
	store store.Store
	log   *slog.Logger
}

// Start runs the loop until ctx ends.
func (m *membership) Start(ctx context.Context) error {
	t := time.NewTicker(membershipInterval)
	defer t.Stop()
	for {
		if err := m.sync(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("membership", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (m *membership) sync(ctx context.Context) error {
	reqs, _, err := store.For[*api.ConfigMap](m.store).List(ctx, store.ListOptions{Namespace: SystemNamespace, LabelSelector: LabelMemberRequest + "=true"})
	if err != nil || len(reqs) == 0 {
		return err
	}
	members, err := m.rs.Members(ctx)
	if err != nil {
		return err
	}
	have := map[string]string{}
	for _, mb := range members {
		have[mb.ID] = mb.Addr
	}
	for _, r := range reqs {
		id, addr := r.GetData()["id"], r.GetData()["raftAddr"]
		if id == "" || addr == "" || have[id] == addr {
			continue
		}
		m.log.Info("adding member", "id", id, "raftAddr", addr)
		if err := m.rs.AddVoter(ctx, id, addr); err != nil {
			return fmt.Errorf("add member %s: %w", id, err)
		}
	}
	return nil
}
