package atomicwriter_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coxswain-io/coxswain/volume/atomicwriter"
)

func TestValidatePath(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{"a", true},
		{"a/b.txt", true},
		{"..a", false},
		{"a/../b", false},
		{"/etc/passwd", false},
		{"", false},
		{"a//b", false},
		{"./a", false},
		{"..data", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := atomicwriter.ValidatePath(tt.path)
			if tt.ok && err != nil {
				t.Fatalf("ValidatePath(%q) = %v, want nil", tt.path, err)
			}
			if !tt.ok && !errors.Is(err, atomicwriter.ErrInvalidPath) {
				t.Fatalf("ValidatePath(%q) = %v, want ErrInvalidPath", tt.path, err)
			}
		})
	}
}

func readVisible(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if strings.HasPrefix(rel, "..") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := os.Stat(p) // follows the symlink
		if err != nil {
			return err
		}
		if info.IsDir() {
			sub := readVisible(t, p+"/")
			for k, v := range sub {
				out[rel+"/"+k] = v
			}
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = fmt.Sprintf("%s|%o", data, info.Mode().Perm())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteUpdatesAndRemoves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	steps := []struct {
		name    string
		payload map[string]atomicwriter.File
		changed bool
		want    map[string]string
	}{
		{
			name: "first",
			payload: map[string]atomicwriter.File{
				"a":       {Data: []byte("1"), Mode: 0o644},
				"sub/b":   {Data: []byte("2"), Mode: 0o600},
				"sub/c/d": {Data: []byte("3"), Mode: 0o400},
			},
			changed: true,
			want:    map[string]string{"a": "1|644", "sub/b": "2|600", "sub/c/d": "3|400"},
		},
		{
			name: "same again",
			payload: map[string]atomicwriter.File{
				"a":       {Data: []byte("1"), Mode: 0o644},
				"sub/b":   {Data: []byte("2"), Mode: 0o600},
				"sub/c/d": {Data: []byte("3"), Mode: 0o400},
			},
			changed: false,
			want:    map[string]string{"a": "1|644", "sub/b": "2|600", "sub/c/d": "3|400"},
		},
		{
			name: "mode change only",
			payload: map[string]atomicwriter.File{
				"a":       {Data: []byte("1"), Mode: 0o640},
				"sub/b":   {Data: []byte("2"), Mode: 0o600},
				"sub/c/d": {Data: []byte("3"), Mode: 0o400},
			},
			changed: true,
			want:    map[string]string{"a": "1|640", "sub/b": "2|600", "sub/c/d": "3|400"},
		},
		{
			name:    "key removed and added",
			payload: map[string]atomicwriter.File{"a": {Data: []byte("new"), Mode: 0o644}, "e": {Data: nil, Mode: 0o644}},
			changed: true,
			want:    map[string]string{"a": "new|644", "e": "|644"},
		},
		{
			name:    "empty",
			payload: map[string]atomicwriter.File{},
			changed: true,
			want:    map[string]string{},
		},
	}
	for _, st := range steps {
		changed, err := atomicwriter.Write(dir, st.payload)
		if err != nil {
			t.Fatalf("%s: Write: %v", st.name, err)
		}
		if changed != st.changed {
			t.Errorf("%s: changed = %v, want %v", st.name, changed, st.changed)
		}
		got := readVisible(t, dir)
		if fmt.Sprint(got) != fmt.Sprint(st.want) {
			t.Errorf("%s: visible files = %v, want %v", st.name, got, st.want)
		}
		// At most the current and the previous timestamped sets remain.
		entries, _ := os.ReadDir(dir)
		sets := 0
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "..") && e.Name() != atomicwriter.DataDir {
				sets++
			}
		}
		if sets < 1 || sets > 2 {
			t.Errorf("%s: %d timestamped sets, want 1 or 2", st.name, sets)
		}
	}
}

func TestWriteRejectsBadPayload(t *testing.T) {
	tests := map[string]map[string]atomicwriter.File{
		"escape":            {"../x": {Data: []byte("x"), Mode: 0o644}},
		"file and dir":      {"a": {Mode: 0o644}, "a/b": {Mode: 0o644}},
		"reserved element":  {"..data/x": {Mode: 0o644}},
		"absolute":          {"/tmp/x": {Mode: 0o644}},
		"trailing slash":    {"a/": {Mode: 0o644}},
		"dot element":       {"a/./b": {Mode: 0o644}},
		"double dot middle": {"a/../../b": {Mode: 0o644}},
	}
	for name, payload := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := atomicwriter.Write(dir, payload); !errors.Is(err, atomicwriter.ErrInvalidPath) {
				t.Fatalf("Write = %v, want ErrInvalidPath", err)
			}
		})
	}
}

// TestReadersNeverSeeAMixedSet swaps between versions while readers check
// that two files always belong to the same version.
func TestReadersNeverSeeAMixedSet(t *testing.T) {
	dir := t.TempDir()
	payload := func(v int) map[string]atomicwriter.File {
		s := []byte(fmt.Sprint(v))
		return map[string]atomicwriter.File{"x": {Data: s, Mode: 0o644}, "y": {Data: s, Mode: 0o644}}
	}
	if _, err := atomicwriter.Write(dir, payload(0)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	reads := 0
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				// Resolve ..data once, as a reader opening both files through
				// one path resolution of the set would.
				target, err := os.Readlink(filepath.Join(dir, atomicwriter.DataDir))
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					return
				}
				x, errx := os.ReadFile(filepath.Join(dir, target, "x"))
				y, erry := os.ReadFile(filepath.Join(dir, target, "y"))
				mu.Lock()
				reads++
				// The old set may be deleted under a slow reader: that is a
				// missing file, never a mixed one.
				if errx == nil && erry == nil && string(x) != string(y) {
					failures = append(failures, fmt.Sprintf("x=%s y=%s", x, y))
				}
				mu.Unlock()
				// Through the visible symlinks, the files exist; only a
				// reader stalled across two whole updates (possible on a
				// loaded machine) may find its resolved set removed.
				if _, err := os.ReadFile(filepath.Join(dir, "x")); err != nil && !errors.Is(err, fs.ErrNotExist) {
					mu.Lock()
					failures = append(failures, "visible x: "+err.Error())
					mu.Unlock()
				}
			}
		})
	}
	for v := 1; v <= 200; v++ {
		if _, err := atomicwriter.Write(dir, payload(v)); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d bad reads of %d, first: %s", len(failures), reads, failures[0])
	}
	got, err := atomicwriter.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(got["x"].Data) != "200" || string(got["y"].Data) != "200" {
		t.Fatalf("final set = %v", got)
	}
}

func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "projected")
	defer os.RemoveAll(dir)
	_, _ = atomicwriter.Write(dir, map[string]atomicwriter.File{"greeting": {Data: []byte("hello"), Mode: 0o644}})
	changed, _ := atomicwriter.Write(dir, map[string]atomicwriter.File{"greeting": {Data: []byte("hi"), Mode: 0o644}})
	data, _ := os.ReadFile(filepath.Join(dir, "greeting"))
	fmt.Println(changed, string(data))
	// Output: true hi
}

// TestConcurrentWriters has several goroutines write different sets to one
// directory; every write succeeds and the result is one complete set.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8*20)
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				v := []byte(fmt.Sprint(w, "-", i))
				if _, err := atomicwriter.Write(dir, map[string]atomicwriter.File{"a": {Data: v, Mode: 0o644}, "b": {Data: v, Mode: 0o644}}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := atomicwriter.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got["a"].Data) != string(got["b"].Data) {
		t.Fatalf("final set = %v", got)
	}
}

func TestWriteKeepsOnlyCurrentAndPreviousSet(t *testing.T) {
	dir := t.TempDir()
	for v := 1; v <= 5; v++ {
		if _, err := atomicwriter.Write(dir, map[string]atomicwriter.File{"x": {Data: []byte(fmt.Sprint(v)), Mode: 0o644}}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var sets []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "..") {
			sets = append(sets, e.Name())
		}
	}
	if len(sets) != 2 {
		t.Fatalf("set directories = %v, want the current and the previous one", sets)
	}
	cur, err := os.Readlink(filepath.Join(dir, atomicwriter.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	if sets[0] != cur && sets[1] != cur {
		t.Fatalf("current set %s not among %v", cur, sets)
	}
}
