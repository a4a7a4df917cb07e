package raftstore

import (
	"errors"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/store"
)

func TestConfigValidate(t *testing.T) {
	peers := []Peer{{ID: "a", Addr: "127.0.0.1:1"}, {ID: "b", Addr: "127.0.0.1:2"}}
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"single member on disk", Config{Dir: "/tmp/x"}, true},
		{"no dir", Config{}, false},
		{"cluster", Config{ID: "a", Dir: "/tmp/x", Addr: "127.0.0.1:1", Bootstrap: true, Peers: peers}, true},
		{"peers without addr", Config{ID: "a", Dir: "/tmp/x", Peers: peers}, false},
		{"peers without self", Config{ID: "c", Dir: "/tmp/x", Addr: "127.0.0.1:3", Peers: peers}, false},
		{"duplicate peer", Config{ID: "a", Dir: "/tmp/x", Addr: "127.0.0.1:1", Peers: append(peers, peers[0])}, false},
		{"negative batch", Config{Dir: "/tmp/x", MaxBatch: -1}, false},
		{"lease longer than heartbeat", Config{Dir: "/tmp/x", HeartbeatTimeout: time.Second, LeaderLeaseTimeout: 2 * time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
}
