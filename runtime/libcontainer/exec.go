package libcontainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	lc "github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/runtime"
)

// Exec implements runtime.Streamer: the command joins the container's
// namespaces and cgroup with the container's user, capabilities and
// environment (plus req.Env).
func (r *Runtime) Exec(ctx context.Context, id string, req runtime.ExecRequest) (int, error) {
	if len(req.Cmd) == 0 {
		return 0, runtime.Errorf(runtime.ErrInvalid, "exec: empty command")
	}
	if req.TTY {
		return 0, runtime.Errorf(runtime.ErrUnsupported, "exec with a TTY")
	}
	rec, err := r.current(id)
	if err != nil {
		return 0, err
	}
	if rec.Status.State != runtime.ContainerRunning {
		return 0, runtime.Errorf(runtime.ErrFailedPrecondition, "container %s is %s", id, rec.Status.State)
	}
	c, err := lc.Load(r.lcRoot(), id)
	if errors.Is(err, lc.ErrNotExist) {
		return 0, runtime.Errorf(runtime.ErrFailedPrecondition, "container %s is not running", id)
	}
	if err != nil {
		return 0, fmt.Errorf("container %s: load: %w", id, err)
	}
	env := rec.Env
	for _, e := range req.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	// Output goes through pipes this function drains itself, so a child
	// the command leaves behind (holding the pipes open) cannot hold Exec
	// past the command's exit for more than outputLinger.
	stdout, err := newOutput(orDiscard(req.Stdout))
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", id, err)
	}
	defer stdout.close()
	stderr, err := newOutput(orDiscard(req.Stderr))
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", id, err)
	}
	defer stderr.close()
	p := &lc.Process{
		Args: req.Cmd, Env: env, Cwd: rec.Cwd,
		UID: rec.UID, GID: rec.GID, AdditionalGroups: rec.Groups,
		Stdin: req.Stdin, Stdout: stdout.w, Stderr: stderr.w,
	}
	err = c.Run(p)
	stdout.started()
	stderr.started()
	if err != nil {
		if errors.Is(err, lc.ErrNotRunning) {
			return 0, runtime.Errorf(runtime.ErrFailedPrecondition, "container %s is not running", id)
		}
		return 0, fmt.Errorf("exec in %s: %w", id, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = p.Signal(unix.SIGKILL) })
	defer stop()
	ps, err := p.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 0, fmt.Errorf("exec in %s: %w", id, err)
	}
	stdout.drain()
	stderr.drain()
	return exitCode(ps), nil
}

// outputLinger is how long Exec keeps copying output after the command
// exited, while processes it started still hold the output open.
const outputLinger = 200 * time.Millisecond

// output is a pipe whose write end the exec'd process gets and whose read
// end is copied to the caller's writer.
type output struct {
	r, w *os.File
	done chan struct{}
}

func newOutput(dst io.Writer) (*output, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	o := &output{r: r, w: w, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		_, _ = io.Copy(dst, r)
	}()
	return o, nil
}

// started closes this process's copy of the write end once the child has
// its own, so the reader sees EOF when the command's side closes.
func (o *output) started() { _ = o.w.Close() }

// drain waits for EOF, at most outputLinger.
func (o *output) drain() {
	t := time.NewTimer(outputLinger)
	defer t.Stop()
	select {
	case <-o.done:
	case <-t.C:
	}
}

func (o *output) close() {
	_ = o.w.Close()
	_ = o.r.Close()
	<-o.done
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
