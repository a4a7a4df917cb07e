package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/volumebinding"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/local"
)

// volumeEnv is one node with a real agent (no pod network: each pod gets a
// network namespace of its own with loopback) over a memstore.
type volumeEnv struct {
	st    store.Store
	node  *node
	image string
}

func newVolumeEnv(t *testing.T) *volumeEnv {
	t.Helper()
	requireRoot(t)
	nettest.HostUnchanged(t)
	hostMountsUnchanged(t)
	e := &volumeEnv{st: memstore.New(), image: imagetest.BusyboxRef(t)}
	e.node = newNode(t, "node-v")
	e.node.ip = "127.0.0.1"
	e.node.start(t, e.st, nil)
	return e
}

// run creates the pod and waits until it runs; it returns the pod and its
// main container's ID.
func (e *volumeEnv) run(t *testing.T, p *api.Pod) (*api.Pod, string) {
	t.Helper()
	if _, err := e.st.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	got := waitPod(t, e.st, "default", p.Metadata.Name, "running", func(p *api.Pod) bool { return p.GetStatus().GetPhase() == "Running" })
	return got, containerID(t, got, "main")
}

// remove deletes the pod and waits until the agent released it.
func (e *volumeEnv) remove(t *testing.T, name string) {
	t.Helper()
	if _, err := e.st.Delete(context.Background(), api.KindPod, "default", name, store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, e.st, "default", name)
}

// checkClean fails the test if the node still holds anything of its pods.
func (e *volumeEnv) checkClean(t *testing.T) {
	t.Helper()
	if left := e.node.leftovers(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestConfigMapVolumeUpdatedInPlace(t *testing.T) {
	e := newVolumeEnv(t)
	ctx := context.Background()
	cms := store.For[*api.ConfigMap](e.st)
	if _, err := cms.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "app", Namespace: "default"},
		Data: map[string]string{"app.conf": "color=blue", "other": "x"}}); err != nil {
		t.Fatal(err)
	}
	mode := int32(0o640)
	p := busybox("cm", e.node.name, e.image, idle)
	p.Spec.Volumes = []*api.Volume{
		{Name: "conf", ConfigMap: &api.ConfigMapVolumeSource{Name: "app", DefaultMode: &mode,
			Items: []*api.KeyToPath{{Key: "app.conf", Path: "etc/app.conf"}}}},
		// Optional and missing at start: the pod runs with an empty dir.
		{Name: "late", ConfigMap: &api.ConfigMapVolumeSource{Name: "late", Optional: true}},
	}
	p.Spec.Containers[0].VolumeMounts = []*api.VolumeMount{
		{Name: "conf", MountPath: "/config", ReadOnly: true},
		{Name: "late", MountPath: "/late", ReadOnly: true},
	}
	p, id := e.run(t, p)

	if got := mustExec(t, e.node.rt, id, "cat /config/etc/app.conf; ls /config"); got != "color=blueetc\n" {
		t.Errorf("before the update: %q, want the projected item only", got)
	}
	if got := mustExec(t, e.node.rt, id, "stat -L -c %a /config/etc/app.conf; ls /late | wc -l"); got != "640\n0\n" {
		t.Errorf("mode of the item and entries of the missing optional map: %q, want 640 and 0", got)
	}
	start := time.Now()
	if _, err := cms.Mutate(ctx, "default", "app", func(cm *api.ConfigMap) error {
		cm.Data["app.conf"] = "color=green"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "new content inside the container", func() (bool, string) {
		out, code, err := execIn(ctx, e.node.rt, id, "cat /config/etc/app.conf")
		return err == nil && code == 0 && out == "color=green", fmt.Sprintf("code %d err %v: %q", code, err, out)
	})
	t.Logf("the update reached the container after %v", time.Since(start))

	// The optional map, created now, appears in its (so far empty) volume.
	if _, err := cms.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "late", Namespace: "default"},
		Data: map[string]string{"flag": "on"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "late optional configMap inside the container", func() (bool, string) {
		out, code, err := execIn(ctx, e.node.rt, id, "cat /late/flag")
		return err == nil && code == 0 && out == "on", fmt.Sprintf("code %d err %v: %q", code, err, out)
	})

	// Without a restart: same container, no restarts.
	now := waitPod(t, e.st, "default", "cm", "running", func(p *api.Pod) bool { return p.GetStatus().GetPhase() == "Running" })
	if got := containerID(t, now, "main"); got != id {
		t.Errorf("container changed from %s to %s", id, got)
	}
	for _, cs := range now.GetStatus().GetContainerStatuses() {
		if cs.GetRestartCount() != 0 {
			t.Errorf("container %s restarted %d times", cs.GetName(), cs.GetRestartCount())
		}
	}
	e.remove(t, p.Metadata.Name)
	e.checkClean(t)
}

func TestSecretVolumeOnTmpfsOnly(t *testing.T) {
	e := newVolumeEnv(t)
	ctx := context.Background()
	// A value unlikely to occur anywhere else on the node.
	secret := fmt.Sprintf("s3cret-%d-e2e", time.Now().UnixNano())
	if _, err := e.st.Create(ctx, &api.Secret{Metadata: &api.ObjectMeta{Name: "creds", Namespace: "default"},
		Data: map[string][]byte{"password": []byte(secret)}}); err != nil {
		t.Fatal(err)
	}
	p := busybox("sec", e.node.name, e.image, idle)
	p.Spec.Volumes = []*api.Volume{{Name: "creds", Secret: &api.SecretVolumeSource{SecretName: "creds"}}}
	p.Spec.Containers[0].VolumeMounts = []*api.VolumeMount{{Name: "creds", MountPath: "/etc/creds", ReadOnly: true}}
	p, id := e.run(t, p)

	if got := mustExec(t, e.node.rt, id, "cat /etc/creds/password"); got != secret {
		t.Errorf("secret inside the container: %q", got)
	}
	// Inside the container, the mount is tmpfs.
	procMounts := mustExec(t, e.node.rt, id, "cat /proc/mounts")
	fstype := ""
	for _, line := range strings.Split(procMounts, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[1] == "/etc/creds" {
			fstype = f[2]
		}
	}
	if fstype != "tmpfs" {
		t.Errorf("/etc/creds is %q inside the container, want tmpfs:\n%s", fstype, procMounts)
	}
	// On the node, every file holding the secret is on a tmpfs.
	copies := secretCopies(t, []byte(secret), e.node.rootDir, e.node.stateDir)
	if len(copies) == 0 {
		t.Fatal("found the secret nowhere on the node: the check is blind")
	}
	for path, fstype := range copies {
		if fstype != "tmpfs" {
			t.Errorf("secret written to %s on %s, not tmpfs", path, fstype)
		}
	}
	t.Logf("the secret is in %d file(s) on the node, all on tmpfs", len(copies))

	// A rotated secret reaches the container, again only through tmpfs.
	rotated := secret + "-rotated"
	if _, err := store.For[*api.Secret](e.st).Mutate(ctx, "default", "creds", func(s *api.Secret) error {
		s.Data["password"] = []byte(rotated)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "rotated secret inside the container", func() (bool, string) {
		out, code, err := execIn(ctx, e.node.rt, id, "cat /etc/creds/password")
		return err == nil && code == 0 && out == rotated, fmt.Sprintf("code %d err %v: %q", code, err, out)
	})
	for path, fstype := range secretCopies(t, []byte(rotated), e.node.rootDir, e.node.stateDir) {
		if fstype != "tmpfs" {
			t.Errorf("rotated secret written to %s on %s, not tmpfs", path, fstype)
		}
	}

	e.remove(t, p.Metadata.Name)
	e.checkClean(t)
	if left := secretCopies(t, []byte(secret), e.node.rootDir, e.node.stateDir); len(left) > 0 {
		// (The rotated value contains the first, so this covers both.)
		t.Errorf("the secret is still on the node after the pod is gone: %v", left)
	}
}

// secretCopies walks the directories (across mount points) and returns the
// regular files containing needle, with the type of the filesystem each is
// on.
func secretCopies(t *testing.T, needle []byte, dirs ...string) map[string]string {
	t.Helper()
	ms := mounts()
	fsOf := func(path string) string {
		best, typ := "", ""
		for _, m := range ms {
			if (path == m.point || strings.HasPrefix(path, strings.TrimSuffix(m.point, "/")+"/")) && len(m.point) >= len(best) {
				best, typ = m.point, m.fstype
			}
		}
		return typ
	}
	found := map[string]string{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err == nil && bytes.Contains(b, needle) {
				found[p] = fsOf(p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return found
}

// TestPersistentVolumeClaimOutlivesPod runs the whole claim life cycle:
// the binding controller provisions a local volume for a claim of a
// StorageClass, the agent mounts it, the data outlives the pod, and
// deleting the claim deletes the storage (reclaim policy Delete).
func TestPersistentVolumeClaimOutlivesPod(t *testing.T) {
	tests := []struct {
		name       string
		filesystem string // local provisioner's Filesystem
	}{
		{"directory", ""},
		{"ext4", local.FilesystemExt4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.filesystem == local.FilesystemExt4 {
				if _, err := os.Stat("/dev/loop-control"); err != nil {
					t.Skip("ext4 volumes need /dev/loop-control")
				}
			}
			e := newVolumeEnv(t)
			ctx := context.Background()
			prov, err := local.New(local.Config{BaseDir: filepath.Join(t.TempDir(), "volumes"), NodeName: e.node.name, Filesystem: tt.filesystem})
			if err != nil {
				t.Fatal(err)
			}
			// The control plane's binding controller, with the provisioner.
			plugins := volume.NewRegistry(discard)
			if err := plugins.Register(prov); err != nil {
				t.Fatal(err)
			}
			mgr, err := manager.New(manager.Options{Store: e.st, Logger: discard})
			if err != nil {
				t.Fatal(err)
			}
			if err := volumebinding.Add(mgr, volumebinding.Options{Plugins: plugins}); err != nil {
				t.Fatal(err)
			}
			runBG(t, "controllers", mgr.Start)

			pv, claim := provisionClaim(t, e.st, prov, "data", "8Mi")
			t.Cleanup(func() {
				// If the test stopped before the controller reclaimed it.
				if err := prov.Delete(context.Background(), pv); err != nil {
					t.Errorf("delete volume: %v", err)
				}
			})
			dir := pv.GetSpec().GetLocal().GetPath()

			withClaim := func(name, script string) *api.Pod {
				p := busybox(name, e.node.name, e.image, script)
				p.Spec.Volumes = []*api.Volume{{Name: "data", PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{ClaimName: claim.GetMetadata().GetName()}}}
				p.Spec.Containers[0].VolumeMounts = []*api.VolumeMount{{Name: "data", MountPath: "/data"}}
				return p
			}
			_, id := e.run(t, withClaim("writer", "echo written-by-writer > /data/f && sync && "+idle))
			eventually(t, 10*time.Second, "writer wrote", func() (bool, string) {
				out, _, err := execIn(ctx, e.node.rt, id, "cat /data/f")
				return err == nil && out == "written-by-writer\n", fmt.Sprint(out, err)
			})
			if tt.filesystem == local.FilesystemExt4 {
				// The claim's size is a hard limit.
				out, code, err := execIn(ctx, e.node.rt, id, "dd if=/dev/zero of=/data/big bs=1M count=32 2>&1; rc=$?; rm -f /data/big; exit $rc")
				if err != nil || code == 0 || !strings.Contains(out, "No space left") {
					t.Errorf("writing 32Mi to an 8Mi claim: code %d err %v: %s", code, err, out)
				}
			}
			e.remove(t, "writer")
			e.checkClean(t)

			// The data stayed in the volume, which is no longer mounted in any pod.
			if b, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(b) != "written-by-writer\n" {
				t.Fatalf("volume content after the pod is gone: %q %v", b, err)
			}
			// The reader mounts the claim read-only.
			reader := withClaim("reader", idle)
			reader.Spec.Volumes[0].PersistentVolumeClaim.ReadOnly = true
			_, id = e.run(t, reader)
			if got := mustExec(t, e.node.rt, id, "cat /data/f"); got != "written-by-writer\n" {
				t.Errorf("the new pod reads %q", got)
			}
			if out, code, err := execIn(ctx, e.node.rt, id, "echo x > /data/g"); err != nil || code == 0 {
				t.Errorf("wrote through a read-only claim: code %d err %v: %s", code, err, out)
			}
			e.remove(t, "reader")
			e.checkClean(t)

			// Deleting the claim reclaims the volume: object and storage gone.
			if _, err := e.st.Delete(ctx, api.KindPersistentVolumeClaim, "default", "data", store.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			eventually(t, 20*time.Second, "volume reclaimed", func() (bool, string) {
				_, err := store.For[*api.PersistentVolume](e.st).Get(ctx, "", pv.GetMetadata().GetName())
				_, statErr := os.Stat(dir)
				return store.IsNotFound(err) && os.IsNotExist(statErr), fmt.Sprintf("volume: %v; dir: %v", err, statErr)
			})
		})
	}
}

// provisionClaim creates a StorageClass of the local provisioner (reclaim
// policy Delete) and a claim of size in it, and waits until the binding
// controller has provisioned a volume and bound the claim to it.
func provisionClaim(t *testing.T, st store.Store, prov *local.Provisioner, name, size string) (*api.PersistentVolume, *api.PersistentVolumeClaim) {
	t.Helper()
	ctx := context.Background()
	policy := volumebinding.ReclaimDelete
	if _, err := st.Create(ctx, &api.StorageClass{Metadata: &api.ObjectMeta{Name: "local"}, Provisioner: prov.Name(), ReclaimPolicy: &policy}); err != nil {
		t.Fatal(err)
	}
	className := "local"
	if _, err := st.Create(ctx, &api.PersistentVolumeClaim{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &api.PersistentVolumeClaimSpec{AccessModes: []string{"ReadWriteOnce"}, StorageClassName: &className,
			Resources: &api.ResourceRequirements{Requests: map[string]string{"storage": size}}},
	}); err != nil {
		t.Fatal(err)
	}
	claims := store.For[*api.PersistentVolumeClaim](st)
	var claim *api.PersistentVolumeClaim
	eventually(t, 20*time.Second, "claim bound", func() (bool, string) {
		var err error
		claim, err = claims.Get(ctx, "default", name)
		return err == nil && claim.GetStatus().GetPhase() == volumebinding.ClaimBound, fmt.Sprint(claim.GetStatus(), err)
	})
	pv, err := store.For[*api.PersistentVolume](st).Get(ctx, "", claim.GetSpec().GetVolumeName())
	if err != nil {
		t.Fatal(err)
	}
	if pv.GetSpec().GetLocal().GetPath() == "" || pv.GetSpec().GetClaimRef().GetName() != name {
		t.Fatalf("provisioned volume: %v", pv)
	}
	return pv, claim
}
