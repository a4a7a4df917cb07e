package libcontainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/coxswain-io/coxswain/runtime"
)

// logPollInterval is how often a following reader checks for new output.
const logPollInterval = 20 * time.Millisecond

func streamsOf(s runtime.LogStream) []string {
	switch s {
	case runtime.LogStdout:
		return []string{"stdout"}
	case runtime.LogStderr:
		return []string{"stderr"}
	}
	return []string{"stdout", "stderr"}
}

// Logs implements runtime.Streamer. Without Follow it copies the rotated
// files (oldest first) and then the current one; with Follow it then keeps
// copying new output until the container has exited or ctx ends.
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions, w io.Writer) error {
	rec, err := r.readContainer(id)
	if err != nil {
		return err
	}
	type tail struct {
		path string
		off  int64
	}
	var tails []*tail
	for _, s := range streamsOf(opts.Stream) {
		base := filepath.Join(rec.Status.LogPath, s+".log")
		for i := r.cfg.LogMaxFiles; i >= 1; i-- {
			if _, err := copyFrom(fmt.Sprintf("%s.%d", base, i), 0, w); err != nil {
				return err
			}
		}
		tails = append(tails, &tail{path: base})
	}
	drain := func() (bool, error) {
		progressed := false
		for _, t := range tails {
			if fi, err := os.Stat(t.path); err == nil && fi.Size() < t.off {
				t.off = 0 // rotated by copy-and-truncate
			}
			n, err := copyFrom(t.path, t.off, w)
			if err != nil {
				return false, err
			}
			t.off += n
			progressed = progressed || n > 0
		}
		return progressed, nil
	}
	if _, err := drain(); err != nil || !opts.Follow {
		return err
	}
	tick := time.NewTicker(logPollInterval)
	defer tick.Stop()
	for {
		// Read the state before draining, so output written just before the
		// exit is copied by this drain.
		cur, err := r.current(id)
		if err != nil {
			return err
		}
		progressed, err := drain()
		if err != nil {
			return err
		}
		if cur.Status.State == runtime.ContainerExited && !progressed {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// copyFrom copies path from offset off to w; a missing file copies nothing.
func copyFrom(path string, off int64, w io.Writer) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.Copy(w, f)
}

// RotateLogs rotates every container log file larger than LogMaxBytes:
// file.N-1 becomes file.N (the oldest beyond LogMaxFiles is dropped), the
// file is copied to file.1 and truncated. The container keeps its file
// descriptor (opened in append mode), so it writes on at the new end.
func (r *Runtime) RotateLogs(ctx context.Context) error {
	recs, err := r.listContainerRecords()
	if err != nil {
		return err
	}
	var errs []error
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, s := range []string{"stdout", "stderr"} {
			if err := r.rotate(filepath.Join(rec.Status.LogPath, s+".log")); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (r *Runtime) rotate(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Size() <= r.cfg.LogMaxBytes {
		return nil
	}
	if r.cfg.LogMaxFiles == 0 {
		return os.Truncate(path, 0)
	}
	for i := r.cfg.LogMaxFiles - 1; i >= 1; i-- {
		if err := os.Rename(fmt.Sprintf("%s.%d", path, i), fmt.Sprintf("%s.%d", path, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(path+".1", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rotate %s: %w", path, err)
	}
	return os.Truncate(path, 0)
}
