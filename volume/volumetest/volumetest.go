package volumetest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
)

// Case describes one plugin and one volume to run the suite on.
type Case struct {
	// Plugin is the plugin under test.
	Plugin volume.Mounter
	// Pod owns the volume; its spec.volumes must contain Volume (Run adds it
	// if missing). A nil Pod gets a default one in namespace "default".
	Pod *api.Pod
	// Volume is the pod volume to set up.
	Volume *api.Volume
	// Check verifies the content at the path SetUp returned.
	Check func(t *testing.T, path string)
	// Change, if set, changes the volume's source (a ConfigMap update, ...);
	// Run then calls Update (the plugin must be an Updater) and CheckUpdated.
	// Change must be repeatable: Run calls Reset before every subtest.
	Change       func(t *testing.T)
	CheckUpdated func(t *testing.T, path string)
	// Reset restores the source to its state before Change.
	Reset func(t *testing.T)
	// External is true when SetUp returns a path outside the volume
	// directory (hostPath): tear-down must then leave that path in place.
	External bool
}

// Run runs the conformance suite for c.
func Run(t *testing.T, c Case) {
	t.Helper()
	if c.Pod == nil {
		c.Pod = &api.Pod{Metadata: &api.ObjectMeta{Name: "pod", Namespace: "default", Uid: "uid-1"}, Spec: &api.PodSpec{}}
	}
	found := false
	for _, v := range c.Pod.GetSpec().GetVolumes() {
		if v.GetName() == c.Volume.GetName() {
			found = true
		}
	}
	if !found {
		c.Pod = api.Clone(c.Pod)
		if c.Pod.Spec == nil {
			c.Pod.Spec = &api.PodSpec{}
		}
		c.Pod.Spec.Volumes = append(c.Pod.Spec.Volumes, c.Volume)
	}
	spec := volume.SpecFromVolume(c.Volume)
	ctx := t.Context()

	setup := func(t *testing.T) (dir, path string) {
		t.Helper()
		if c.Reset != nil {
			c.Reset(t)
		}
		podDir := t.TempDir()
		dir = volume.VolumeDir(podDir, c.Plugin.Name(), c.Volume.GetName())
		t.Cleanup(func() { cleanup(t, c.Plugin, dir, podDir) })
		path, err := c.Plugin.SetUp(ctx, volume.MountRequest{Pod: c.Pod, Spec: spec, Dir: dir})
		if err != nil {
			t.Fatalf("SetUp: %v", err)
		}
		return dir, path
	}

	t.Run("CanSupport", func(t *testing.T) {
		if !c.Plugin.CanSupport(spec) {
			t.Fatalf("plugin %q does not support volume %q", c.Plugin.Name(), c.Volume.GetName())
		}
		if c.Plugin.CanSupport(volume.SpecFromVolume(&api.Volume{Name: "nothing"})) {
			t.Fatalf("plugin %q supports a volume with no source", c.Plugin.Name())
		}
	})

	t.Run("SetUp", func(t *testing.T) {
		dir, path := setup(t)
		if !c.External && path != dir {
			t.Fatalf("SetUp returned %q, want the volume dir %q", path, dir)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("volume path: %v", err)
		}
		if c.Check != nil {
			c.Check(t, path)
		}
	})

	t.Run("SetUpIdempotent", func(t *testing.T) {
		dir, path := setup(t)
		before := mountsUnder(t, dir)
		for range 2 {
			again, err := c.Plugin.SetUp(ctx, volume.MountRequest{Pod: c.Pod, Spec: spec, Dir: dir})
			if err != nil {
				t.Fatalf("second SetUp: %v", err)
			}
			if again != path {
				t.Fatalf("second SetUp returned %q, first %q", again, path)
			}
		}
		if after := mountsUnder(t, dir); after != before {
			t.Fatalf("repeated SetUp stacked mounts: %d before, %d after", before, after)
		}
		if c.Check != nil {
			c.Check(t, path)
		}
	})

	t.Run("TearDown", func(t *testing.T) {
		dir, path := setup(t)
		if err := c.Plugin.TearDown(ctx, dir); err != nil {
			t.Fatalf("TearDown: %v", err)
		}
		assertGone(t, dir)
		if c.External {
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("TearDown removed external path %q: %v", path, err)
			}
		}
		if err := c.Plugin.TearDown(ctx, dir); err != nil {
			t.Fatalf("second TearDown: %v", err)
		}
	})

	t.Run("TearDownNeverSetUp", func(t *testing.T) {
		dir := volume.VolumeDir(t.TempDir(), c.Plugin.Name(), c.Volume.GetName())
		if err := c.Plugin.TearDown(ctx, dir); err != nil {
			t.Fatalf("TearDown of a volume never set up: %v", err)
		}
	})

	if c.Change != nil {
		t.Run("Update", func(t *testing.T) {
			u, ok := c.Plugin.(volume.Updater)
			if !ok {
				t.Fatalf("case has Change but plugin %q is not an Updater", c.Plugin.Name())
			}
			dir, path := setup(t)
			c.Change(t)
			if err := u.Update(ctx, volume.MountRequest{Pod: c.Pod, Spec: spec, Dir: dir}); err != nil {
				t.Fatalf("Update: %v", err)
			}
			if c.CheckUpdated != nil {
				c.CheckUpdated(t, path)
			}
			// SetUp after a change also shows the new content.
			if _, err := c.Plugin.SetUp(ctx, volume.MountRequest{Pod: c.Pod, Spec: spec, Dir: dir}); err != nil {
				t.Fatalf("SetUp after change: %v", err)
			}
			if c.CheckUpdated != nil {
				c.CheckUpdated(t, path)
			}
		})
	}

	t.Run("RegistryPod", func(t *testing.T) {
		if c.Reset != nil {
			c.Reset(t)
		}
		reg := volume.NewRegistry(nil)
		if err := reg.Register(c.Plugin); err != nil {
			t.Fatal(err)
		}
		if err := reg.Register(c.Plugin); !errors.Is(err, volume.ErrDuplicate) {
			t.Fatalf("second Register = %v, want ErrDuplicate", err)
		}
		pod := api.Clone(c.Pod)
		pod.Spec.Volumes = []*api.Volume{c.Volume}
		podDir := t.TempDir()
		t.Cleanup(func() {
			cleanup(t, c.Plugin, volume.VolumeDir(podDir, c.Plugin.Name(), c.Volume.GetName()), podDir)
		})
		paths, err := reg.SetUpPod(ctx, pod, podDir)
		if err != nil {
			t.Fatalf("SetUpPod: %v", err)
		}
		path, ok := paths[c.Volume.GetName()]
		if !ok {
			t.Fatalf("SetUpPod paths = %v, missing %q", paths, c.Volume.GetName())
		}
		if c.Check != nil {
			c.Check(t, path)
		}
		if err := reg.UpdatePod(ctx, pod, podDir); err != nil {
			t.Fatalf("UpdatePod: %v", err)
		}
		if err := reg.TearDownPod(ctx, podDir); err != nil {
			t.Fatalf("TearDownPod: %v", err)
		}
		assertGone(t, filepath.Join(podDir, "volumes"))
	})
}

// assertGone fails unless path does not exist and nothing is mounted at or
// under it.
func assertGone(t *testing.T, path string) {
	t.Helper()
	if n := mountsUnder(t, path); n != 0 {
		t.Fatalf("%d mounts left under %s", n, path)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s still exists after tear-down (err %v)", path, err)
	}
}

// mountsUnder counts mount points at or under path.
func mountsUnder(t *testing.T, path string) int {
	t.Helper()
	mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		return !(m.Mountpoint == path || strings.HasPrefix(m.Mountpoint, path+"/")), false
	})
	if err != nil {
		t.Fatalf("read mountinfo: %v", err)
	}
	return len(mounts)
}

// cleanup tears the volume down and, should that fail, unmounts whatever is
// left under podDir so a failing test leaks no mount.
func cleanup(t *testing.T, p volume.Mounter, dir, podDir string) {
	t.Helper()
	if err := p.TearDown(context.Background(), dir); err != nil {
		t.Errorf("cleanup TearDown: %v", err)
	}
	UnmountUnder(t, podDir)
}

// UnmountUnder unmounts every mount at or under root, deepest first. Tests
// that mount call it in t.Cleanup so they leak nothing even when they fail.
func UnmountUnder(t testing.TB, root string) {
	t.Helper()
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(root))
	if err != nil {
		t.Errorf("read mountinfo: %v", err)
		return
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := (volume.Linux{}).Unmount(mounts[i].Mountpoint); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// RequireRoot skips t with a clear message unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: this test makes mounts (tmpfs, bind mounts)")
	}
}
