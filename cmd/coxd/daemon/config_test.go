package daemon

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigFileAndFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "coxd.yaml")
	if err := os.WriteFile(file, []byte("data-dir: /srv/coxd\napi-addr: 0.0.0.0:7443\nleader-lease: 20s\nproxy: false\npeers: [a=h1:1, b=h2:2]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	fs := cfg.flags("all", io.Discard)
	if err := parseFlags(fs, []string{"-config", file, "-api-addr", "127.0.0.1:9443"}); err != nil {
		t.Fatal(err)
	}
	cfg.Mode = "all"
	if cfg.DataDir != "/srv/coxd" || cfg.APIAddr != "127.0.0.1:9443" || cfg.LeaseDuration != 20*time.Second || cfg.Proxy {
		t.Errorf("config %+v", cfg)
	}
	peers, err := cfg.peers()
	if err != nil || len(peers) != 2 || peers[1] != (peer{"b", "h2:2"}) {
		t.Errorf("peers %v %v", peers, err)
	}
	if err := cfg.validate(); err != nil {
		t.Error(err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		mode string
		args []string
		file string
		want string
	}{
		{"server", []string{"-authorization", "rbac"}, "", "needs -token-file"},
		{"server", []string{"-tls-cert", "c.pem"}, "", "go together"},
		{"server", []string{"-peers", "nope"}, "", "not id=host:port"},
		{"server", []string{"-leader-lease", "1s"}, "", "at least 3s"},
		{"node", []string{"-server", ""}, "", "-server is required"},
		{"node", []string{"-root-dir", "rel"}, "", "absolute"},
		{"node", nil, "bogus: 1\n", "unknown setting"},
		{"server", []string{"extra"}, "", "unexpected arguments"},
	}
	for _, tt := range tests {
		cfg := defaultConfig()
		fs := cfg.flags(tt.mode, io.Discard)
		args := tt.args
		if tt.file != "" {
			f := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(f, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			args = append(args, "-config", f)
		}
		err := parseFlags(fs, args)
		if err == nil {
			cfg.Mode = tt.mode
			err = cfg.validate()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %v: error %v, want %q", tt.mode, tt.args, err, tt.want)
		}
	}
}

func TestRunUsage(t *testing.T) {
	var out strings.Builder
	if code := Run(t.Context(), nil, &out, Options{}); code != exitUsage || !strings.Contains(out.String(), "server") {
		t.Errorf("no args: %d %s", code, out.String())
	}
	out.Reset()
	if code := Run(t.Context(), []string{"bogus"}, &out, Options{}); code != exitUsage {
		t.Errorf("bogus mode: %d", code)
	}
	out.Reset()
	if code := Run(t.Context(), []string{"node", "-h"}, &out, Options{}); code != exitOK || !strings.Contains(out.String(), "-node-name") {
		t.Errorf("node -h: %d %s", code, out.String())
	}
}
