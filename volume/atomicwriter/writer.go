package atomicwriter

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DataDir is the name of the symlink that points at the current set.
const DataDir = "..data"

const dataTmp = "..data_tmp"

// ErrInvalidPath is returned when a payload path is absolute, empty, escapes
// the directory or has an element starting with "..".
var ErrInvalidPath = errors.New("invalid projected path")

// File is one projected file.
type File struct {
	Data []byte
	// Mode is the file's permission bits (e.g. 0o644).
	Mode fs.FileMode
}

// ValidatePath checks that p is a relative path inside the directory with no
// element starting with "..".
func ValidatePath(p string) error {
	if p == "" {
		return fmt.Errorf("%q: empty: %w", p, ErrInvalidPath)
	}
	if path.IsAbs(p) {
		return fmt.Errorf("%q: absolute: %w", p, ErrInvalidPath)
	}
	if len(p) > 4096 {
		return fmt.Errorf("%q: too long: %w", p, ErrInvalidPath)
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || strings.HasPrefix(el, "..") {
			return fmt.Errorf("%q: element %q not allowed: %w", p, el, ErrInvalidPath)
		}
	}
	return nil
}

// locks serialize writers of the same directory within this process
// (striped by a hash of the path, so the table never grows).
var locks [64]sync.Mutex

func lockFor(dir string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(filepath.Clean(dir)))
	return &locks[h.Sum32()%uint32(len(locks))]
}

// Write projects payload (keyed by slash-separated relative path) into dir,
// creating dir if needed. It reports whether anything changed: writing the
// same payload again is a no-op that returns false. Concurrent Writes to
// the same dir from one process are serialized; readers never block.
func Write(dir string, payload map[string]File) (changed bool, err error) {
	top := map[string]bool{}
	for p := range payload {
		if err := ValidatePath(p); err != nil {
			return false, err
		}
		top[strings.SplitN(p, "/", 2)[0]] = true
	}
	// A path that is both a file and a directory of another path.
	for p := range payload {
		for q := range payload {
			if strings.HasPrefix(q, p+"/") {
				return false, fmt.Errorf("%q is a file and a directory (%q): %w", p, q, ErrInvalidPath)
			}
		}
	}
	mu := lockFor(dir)
	mu.Lock()
	defer mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("atomic write: %w", err)
	}

	old, err := os.Readlink(filepath.Join(dir, DataDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("atomic write: %w", err)
	}
	if old != "" {
		same, err := equal(filepath.Join(dir, old), payload)
		if err != nil {
			return false, err
		}
		if same {
			return false, linkTop(dir, top)
		}
	}

	ts, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return false, fmt.Errorf("atomic write: %w", err)
	}
	if err := writeAll(ts, payload); err != nil {
		_ = os.RemoveAll(ts)
		return false, err
	}
	tmp := filepath.Join(dir, dataTmp)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		_ = os.RemoveAll(ts)
		return false, fmt.Errorf("atomic write: %w", err)
	}
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		_ = os.RemoveAll(ts)
		return false, fmt.Errorf("atomic write: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, DataDir)); err != nil {
		_ = os.Remove(tmp)
		_ = os.RemoveAll(ts)
		return false, fmt.Errorf("atomic write: swap %s: %w", DataDir, err)
	}
	if err := linkTop(dir, top); err != nil {
		return true, err
	}
	// Keep the set just replaced (a reader that resolved ..data a moment ago
	// may still be opening files in it) and remove every older one.
	if err := removeSetsExcept(dir, filepath.Base(ts), old); err != nil {
		return true, err
	}
	return true, nil
}

// removeSetsExcept removes the timestamped set directories of dir other
// than keep1 and keep2.
func removeSetsExcept(dir, keep1, keep2 string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("atomic write: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() || !strings.HasPrefix(n, "..") || n == keep1 || n == keep2 {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("atomic write: remove old set %s: %w", n, err)
		}
	}
	return nil
}

// writeAll writes payload under root with explicit modes (not subject to
// the umask).
func writeAll(root string, payload map[string]File) error {
	if err := os.Chmod(root, 0o755); err != nil {
		return fmt.Errorf("atomic write: %w", err)
	}
	for p, f := range payload {
		name := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return fmt.Errorf("atomic write %q: %w", p, err)
		}
		if err := os.WriteFile(name, f.Data, f.Mode.Perm()); err != nil {
			return fmt.Errorf("atomic write %q: %w", p, err)
		}
		if err := os.Chmod(name, f.Mode.Perm()); err != nil {
			return fmt.Errorf("atomic write %q: %w", p, err)
		}
	}
	return nil
}

// linkTop makes dir/<name> -> ..data/<name> for every top-level name and
// removes user-visible symlinks that are no longer in the set.
func linkTop(dir string, top map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("atomic write: %w", err)
	}
	have := map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "..") {
			continue
		}
		if top[n] {
			have[n] = true
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return fmt.Errorf("atomic write: remove %q: %w", n, err)
			}
		}
	}
	for n := range top {
		if have[n] {
			continue
		}
		if err := os.Symlink(filepath.Join(DataDir, n), filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("atomic write: link %q: %w", n, err)
		}
	}
	return nil
}

// equal reports whether the set in root is exactly payload (paths, data,
// modes).
func equal(root string, payload map[string]File) (bool, error) {
	seen := 0
	same := true
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		f, ok := payload[filepath.ToSlash(rel)]
		if !ok || !d.Type().IsRegular() {
			same = false
			return fs.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm() != f.Mode.Perm() {
			same = false
			return fs.SkipAll
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(data, f.Data) {
			same = false
			return fs.SkipAll
		}
		seen++
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("atomic write: compare: %w", err)
	}
	return same && seen == len(payload), nil
}

// Read returns the files currently projected in dir (through ..data), keyed
// by slash-separated path. A directory never written returns an empty map.
func Read(dir string) (map[string]File, error) {
	out := map[string]File{}
	root := filepath.Join(dir, DataDir)
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	target, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("atomic read: %w", err)
	}
	err = filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(target, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = File{Data: data, Mode: info.Mode().Perm()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("atomic read: %w", err)
	}
	return out, nil
}
