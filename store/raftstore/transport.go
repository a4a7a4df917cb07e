package raftstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Every connection between members starts with one byte naming its
// protocol: Raft's own RPCs, or this package's forwarding of writes, reads
// and membership changes to the leader.
const (
	protoRaft    byte = 'R'
	protoForward byte = 'F'
)

// mux is the member's listener: it accepts connections (TLS when
// configured), reads their protocol byte and hands Raft connections to
// Raft's NetworkTransport (as its StreamLayer) and forwarding connections
// to serveForward. It also dials other members.
//
// blocked simulates a network partition for tests: dials fail, accepted
// connections are dropped and every open connection is closed.
type mux struct {
	ln        net.Listener
	advertise net.Addr
	tls       *tls.Config
	log       *slog.Logger
	forward   func(net.Conn)

	raftCh  chan net.Conn
	closed  chan struct{}
	once    sync.Once
	blocked atomic.Bool

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

var _ raft.StreamLayer = (*mux)(nil)

func newMux(ln net.Listener, advertise string, tlsConf *tls.Config, log *slog.Logger) (*mux, error) {
	m := &mux{ln: ln, tls: tlsConf, log: log, raftCh: make(chan net.Conn, 16), closed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	m.advertise = ln.Addr()
	if advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", advertise)
		if err != nil {
			return nil, fmt.Errorf("advertise address %q: %w", advertise, err)
		}
		m.advertise = a
	}
	return m, nil
}

// serve accepts connections until the listener closes.
func (m *mux) serve() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.log.Warn("raftstore: accept", "err", err)
			return
		}
		if m.blocked.Load() {
			_ = c.Close()
			continue
		}
		go m.handshake(c)
	}
}

func (m *mux) handshake(c net.Conn) {
	if m.tls != nil {
		c = tls.Server(c, m.tls)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	c = m.track(c)
	switch b[0] {
	case protoRaft:
		select {
		case m.raftCh <- c:
		case <-m.closed:
			_ = c.Close()
		}
	case protoForward:
		m.forward(c)
	default:
		m.log.Warn("raftstore: unknown protocol byte from peer", "remote", c.RemoteAddr().String(), "byte", b[0])
		_ = c.Close()
	}
}

// dial connects to a member for protocol proto.
func (m *mux) dial(address string, proto byte, timeout time.Duration) (net.Conn, error) {
	if m.blocked.Load() {
		return nil, fmt.Errorf("dial %s: partitioned", address)
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("tcp", address)
	if err != nil {
		return nil, err
	}
	if m.tls != nil {
		conf := m.tls.Clone()
		if conf.ServerName == "" {
			host, _, _ := net.SplitHostPort(address)
			conf.ServerName = host
		}
		tc := tls.Client(c, conf)
		_ = tc.SetDeadline(time.Now().Add(timeout))
		if err := tc.Handshake(); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("tls handshake with %s: %w", address, err)
		}
		_ = tc.SetDeadline(time.Time{})
		c = tc
	}
	if _, err := c.Write([]byte{proto}); err != nil {
		_ = c.Close()
		return nil, err
	}
	return m.track(c), nil
}

// Dial implements raft.StreamLayer.
func (m *mux) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return m.dial(string(address), protoRaft, timeout)
}

// Accept implements net.Listener for Raft.
func (m *mux) Accept() (net.Conn, error) {
	select {
	case c := <-m.raftCh:
		return c, nil
	case <-m.closed:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener: it stops accepting and closes every
// connection.
func (m *mux) Close() error {
	m.once.Do(func() {
		close(m.closed)
		_ = m.ln.Close()
		m.closeConns()
	})
	return nil
}

// Addr implements net.Listener: the advertised address.
func (m *mux) Addr() net.Addr { return m.advertise }

// setBlocked starts or ends a simulated partition of this member.
func (m *mux) setBlocked(b bool) {
	m.blocked.Store(b)
	if b {
		m.closeConns()
	}
}

func (m *mux) closeConns() {
	m.mu.Lock()
	conns := m.conns
	m.conns = map[net.Conn]struct{}{}
	m.mu.Unlock()
	for c := range conns {
		_ = c.Close()
	}
}

func (m *mux) track(c net.Conn) net.Conn {
	tc := &trackedConn{Conn: c, m: m}
	m.mu.Lock()
	m.conns[tc] = struct{}{}
	m.mu.Unlock()
	return tc
}

type trackedConn struct {
	net.Conn
	m    *mux
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.m.mu.Lock()
		delete(c.m.conns, c)
		c.m.mu.Unlock()
	})
	return c.Conn.Close()
}

// Read fails once the member is partitioned, even on connections that were
// open before, so a partition is total.
func (c *trackedConn) Read(p []byte) (int, error) {
	if c.m.blocked.Load() {
		_ = c.Conn.Close()
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

func (c *trackedConn) Write(p []byte) (int, error) {
	if c.m.blocked.Load() {
		_ = c.Conn.Close()
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}
