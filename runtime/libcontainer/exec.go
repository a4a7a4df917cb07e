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
	if req.TTY {
		if !envHas(env, "TERM") {
			env = append(env, "TERM=xterm")
		}
		return r.execTTY(ctx, id, c, rec, env, req)
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

// execTTY runs req on a new terminal: libcontainer's init allocates the
// pty inside the container and sends its master over a socket pair.
func (r *Runtime) execTTY(ctx context.Context, id string, c *lc.Container, rec *containerRecord, env []string, req runtime.ExecRequest) (int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: console socket: %w", id, err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "console-parent"), os.NewFile(uintptr(fds[1]), "console-child")
	defer parent.Close()
	p := &lc.Process{
		Args: req.Cmd, Env: env, Cwd: rec.Cwd,
		UID: rec.UID, GID: rec.GID, AdditionalGroups: rec.Groups,
		ConsoleSocket: child,
		ConsoleWidth:  req.TerminalSize.Width, ConsoleHeight: req.TerminalSize.Height,
	}
	err = c.Run(p)
	child.Close()
	if err != nil {
		if errors.Is(err, lc.ErrNotRunning) {
			return 0, runtime.Errorf(runtime.ErrFailedPrecondition, "container %s is not running", id)
		}
		return 0, fmt.Errorf("exec in %s: %w", id, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = p.Signal(unix.SIGKILL) })
	defer stop()
	master, err := recvFile(parent)
	if err != nil {
		_ = p.Signal(unix.SIGKILL)
		_, _ = p.Wait()
		return 0, fmt.Errorf("exec in %s: receive terminal: %w", id, err)
	}
	defer master.Close()
	if req.Stdin != nil {
		go func() { _, _ = io.Copy(master, req.Stdin) }()
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		// Reads end with EIO once the command and its children closed the
		// terminal.
		_, _ = io.Copy(orDiscard(req.Stdout), master)
	}()
	ps, err := p.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 0, fmt.Errorf("exec in %s: %w", id, err)
	}
	t := time.NewTimer(outputLinger)
	defer t.Stop()
	select {
	case <-copied:
	case <-t.C:
	}
	return exitCode(ps), nil
}

// recvFile receives one file descriptor sent with SCM_RIGHTS on socket.
func recvFile(socket *os.File) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	conn, err := socket.SyscallConn()
	if err != nil {
		return nil, err
	}
	var n, oobn int
	var rerr error
	if err := conn.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), name, oob, unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN
	}); err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, rerr
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("got %d control messages, want 1", len(msgs))
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil {
		return nil, err
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("got %d file descriptors, want 1", len(fds))
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}
