package libcontainer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/image"
)

// Config configures a Runtime.
type Config struct {
	// StateDir holds sandbox and container records, libcontainer's state,
	// container root filesystems and (by default) images and logs.
	// Required.
	StateDir string
	// ImageDir is the image store's root (default StateDir/images).
	ImageDir string
	// LogDir holds container logs (default StateDir/logs).
	LogDir string
	// CgroupRoot is the cgroup every pod cgroup nests under when the
	// sandbox names no parent (default "/coxswain").
	CgroupRoot string
	// DefaultPidsLimit caps processes per container when the container sets
	// no limit (default 4096; negative: unlimited).
	DefaultPidsLimit int64
	// LogMaxBytes is the size at which RotateLogs rotates a log file
	// (default 10 MiB); LogMaxFiles is how many rotated files it keeps
	// (default 2).
	LogMaxBytes int64
	LogMaxFiles int
	// LogRotateInterval is how often Start calls RotateLogs (default 10s).
	LogRotateInterval time.Duration
	// Logger receives the runtime's logs (default slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.ImageDir == "" {
		c.ImageDir = filepath.Join(c.StateDir, "images")
	}
	if c.LogDir == "" {
		c.LogDir = filepath.Join(c.StateDir, "logs")
	}
	if c.CgroupRoot == "" {
		c.CgroupRoot = "/coxswain"
	}
	if c.DefaultPidsLimit == 0 {
		c.DefaultPidsLimit = 4096
	}
	if c.LogMaxBytes == 0 {
		c.LogMaxBytes = 10 << 20
	}
	if c.LogMaxFiles == 0 {
		c.LogMaxFiles = 2
	}
	if c.LogRotateInterval == 0 {
		c.LogRotateInterval = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports whether the configuration is usable.
func (c *Config) Validate() error {
	if c.StateDir == "" {
		return runtime.Errorf(runtime.ErrInvalid, "libcontainer: StateDir is required")
	}
	if !filepath.IsAbs(c.StateDir) {
		return runtime.Errorf(runtime.ErrInvalid, "libcontainer: StateDir %q is not absolute", c.StateDir)
	}
	if !strings.HasPrefix(c.CgroupRoot, "/") {
		return runtime.Errorf(runtime.ErrInvalid, "libcontainer: CgroupRoot %q is not absolute", c.CgroupRoot)
	}
	if c.LogMaxBytes < 0 || c.LogMaxFiles < 0 {
		return runtime.Errorf(runtime.ErrInvalid, "libcontainer: negative log rotation limits")
	}
	return nil
}

// Runtime is runtime.Runtime on libcontainer. It is safe for concurrent
// use. Several Runtime values may share a StateDir within one process (they
// coordinate); across processes only one may use a StateDir at a time.
type Runtime struct {
	cfg    Config
	images *image.Store
	sh     *shared
	log    *slog.Logger
}

var _ runtime.Runtime = (*Runtime)(nil)

// shared is the per-StateDir state of this process: locks and the
// containers it started (and so can wait for).
type shared struct {
	// mu guards locks and procs, and serialises the name checks of
	// RunPodSandbox and CreateContainer. Never held while waiting on a
	// container or doing I/O beyond small metadata files.
	mu    sync.Mutex
	locks map[string]*sync.Mutex
	procs map[string]*proc
}

// proc is a container init this process started and waits for.
type proc struct {
	done chan struct{} // closed once the exit is recorded and cleaned up
}

var sharedByDir = struct {
	sync.Mutex
	m map[string]*shared
}{m: map[string]*shared{}}

func sharedFor(dir string) *shared {
	sharedByDir.Lock()
	defer sharedByDir.Unlock()
	s, ok := sharedByDir.m[dir]
	if !ok {
		s = &shared{locks: map[string]*sync.Mutex{}, procs: map[string]*proc{}}
		sharedByDir.m[dir] = s
	}
	return s
}

// lock takes the lifecycle lock of a sandbox or container id.
func (s *shared) lock(id string) func() {
	s.mu.Lock()
	l, ok := s.locks[id]
	if !ok {
		l = &sync.Mutex{}
		s.locks[id] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (s *shared) proc(id string) *proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[id]
}

// New opens a runtime over cfg.StateDir, creating the directories it needs,
// and makes the calling process a child subreaper.
func New(cfg Config) (*Runtime, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, d := range []string{cfg.StateDir, filepath.Join(cfg.StateDir, "sandboxes"), filepath.Join(cfg.StateDir, "containers"), filepath.Join(cfg.StateDir, "libcontainer"), cfg.LogDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("libcontainer: %w", err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("libcontainer: set child subreaper: %w", err)
	}
	images, err := image.NewStore(cfg.ImageDir)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	return &Runtime{cfg: cfg, images: images, sh: sharedFor(dir), log: cfg.Logger}, nil
}

// Images returns the runtime's image store, for loading images from OCI
// layouts and tarballs.
func (r *Runtime) Images() *image.Store { return r.images }

// Start runs the runtime's background work — log rotation every
// LogRotateInterval — until ctx ends; it then returns nil. Containers keep
// running after Start returns.
func (r *Runtime) Start(ctx context.Context) error {
	t := time.NewTicker(r.cfg.LogRotateInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := r.RotateLogs(ctx); err != nil {
				r.log.Warn("log rotation failed", "err", err)
			}
		}
	}
}

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// validID reports whether id can name a sandbox or container (it is used in
// paths).
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

func (r *Runtime) lcRoot() string { return filepath.Join(r.cfg.StateDir, "libcontainer") }

func (r *Runtime) sandboxDir(id string) string {
	return filepath.Join(r.cfg.StateDir, "sandboxes", id)
}

func (r *Runtime) containerDir(id string) string {
	return filepath.Join(r.cfg.StateDir, "containers", id)
}

func (r *Runtime) logDir(id string) string { return filepath.Join(r.cfg.LogDir, id) }

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// listIDs returns the ids of the records under StateDir/<kind>.
func (r *Runtime) listIDs(kind string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(r.cfg.StateDir, kind))
	if err != nil {
		return nil, fmt.Errorf("libcontainer: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && validID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

func notFound(kind, id string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return runtime.Errorf(runtime.ErrNotFound, "%s %s", kind, id)
	}
	return fmt.Errorf("%s %s: %w", kind, id, err)
}
