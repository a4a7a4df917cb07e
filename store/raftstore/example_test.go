package raftstore_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/raftstore"
)

// A single-member store on disk, the embedded default: write, close, open
// again, and everything is there.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "raftstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	cfg := raftstore.Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	s, err := raftstore.Open(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	cms := store.For[*api.ConfigMap](s)
	_, err = cms.Create(ctx, &api.ConfigMap{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "settings"},
		Data:     map[string]string{"color": "blue"},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}

	s, err = raftstore.Open(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	cm, err := store.For[*api.ConfigMap](s).Get(ctx, "default", "settings")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cm.Data["color"], cm.Metadata.ResourceVersion)
	// Output: blue 2
}

// freeAddr returns a loopback address with a free port.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Three members on loopback: a write to any member is forwarded to the
// leader, and a linearizable read on any member sees it.
func ExampleOpen_cluster() {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var peers []raftstore.Peer
	for _, id := range []string{"a", "b", "c"} {
		peers = append(peers, raftstore.Peer{ID: id, Addr: freeAddr()})
	}
	var members []*raftstore.Store
	for _, p := range peers {
		dir, err := os.MkdirTemp("", "raftstore-example-"+p.ID)
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		s, err := raftstore.Open(ctx, raftstore.Config{ID: p.ID, Dir: dir, Addr: p.Addr, Bootstrap: true, Peers: peers, Logger: quiet})
		if err != nil {
			log.Fatal(err)
		}
		defer s.Close()
		members = append(members, s)
	}
	if _, err := members[2].Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "default", Name: "shared"}}); err != nil {
		log.Fatal(err)
	}
	for _, m := range members {
		obj, err := m.Get(ctx, api.KindConfigMap, "default", "shared", store.Linearizable())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.ID(), obj.GetMetadata().GetName())
	}
	// Output:
	// a shared
	// b shared
	// c shared
}

// Growing a cluster at run time: a second member starts without Bootstrap
// and the first adds it as a voter; it catches up and takes writes.
func ExampleStore_AddVoter() {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var dirs []string
	defer func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}()
	open := func(id string, bootstrap bool) *raftstore.Store {
		dir, err := os.MkdirTemp("", "raftstore-example-"+id)
		if err != nil {
			log.Fatal(err)
		}
		dirs = append(dirs, dir)
		s, err := raftstore.Open(ctx, raftstore.Config{ID: id, Dir: dir, Addr: freeAddr(), Bootstrap: bootstrap, Logger: quiet})
		if err != nil {
			log.Fatal(err)
		}
		return s
	}
	a := open("a", true)
	defer a.Close()
	if _, err := a.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: "before"}}); err != nil {
		log.Fatal(err)
	}
	b := open("b", false)
	defer b.Close()
	if err := a.AddVoter(ctx, b.ID(), b.Addr()); err != nil {
		log.Fatal(err)
	}
	if _, err := b.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: "after"}}); err != nil {
		log.Fatal(err)
	}
	l, err := b.List(ctx, api.KindNamespace, store.ListOptions{Linearizable: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, ns := range l.Items {
		fmt.Println(ns.GetMetadata().GetName())
	}
	members, err := b.Members(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(members), "members")
	// Output:
	// after
	// before
	// 2 members
}
