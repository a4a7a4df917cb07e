package raftstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/raftstore/internal/raftpb"
)

// Group commit. Every write (and read barrier) becomes an item on the
// member's queue. One batcher goroutine packs whatever is queued into one
// batch (up to MaxBatch commands) with a fresh id and commits it as one log
// entry: on the leader through raft.Apply, on a follower by forwarding the
// batch to the leader. At most MaxInflight batches are out at once, so
// under load the queue fills while they are out and the next entry carries
// many writes.
//
// The member's own FSM hands each command its result when it applies the
// batch. A batch whose fate is unknown (leadership lost mid-commit, the
// connection to the leader broke) is simply sent again: every member skips
// a batch whose id it has applied, so a write is applied once.

// item is one command waiting to be committed.
type item struct {
	ctx   context.Context
	cmd   *raftpb.Command
	res   cmdResult
	index uint64
	done  chan struct{}
}

func (it *item) finish(res cmdResult, index uint64) {
	it.res, it.index = res, index
	close(it.done)
}

// submit queues cmd and waits for its result. An error means the command
// was not applied or its outcome is unknown; a command's own error (not
// found, conflict, ...) is in the result.
func (s *Store) submit(ctx context.Context, cmd *raftpb.Command) (cmdResult, error) {
	it := &item{ctx: ctx, cmd: cmd, done: make(chan struct{})}
	if s.ctx.Err() != nil {
		return cmdResult{}, errClosed
	}
	select {
	case s.queue <- it:
	case <-ctx.Done():
		return cmdResult{}, ctx.Err()
	case <-s.done:
		return cmdResult{}, errClosed
	}
	select {
	case <-it.done:
		if isTransportError(it.res.err) {
			return cmdResult{}, it.res.err
		}
		return it.res, nil
	case <-ctx.Done():
		return cmdResult{}, fmt.Errorf("outcome unknown: %w: %w", store.ErrUnavailable, ctx.Err())
	case <-s.done:
		// Close fails every pending item; this one may have been queued
		// after the batcher stopped.
		select {
		case <-it.done:
			if isTransportError(it.res.err) {
				return cmdResult{}, it.res.err
			}
			return it.res, nil
		case <-time.After(closeGrace):
			return cmdResult{}, errClosed
		}
	}
}

// closeGrace is how long a write in flight when the store closes waits
// for its outcome before failing with store.ErrUnavailable.
const closeGrace = 5 * time.Second

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

func (s *Store) newBatchID() batchID {
	return batchID{hi: s.idPrefix, lo: s.idSeq.Add(1)}
}

// flush commits a batch, retrying (with the same id) while no leader is
// known, the member asked was not the leader, or the outcome of an attempt
// is unknown. It gives up when the context of every item has ended.
func (s *Store) flush(batch []*item) {
	id := s.newBatchID()
	b := &raftpb.Batch{IdHi: id.hi, IdLo: id.lo, Commands: make([]*raftpb.Command, len(batch))}
	for i, it := range batch {
		b.Commands[i] = it.cmd
	}
	data, err := proto.Marshal(b)
	if err != nil {
		for _, it := range batch {
			it.finish(cmdResult{err: &transportError{fmt.Errorf("encode log entry: %w", err)}}, 0)
		}
		return
	}
	pb := s.fsm.addPending(id, batch)
	batchCtx, cancelBatch := allDoneContext(batch)
	defer cancelBatch()
	s.stats.entries.Add(1)
	s.stats.commands.Add(uint64(len(batch)))
	giveUp := func(err error) {
		if p := s.fsm.takePending(id); p != nil {
			for _, it := range p.items {
				it.finish(cmdResult{err: &transportError{err}}, 0)
			}
		}
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			d := min(time.Duration(attempt)*5*time.Millisecond, 100*time.Millisecond)
			select {
			case <-time.After(d):
			case <-batchCtx.Done():
			case <-pb.done:
				return
			case <-s.done:
				giveUp(errClosed)
				return
			}
		}
		select {
		case <-pb.done:
			return // applied here (or failed by a snapshot install)
		default:
		}
		if allDone(batch) {
			reason := "no leader"
			if lastErr != nil {
				reason = lastErr.Error()
			}
			giveUp(fmt.Errorf("%s: %w", reason, store.ErrUnavailable))
			return
		}
		var err error
		if s.isLeader() {
			// On success the FSM has applied the entry here and handed
			// out the results.
			err = s.commitData(data)
		} else {
			// On success the leader has committed the entry; this
			// member's FSM hands out the results when it applies it.
			err = s.forwardBatch(batchCtx, b)
		}
		if err == nil {
			return
		}
		if errors.Is(err, errClosed) || s.ctx.Err() != nil {
			giveUp(errClosed)
			return
		}
		if !retryable(err) {
			giveUp(err)
			return
		}
		lastErr = err
	}
}

// allDoneContext returns a context that ends when the context of every
// item has ended.
func allDoneContext(batch []*item) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	var left atomic.Int64
	left.Store(int64(len(batch)))
	var stops []func() bool
	for _, it := range batch {
		stops = append(stops, context.AfterFunc(it.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

func allDone(batch []*item) bool {
	for _, it := range batch {
		if it.ctx.Err() == nil {
			return false
		}
	}
	return true
}

func retryable(err error) bool {
	return errors.Is(err, errNotLeader) || errors.Is(err, errSendFailed) || errors.Is(err, store.ErrUnavailable)
}

// applyTimeout bounds how long raft.Apply waits to enqueue an entry.
const applyTimeout = 10 * time.Second

// commitData appends data as one log entry on this member, which must be
// the leader, and waits until it is applied here. errNotLeader means
// nothing was written; store.ErrUnavailable that the outcome is unknown.
func (s *Store) commitData(data []byte) error {
	f := s.raft.Apply(data, applyTimeout)
	// Raft never answers a future still queued when it shuts down, so
	// wait for it only while the store is open.
	errCh := make(chan error, 1)
	go func() { errCh <- f.Error() }()
	var err error
	select {
	case err = <-errCh:
	case <-s.done:
		return errClosed
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %w", errNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return errClosed
	default:
		return fmt.Errorf("commit: %w, outcome unknown: %w", err, store.ErrUnavailable)
	}
}

// forwardAttemptTimeout bounds one attempt to have the leader commit a
// forwarded batch.
const forwardAttemptTimeout = 10 * time.Second

// forwardBatch sends the batch to the leader; nil means it is committed.
// batchCtx ends when no item of the batch is waited for any more.
func (s *Store) forwardBatch(batchCtx context.Context, b *raftpb.Batch) error {
	addr, _ := s.raft.LeaderWithID()
	if addr == "" || s.mux == nil {
		return fmt.Errorf("%w: no leader known", errSendFailed)
	}
	p, err := s.peerFor(string(addr))
	if err != nil {
		return err
	}
	// Give up on this attempt after forwardAttemptTimeout (a leader that
	// stopped answering without closing the connection), or when nobody
	// waits for the batch any more; a later attempt resends it safely.
	ctx, cancel := context.WithTimeout(s.ctx, forwardAttemptTimeout)
	defer cancel()
	stop := context.AfterFunc(batchCtx, cancel)
	defer stop()
	resp, err := p.call(ctx, &raftpb.Request{Batch: b})
	if err != nil && ctx.Err() != nil && s.ctx.Err() == nil {
		return fmt.Errorf("forward to %s: %w: %w", addr, store.ErrUnavailable, err)
	}
	if err != nil {
		return err
	}
	return codeError(resp.GetCode(), resp.GetMessage())
}
