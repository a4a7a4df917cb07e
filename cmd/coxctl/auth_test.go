package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

// TestTokenFromConfigFileAndEnv checks where coxctl takes its server and
// token from: the config file, overridden by the environment, overridden
// by flags.
func TestTokenFromConfigFileAndEnv(t *testing.T) {
	ms := memstore.New()
	auth, err := remote.ParseTokens([]byte("s3cret,alice,system:masters\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := remote.NewServer(remote.ServerConfig{Store: ms, Authenticator: auth, Authorizer: remote.NewRBACAuthorizer(ms)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	if _, err := ms.Create(context.Background(), &api.Namespace{Metadata: &api.ObjectMeta{Name: "team"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ms.Create(context.Background(), &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "cfg", Namespace: "team"}}); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfgFile, []byte("server: "+hs.URL+"\ntoken: s3cret\nnamespace: team\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COXSWAIN_CONFIG", cfgFile)
	for _, k := range []string{"COXSWAIN_SERVER", "COXSWAIN_TOKEN", "COXSWAIN_NAMESPACE"} {
		t.Setenv(k, "")
	}
	if out := mustRun(t, "get", "configmaps", "-o", "name"); out != "configmap/cfg\n" {
		t.Errorf("with the config file: %q", out)
	}
	t.Setenv("COXSWAIN_TOKEN", "wrong")
	if _, errOut, code := runCmd(t, "", "get", "configmaps"); code != exitFailed || !strings.Contains(strings.ToLower(errOut), "unauthorized") {
		t.Errorf("a wrong token from the environment: %d %s", code, errOut)
	}
	if out := mustRun(t, "get", "configmaps", "--token", "s3cret", "-o", "name"); out != "configmap/cfg\n" {
		t.Errorf("the flag wins: %q", out)
	}
	if err := os.WriteFile(cfgFile, []byte("sever: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCmd(t, "", "get", "pods"); code != exitFailed || !strings.Contains(errOut, "sever") {
		t.Errorf("a config file with an unknown key: %d %s", code, errOut)
	}
}

// TestGetWatch lists, then prints the changes that follow.
func TestGetWatch(t *testing.T) {
	st := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuf{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, env{stdin: strings.NewReader(""), stdout: out, stderr: out}, []string{"get", "configmaps", "-w", "-o", "name"})
	}()
	// Create objects until the watch has printed one (it may start after
	// the first create: then the list prints it).
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; !strings.Contains(out.String(), "configmap/c"); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("nothing printed: %q", out.String())
		}
		if i < 50 {
			if _, err := st.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "c" + strings.Repeat("x", i), Namespace: "default"}}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d: %s", code, out.String())
	}
}

// syncBuf is a strings.Builder safe for concurrent use.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
