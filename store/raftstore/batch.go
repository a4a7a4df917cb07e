package raftstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/raftstore/internal/raftpb"
)

// Group commit. Every write (and read barrier) becomes an item on the
// member's queue. One batcher goroutine packs whatever is queued into one
// log entry (up to MaxBatch commands) and commits it, on the leader through
// raft.Apply, on a follower by forwarding the batch to the leader; at most
// MaxInflight batches are out at once, so under load the queue fills while
// they are out and the next entry carries many writes.

// item is one command waiting to be committed.
type item struct {
	ctx   context.Context
	cmd   *raftpb.Command
	res   cmdResult
	index uint64
	done  chan struct{}
}

// itemResult is what submit returns: the command's result and the log
// index that carried it.
type itemResult struct {
	cmdResult
	index uint64
}

func newItem(cmd *raftpb.Command) *item {
	return &item{ctx: context.Background(), cmd: cmd, done: make(chan struct{})}
}

func (it *item) finish(res cmdResult, index uint64) {
	it.res, it.index = res, index
	close(it.done)
}

// submit queues cmd and waits for its outcome. An error means the command
// was not applied or its outcome is unknown; a command error (not found,
// conflict, ...) is in the result.
func (s *Store) submit(ctx context.Context, cmd *raftpb.Command) (itemResult, error) {
	it := newItem(cmd)
	it.ctx = ctx
	select {
	case s.queue <- it:
	case <-ctx.Done():
		return itemResult{}, ctx.Err()
	case <-s.done:
		return itemResult{}, errClosed
	}
	select {
	case <-it.done:
		if it.res.err != nil && it.res.objs == nil && isTransportError(it.res.err) {
			return itemResult{}, it.res.err
		}
		return itemResult{cmdResult: it.res, index: it.index}, nil
	case <-ctx.Done():
		return itemResult{}, fmt.Errorf("outcome unknown: %w: %w", store.ErrUnavailable, ctx.Err())
	case <-s.done:
		return itemResult{}, errClosed
	}
}

// transportError marks an error of committing (not of applying) a command.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func isTransportError(err error) bool {
	var te *transportError
	return errors.As(err, &te)
}

func (s *Store) runBatcher() {
	defer s.wg.Done()
	sem := make(chan struct{}, s.cfg.MaxInflight)
	for {
		select {
		case sem <- struct{}{}:
		case <-s.done:
			s.failQueued()
			return
		}
		var first *item
		select {
		case first = <-s.queue:
		case <-s.done:
			s.failQueued()
			return
		}
		batch := []*item{first}
	drain:
		for len(batch) < s.cfg.MaxBatch {
			select {
			case it := <-s.queue:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.flush(batch)
			<-sem
		}()
	}
}

func (s *Store) failQueued() {
	for {
		select {
		case it := <-s.queue:
			it.finish(cmdResult{err: &transportError{errClosed}}, 0)
		default:
			return
		}
	}
}

// flush commits a batch, retrying while no member is known to lead or the
// one asked was not the leader (in both cases nothing was written). Items
// whose context ends while waiting fail with store.ErrUnavailable.
func (s *Store) flush(batch []*item) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		live := batch[:0]
		for _, it := range batch {
			if err := it.ctx.Err(); err != nil {
				reason := "no leader"
				if lastErr != nil {
					reason = lastErr.Error()
				}
				it.finish(cmdResult{err: &transportError{fmt.Errorf("%s: %w: %w", reason, store.ErrUnavailable, err)}}, 0)
				continue
			}
			live = append(live, it)
		}
		batch = live
		if len(batch) == 0 {
			return
		}
		if attempt > 0 {
			d := time.Duration(attempt) * 5 * time.Millisecond
			if d > 100*time.Millisecond {
				d = 100 * time.Millisecond
			}
			select {
			case <-time.After(d):
			case <-s.done:
				for _, it := range batch {
					it.finish(cmdResult{err: &transportError{errClosed}}, 0)
				}
				return
			}
		}
		var err error
		if s.isLeader() {
			var idx uint64
			idx, err = s.commitLocal(s.ctx, batch)
			if err == nil {
				for _, it := range batch {
					it.finish(it.res, idx)
				}
				return
			}
		} else {
			err = s.forwardBatch(batch)
			if err == nil {
				return
			}
		}
		if errors.Is(err, errNotLeader) || errors.Is(err, errSendFailed) {
			lastErr = err
			continue
		}
		for _, it := range batch {
			it.finish(cmdResult{err: &transportError{err}}, 0)
		}
		return
	}
}

// applyTimeout bounds how long raft.Apply waits to enqueue an entry.
const applyTimeout = 10 * time.Second

// commitLocal appends the items' commands as one log entry on this member,
// which must be the leader, and sets each item's result. errNotLeader means
// nothing was written; store.ErrUnavailable that the outcome is unknown.
func (s *Store) commitLocal(ctx context.Context, items []*item) (uint64, error) {
	b := &raftpb.Batch{Commands: make([]*raftpb.Command, len(items))}
	for i, it := range items {
		b.Commands[i] = it.cmd
	}
	data, err := proto.Marshal(b)
	if err != nil {
		return 0, fmt.Errorf("encode log entry: %w", err)
	}
	s.stats.entries.Add(1)
	s.stats.commands.Add(uint64(len(items)))
	f := s.raft.Apply(data, applyTimeout)
	if err := f.Error(); err != nil {
		switch {
		case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrEnqueueTimeout):
			return 0, fmt.Errorf("%w: %w", errNotLeader, err)
		case errors.Is(err, raft.ErrRaftShutdown):
			return 0, errClosed
		default:
			return 0, fmt.Errorf("commit: %w, outcome unknown: %w", err, store.ErrUnavailable)
		}
	}
	results, ok := f.Response().([]cmdResult)
	if !ok || len(results) != len(items) {
		return 0, fmt.Errorf("commit: unexpected response %T", f.Response())
	}
	for i, it := range items {
		it.res = results[i]
	}
	_ = ctx
	return f.Index(), nil
}

// forwardBatch sends the batch to the leader and finishes its items from
// the answer.
func (s *Store) forwardBatch(batch []*item) error {
	addr, _ := s.raft.LeaderWithID()
	if addr == "" || s.mux == nil {
		return fmt.Errorf("%w: no leader known", errSendFailed)
	}
	p, err := s.peerFor(string(addr))
	if err != nil {
		return err
	}
	req := &raftpb.Request{Commands: make([]*raftpb.Command, len(batch))}
	for i, it := range batch {
		req.Commands[i] = it.cmd
	}
	resp, err := p.call(s.ctx, req)
	if err != nil {
		return err
	}
	if resp.GetCode() != codeOK {
		return codeError(resp.GetCode(), resp.GetMessage())
	}
	if len(resp.GetResults()) != len(batch) {
		return fmt.Errorf("forward: %d results for %d commands: %w", len(resp.GetResults()), len(batch), store.ErrUnavailable)
	}
	results := make([]cmdResult, len(batch))
	for i := range batch {
		r := resp.GetResults()[i]
		results[i].err = codeError(r.GetCode(), r.GetMessage())
		if results[i].err == nil {
			if results[i].objs, err = s.decodeObjects(r.GetObjects()); err != nil {
				results[i].err = err
			}
		}
	}
	// Read your writes: the items finish once this member has applied the
	// entry too, so a write followed by a read on this member sees it.
	// Waiting does not hold up the next batch.
	idx := resp.GetIndex()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.waitApplied(s.ctx, idx)
		for i, it := range batch {
			it.finish(results[i], idx)
		}
	}()
	return nil
}
