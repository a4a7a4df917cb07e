package remote_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
	"github.com/coxswain-io/coxswain/store/storetest"
)

// env is a memstore served over loopback HTTP and a client of it.
type env struct {
	mem    *memstore.Store
	srv    *remote.Server
	http   *httptest.Server
	client *remote.Client
}

type envOptions struct {
	json     bool
	mem      []memstore.Option
	server   func(*remote.ServerConfig)
	client   func(*remote.ClientConfig)
	noClient bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	mem := memstore.New(append([]memstore.Option{memstore.WithBookmarkInterval(20 * time.Millisecond)}, o.mem...)...)
	t.Cleanup(func() { _ = mem.Close() })
	cfg := remote.ServerConfig{Store: mem}
	if o.server != nil {
		o.server(&cfg)
	}
	srv, err := remote.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &env{mem: mem, srv: srv, http: hs}
	if o.noClient {
		return e
	}
	ccfg := remote.ClientConfig{Servers: []string{hs.URL}}
	if o.json {
		ccfg.JSON = remote.KubernetesJSON
	}
	if o.client != nil {
		o.client(&ccfg)
	}
	c, err := remote.NewClient(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	e.client = c
	return e
}

func TestConformanceProtobuf(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newEnv(t, envOptions{}).client })
}

func TestConformanceJSON(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newEnv(t, envOptions{json: true}).client })
}

func TestConformanceSmallBuffers(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return newEnv(t, envOptions{mem: []memstore.Option{memstore.WithWatchBuffer(1, 1000), memstore.WithHistory(1000, 0)}}).client
	})
}
