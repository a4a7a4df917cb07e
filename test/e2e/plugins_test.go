package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/volume/flex"
	"github.com/coxswain-io/coxswain/volume/plugins"
)

// flexDriver is an out-of-process volume driver: mount puts a small tmpfs
// holding the volume's "greeting" option at the mount dir.
const flexDriver = `#!/bin/sh
ok() { echo '{"status":"Success"}'; }
case "$1" in
init) echo '{"status":"Success","capabilities":{"attach":false}}' ;;
mount)
	dir="$2"
	mkdir -p "$dir"
	if ! mountpoint -q "$dir"; then
		mount -t tmpfs -o size=1m e2e-flex "$dir" || { echo '{"status":"Failure","message":"mount failed"}'; exit 1; }
	fi
	echo "$3" | sed -n 's/.*"greeting":"\([^"]*\)".*/\1/p' > "$dir/greeting"
	ok ;;
unmount)
	if mountpoint -q "$2"; then umount "$2"; fi
	ok ;;
*) echo '{"status":"Not supported"}' ;;
esac
`

// TestBuiltinVolumePlugins runs one pod of two containers with every other
// plugin (emptyDir on disk and in memory, hostPath, downwardAPI, projected
// and a flex driver) on the real agent and runtime, checks what each
// container sees, and that deletion removes the pod's volumes but keeps the
// host path's data.
func TestBuiltinVolumePlugins(t *testing.T) {
	requireRoot(t)
	nettest.HostUnchanged(t)
	hostMountsUnchanged(t)
	ctx := context.Background()
	st := memstore.New()
	image := imagetest.BusyboxRef(t)

	driver := filepath.Join(t.TempDir(), "e2e-flex")
	if err := os.WriteFile(driver, []byte(flexDriver), 0o755); err != nil {
		t.Fatal(err)
	}
	reg, err := plugins.NewRegistry(ctx, plugins.Config{Objects: st, Log: discard,
		FlexDrivers: []flex.Config{{Driver: "example.com/e2e", Path: driver}}})
	if err != nil {
		t.Fatal(err)
	}
	n := newNode(t, "node-p")
	n.ip = "127.0.0.1"
	n.start(t, st, func(c *agent.Config) { c.Volumes = reg })

	if _, err := st.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "cfg", Namespace: "default"},
		Data: map[string]string{"mode": "fast"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, &api.Secret{Metadata: &api.ObjectMeta{Name: "tok", Namespace: "default"},
		Data: map[string][]byte{"token": []byte("t0ken")}}); err != nil {
		t.Fatal(err)
	}
	hostDir := filepath.Join(t.TempDir(), "host", "made-by-agent")

	p := busybox("plugins", n.name, image, idle)
	p.Metadata.Labels["tier"] = "gold"
	main := p.Spec.Containers[0]
	main.Resources = &api.ResourceRequirements{Limits: map[string]string{"memory": "64Mi"}}
	side := &api.Container{Name: "side", Image: image, ImagePullPolicy: "IfNotPresent", Command: []string{"sh", "-c", idle}}
	p.Spec.Containers = append(p.Spec.Containers, side)
	fieldFile := func(path, field string) *api.DownwardAPIVolumeFile {
		return &api.DownwardAPIVolumeFile{Path: path, FieldRef: &api.ObjectFieldSelector{FieldPath: field}}
	}
	p.Spec.Volumes = []*api.Volume{
		{Name: "shared", EmptyDir: &api.EmptyDirVolumeSource{}},
		{Name: "ram", EmptyDir: &api.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: "1Mi"}},
		{Name: "host", HostPath: &api.HostPathVolumeSource{Path: hostDir, Type: "DirectoryOrCreate"}},
		{Name: "info", DownwardApi: &api.DownwardAPIVolumeSource{Items: []*api.DownwardAPIVolumeFile{
			fieldFile("name", "metadata.name"),
			fieldFile("labels", "metadata.labels"),
			{Path: "mem", ResourceFieldRef: &api.ResourceFieldSelector{ContainerName: "main", Resource: "limits.memory", Divisor: "1Mi"}},
		}}},
		{Name: "all", Projected: &api.ProjectedVolumeSource{Sources: []*api.VolumeProjection{
			{ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg"}},
			{Secret: &api.SecretVolumeSource{SecretName: "tok"}},
			{DownwardApi: &api.DownwardAPIVolumeSource{Items: []*api.DownwardAPIVolumeFile{fieldFile("ns", "metadata.namespace")}}},
		}}},
		{Name: "vendor", FlexVolume: &api.FlexVolumeSource{Driver: "example.com/e2e", Options: map[string]string{"greeting": "hello-from-flex"}}},
	}
	main.VolumeMounts = []*api.VolumeMount{
		{Name: "shared", MountPath: "/shared"}, {Name: "ram", MountPath: "/ram"}, {Name: "host", MountPath: "/host"},
		{Name: "info", MountPath: "/info"}, {Name: "all", MountPath: "/all"}, {Name: "vendor", MountPath: "/vendor"},
	}
	side.VolumeMounts = []*api.VolumeMount{{Name: "shared", MountPath: "/from-main", ReadOnly: true}}
	if _, err := st.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPod(t, st, "default", "plugins", "running", func(p *api.Pod) bool { return p.GetStatus().GetPhase() == "Running" })
	mainID, sideID := containerID(t, p, "main"), containerID(t, p, "side")
	fsType := func(id, dir string) string {
		for _, line := range strings.Split(mustExec(t, n.rt, id, "cat /proc/mounts"), "\n") {
			if f := strings.Fields(line); len(f) > 3 && f[1] == dir {
				return f[2]
			}
		}
		return ""
	}

	t.Run("EmptyDirSharedByContainers", func(t *testing.T) {
		mustExec(t, n.rt, mainID, "echo from-main > /shared/note")
		if got := mustExec(t, n.rt, sideID, "cat /from-main/note"); got != "from-main\n" {
			t.Errorf("side reads %q", got)
		}
		if out, code, _ := execIn(ctx, n.rt, sideID, "echo x > /from-main/other"); code == 0 {
			t.Errorf("side wrote to its read-only mount: %s", out)
		}
	})
	t.Run("EmptyDirMemoryIsSizedTmpfs", func(t *testing.T) {
		if got := fsType(mainID, "/ram"); got != "tmpfs" {
			t.Errorf("/ram is %q, want tmpfs", got)
		}
		out, code, err := execIn(ctx, n.rt, mainID, "dd if=/dev/zero of=/ram/big bs=1M count=4 2>&1")
		if err != nil || code == 0 || !strings.Contains(out, "No space left") {
			t.Errorf("writing 4Mi to a 1Mi emptyDir: code %d err %v: %s", code, err, out)
		}
	})
	t.Run("HostPathDirectoryOrCreate", func(t *testing.T) {
		mustExec(t, n.rt, mainID, "echo on-the-node > /host/f")
		if b, err := os.ReadFile(filepath.Join(hostDir, "f")); err != nil || string(b) != "on-the-node\n" {
			t.Errorf("host file: %q %v", b, err)
		}
	})
	t.Run("DownwardAPI", func(t *testing.T) {
		got := mustExec(t, n.rt, mainID, "cat /info/name; echo; cat /info/mem; echo; cat /info/labels")
		for _, want := range []string{"plugins\n", "64\n", `tier="gold"`, `pod="plugins"`} {
			if !strings.Contains(got, want) {
				t.Errorf("downward API files lack %q:\n%s", want, got)
			}
		}
		// A label change reaches the file without a restart.
		if _, err := store.For[*api.Pod](st).Mutate(ctx, "default", "plugins", func(p *api.Pod) error {
			p.Metadata.Labels["tier"] = "platinum"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 15*time.Second, "label update in /info/labels", func() (bool, string) {
			out, _, err := execIn(ctx, n.rt, mainID, "cat /info/labels")
			return err == nil && strings.Contains(out, `tier="platinum"`), fmt.Sprint(out, err)
		})
	})
	t.Run("Projected", func(t *testing.T) {
		if got := mustExec(t, n.rt, mainID, "cat /all/mode /all/token /all/ns"); got != "fastt0kendefault" {
			t.Errorf("projected files: %q", got)
		}
		// With a secret among its sources, the projection is on tmpfs.
		if got := fsType(mainID, "/all"); got != "tmpfs" {
			t.Errorf("/all is %q, want tmpfs (it holds a secret)", got)
		}
	})
	t.Run("FlexDriver", func(t *testing.T) {
		if got := mustExec(t, n.rt, mainID, "cat /vendor/greeting"); got != "hello-from-flex\n" {
			t.Errorf("flex volume: %q", got)
		}
		if got := fsType(mainID, "/vendor"); got != "tmpfs" {
			t.Errorf("/vendor is %q, want the driver's tmpfs", got)
		}
	})

	if _, err := st.Delete(ctx, api.KindPod, "default", "plugins", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, st, "default", "plugins")
	if left := n.leftovers(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	// The node's own directory outlives the pod.
	if b, err := os.ReadFile(filepath.Join(hostDir, "f")); err != nil || string(b) != "on-the-node\n" {
		t.Errorf("host path data after the pod: %q %v", b, err)
	}
}
