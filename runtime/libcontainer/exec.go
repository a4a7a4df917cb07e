package libcontainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"

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
	p := &lc.Process{
		Args: req.Cmd, Env: env, Cwd: rec.Cwd,
		UID: rec.UID, GID: rec.GID, AdditionalGroups: rec.Groups,
		Stdin: req.Stdin, Stdout: orDiscard(req.Stdout), Stderr: orDiscard(req.Stderr),
	}
	if err := c.Run(p); err != nil {
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
	return exitCode(ps), nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
