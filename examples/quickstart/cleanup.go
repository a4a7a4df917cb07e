package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/runtime/libcontainer"
)

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// killLeftovers removes the pods a failed run left (their containers are
// killed) and unmounts whatever is still mounted below dir.
func killLeftovers(dir string) {
	ctx := context.Background()
	state := filepath.Join(dir, "data", "node", "runtime")
	if _, err := os.Stat(state); err == nil {
		if rt, err := libcontainer.New(libcontainer.Config{StateDir: state, CgroupRoot: cgroupRoot, Logger: slogDiscard()}); err == nil {
			if sbs, err := rt.ListPodSandboxes(ctx, nil); err == nil {
				for _, sb := range sbs {
					_ = rt.RemovePodSandbox(ctx, sb.ID)
				}
			}
		}
	}
	if data, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		lines := strings.Split(string(data), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			f := strings.Fields(lines[i])
			if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") && !strings.HasPrefix(f[4], filepath.Join(dir, "netns")) {
				_ = unix.Unmount(f[4], unix.MNT_DETACH)
			}
		}
	}
}

// removeCgroups removes root and everything below it in every hierarchy.
func removeCgroups(root string) {
	hiers := []string{"/sys/fs/cgroup"}
	if entries, err := os.ReadDir("/sys/fs/cgroup"); err == nil {
		for _, en := range entries {
			hiers = append(hiers, filepath.Join("/sys/fs/cgroup", en.Name()))
		}
	}
	for _, h := range hiers {
		var dirs []string
		_ = filepath.WalkDir(filepath.Join(h, root), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = os.Remove(dirs[i])
		}
	}
}
