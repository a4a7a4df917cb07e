package network_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/nettest"
	"golang.org/x/sys/unix"
)

func TestNetNS(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.HostUnchanged(t)
	dir := filepath.Join(t.TempDir(), "netns")
	path, err := network.NewNetNS(dir, "n1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = network.DeleteNetNS(path) })
	if _, err := network.NewNetNS(dir, "n1"); err == nil {
		t.Error("a second namespace at the same path was created")
	}

	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil || st.Type != unix.NSFS_MAGIC {
		t.Fatalf("%s is not a namespace mount (type %x, %v)", path, st.Type, err)
	}
	self, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var inside string
	err = network.Do(path, func() error {
		var err error
		inside, err = os.Readlink("/proc/thread-self/ns/net")
		return err
	})
	if err != nil || inside == self {
		t.Fatalf("Do did not enter the namespace: %q vs %q, %v", inside, self, err)
	}
	if leader, _ := os.Readlink("/proc/self/ns/net"); leader != self {
		t.Errorf("the main thread is in another namespace: %s", leader)
	}
	if after, _ := os.Readlink("/proc/thread-self/ns/net"); after != self {
		t.Fatalf("still in another namespace after Do: %s", after)
	}
	out := nettest.MustRun(t, path, "ip", "-o", "link", "show")
	if !strings.Contains(out, "lo:") || !strings.Contains(out, "UP") || strings.Count(out, "\n") != 1 {
		t.Fatalf("new namespace links: %s", out)
	}

	if err := network.DeleteNetNS(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("namespace file left: %v", err)
	}
	if err := network.DeleteNetNS(path); err != nil {
		t.Fatalf("deleting a deleted namespace: %v", err)
	}
}
