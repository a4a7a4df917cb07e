package raftstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/raftstore/internal/raftpb"
)

// The forwarding protocol: a member that is not the leader sends writes,
// read barriers and membership changes to the leader over one multiplexed
// connection (size-delimited protobuf Requests, answered by Responses with
// the same id, in any order).

// errSendFailed: the request never left this member, so it did nothing;
// the caller may retry.
var errSendFailed = errors.New("forward: not sent")

// peer is a forwarding connection to one member.
type peer struct {
	addr string
	conn net.Conn

	wmu sync.Mutex
	bw  *bufio.Writer

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan *raftpb.Response
	err     error // set when the connection is dead
	dead    chan struct{}
}

func (s *Store) peerFor(addr string) (*peer, error) {
	s.peersMu.Lock()
	p := s.peers[addr]
	if p != nil {
		select {
		case <-p.dead:
			delete(s.peers, addr)
			p = nil
		default:
		}
	}
	s.peersMu.Unlock()
	if p != nil {
		return p, nil
	}
	c, err := s.mux.dial(addr, protoForward, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %w", errSendFailed, addr, err)
	}
	p = &peer{addr: addr, conn: c, bw: bufio.NewWriterSize(c, 64<<10), pending: map[uint64]chan *raftpb.Response{}, dead: make(chan struct{})}
	go p.readLoop()
	s.peersMu.Lock()
	if old := s.peers[addr]; old != nil {
		s.peersMu.Unlock()
		_ = c.Close()
		return old, nil
	}
	s.peers[addr] = p
	s.peersMu.Unlock()
	return p, nil
}

func (p *peer) readLoop() {
	br := bufio.NewReaderSize(p.conn, 64<<10)
	opts := protodelim.UnmarshalOptions{MaxSize: -1}
	for {
		resp := &raftpb.Response{}
		if err := opts.UnmarshalFrom(br, resp); err != nil {
			p.fail(err)
			return
		}
		p.mu.Lock()
		ch := p.pending[resp.GetId()]
		delete(p.pending, resp.GetId())
		p.mu.Unlock()
		if ch != nil {
			ch <- resp
		}
	}
}

func (p *peer) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
		close(p.dead)
	}
	p.pending = map[uint64]chan *raftpb.Response{}
	p.mu.Unlock()
	_ = p.conn.Close()
}

func (p *peer) close() { p.fail(net.ErrClosed) }

// call sends req and waits for its response. An error wrapping
// errSendFailed means the request was not sent; any other error means its
// outcome is unknown.
func (p *peer) call(ctx context.Context, req *raftpb.Request) (*raftpb.Response, error) {
	ch := make(chan *raftpb.Response, 1)
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", errSendFailed, p.err)
	}
	p.nextID++
	req.Id = p.nextID
	p.pending[req.Id] = ch
	p.mu.Unlock()

	p.wmu.Lock()
	_, err := protodelim.MarshalTo(p.bw, req)
	if err == nil {
		err = p.bw.Flush()
	}
	p.wmu.Unlock()
	if err != nil {
		p.fail(err)
		return nil, fmt.Errorf("forward to %s: %w: %w", p.addr, store.ErrUnavailable, err)
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-p.dead:
		// The response may have arrived just before.
		select {
		case resp := <-ch:
			return resp, nil
		default:
		}
		return nil, fmt.Errorf("forward to %s: connection lost, outcome unknown: %w", p.addr, store.ErrUnavailable)
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.pending, req.Id)
		p.mu.Unlock()
		return nil, ctx.Err()
	}
}

// serveForward answers the requests of one forwarding connection.
func (s *Store) serveForward(c net.Conn) {
	s.fwdMu.Lock()
	if s.fwdClosed {
		s.fwdMu.Unlock()
		_ = c.Close()
		return
	}
	s.wg.Add(1)
	s.fwdMu.Unlock()
	defer s.wg.Done()
	defer c.Close()
	go func() {
		<-s.done
		_ = c.Close()
	}()
	br := bufio.NewReaderSize(c, 64<<10)
	bw := bufio.NewWriterSize(c, 64<<10)
	var wmu sync.Mutex
	opts := protodelim.UnmarshalOptions{MaxSize: -1}
	for {
		req := &raftpb.Request{}
		if err := opts.UnmarshalFrom(br, req); err != nil {
			return
		}
		go func() {
			resp := s.handleForward(req)
			resp.Id = req.GetId()
			wmu.Lock()
			defer wmu.Unlock()
			if _, err := protodelim.MarshalTo(bw, resp); err != nil {
				_ = c.Close()
				return
			}
			if err := bw.Flush(); err != nil {
				_ = c.Close()
			}
		}()
	}
}

// forwardTimeout bounds the work the leader does for one forwarded request.
const forwardTimeout = 30 * time.Second

func (s *Store) handleForward(req *raftpb.Request) *raftpb.Response {
	ctx, cancel := context.WithTimeout(s.ctx, forwardTimeout)
	defer cancel()
	if !s.isLeader() {
		return &raftpb.Response{Code: codeNotLeader, Message: "not the leader"}
	}
	if req.GetMembership() != nil {
		err := s.changeMembership(ctx, req.GetMembership())
		return &raftpb.Response{Code: errCode(err), Message: errString(err)}
	}
	if req.GetBatch() == nil {
		return &raftpb.Response{Code: codeInvalid, Message: "request carries neither a batch nor a membership change"}
	}
	data, err := proto.Marshal(req.GetBatch())
	if err == nil {
		err = s.commitData(data)
	}
	return &raftpb.Response{Code: errCode(err), Message: errString(err)}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
