package libcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/coxswain-io/coxswain/runtime"
)

func TestResolveUser(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n",
		"etc/group":  "root:x:0:\napp:x:1001:\nstaff:x:50:app,other\nweb:x:33:\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	i64 := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name      string
		user      string
		sec       runtime.SecurityConfig
		uid, gid  int
		groups    []int
		home      string
		wantError bool
	}{
		{"default root", "", runtime.SecurityConfig{}, 0, 0, nil, "/root", false},
		{"by name", "app", runtime.SecurityConfig{}, 1000, 1001, []int{50}, "/home/app", false},
		{"by uid", "1000", runtime.SecurityConfig{}, 1000, 1001, []int{50}, "/home/app", false},
		{"unknown uid", "4242", runtime.SecurityConfig{}, 4242, 0, nil, "/", false},
		{"name and group", "app:web", runtime.SecurityConfig{}, 1000, 33, []int{50}, "/home/app", false},
		{"uid:gid", "5:6", runtime.SecurityConfig{}, 5, 6, nil, "/", false},
		{"runAsUser wins", "app", runtime.SecurityConfig{RunAsUser: i64(0)}, 0, 0, nil, "/root", false},
		{"runAsGroup wins", "app:web", runtime.SecurityConfig{RunAsGroup: i64(7)}, 1000, 7, []int{50}, "/home/app", false},
		{"missing user", "ghost", runtime.SecurityConfig{}, 0, 0, nil, "", true},
		{"missing group", "app:ghosts", runtime.SecurityConfig{}, 0, 0, nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uid, gid, groups, home, err := resolveUser(root, tc.user, tc.sec)
			if tc.wantError {
				if !errors.Is(err, runtime.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || uid != tc.uid || gid != tc.gid || !slices.Equal(groups, tc.groups) || home != tc.home {
				t.Fatalf("= %d %d %v %q %v, want %d %d %v %q", uid, gid, groups, home, err, tc.uid, tc.gid, tc.groups, tc.home)
			}
		})
	}
}

func TestCapabilities(t *testing.T) {
	for _, tc := range []struct {
		name      string
		add, drop []string
		has, not  []string
	}{
		{"defaults", nil, nil, []string{"CAP_CHOWN", "CAP_KILL"}, []string{"CAP_SYS_ADMIN"}},
		{"drop one", nil, []string{"chown"}, []string{"CAP_KILL"}, []string{"CAP_CHOWN"}},
		{"drop all add one", []string{"NET_ADMIN"}, []string{"ALL"}, []string{"CAP_NET_ADMIN"}, []string{"CAP_KILL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps := capabilities(tc.add, tc.drop)
			for _, c := range tc.has {
				if !slices.Contains(caps, c) {
					t.Errorf("%v lacks %s", caps, c)
				}
			}
			for _, c := range tc.not {
				if slices.Contains(caps, c) {
					t.Errorf("%v has %s", caps, c)
				}
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"ok", Config{StateDir: "/var/lib/x"}, true},
		{"no state dir", Config{}, false},
		{"relative", Config{StateDir: "state"}, false},
		{"relative cgroup root", Config{StateDir: "/x", CgroupRoot: "coxswain"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.setDefaults()
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
