package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// execProtocol is the Upgrade token of coxd's exec stream.
const execProtocol = "coxswain-exec/1"

// Frame types coxd sends on an exec stream.
const (
	frameStdout = 1
	frameStderr = 2
	frameExit   = 3
	frameError  = 4
)

func execCommand() command {
	return command{name: "exec", summary: "run a command in a container (-i stdin, -t terminal)", run: runExec}
}

// runExec runs a command in a pod's container through its node's API and
// exits with the command's exit code.
func runExec(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c connFlags
	c.register(fs, false)
	container := fs.String("c", "", "container (default the pod's first)")
	stdin := fs.Bool("i", false, "pass standard input to the command")
	tty := fs.Bool("t", false, "run the command on a terminal")
	it := fs.Bool("it", false, "same as -i -t")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: coxctl exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARG...]")
		fs.PrintDefaults()
	}
	pos, code, stop := parseVerbFlags(fs, args)
	if stop {
		return code
	}
	if *it {
		*stdin, *tty = true, true
	}
	if len(pos) < 2 {
		fs.Usage()
		return exitUsage
	}
	s, err := connect(&c)
	if err != nil {
		return fail(e, "exec", err)
	}
	pod, ctr, base, err := podTarget(ctx, s, pos[0], *container)
	if err != nil {
		return fail(e, "exec", err)
	}
	bu, err := url.Parse(base)
	if err != nil || bu.Scheme != "http" {
		return fail(e, "exec", fmt.Errorf("node API URL %q: only http is supported", base))
	}
	q := url.Values{"cmd": pos[1:], "stdin": {strconv.FormatBool(*stdin)}, "tty": {strconv.FormatBool(*tty)}}
	var restore func()
	if *tty {
		if f, ok := e.stdin.(*os.File); ok {
			if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil {
				q.Set("width", strconv.Itoa(int(ws.Col)))
				q.Set("height", strconv.Itoa(int(ws.Row)))
			}
			if *stdin {
				restore = makeRaw(int(f.Fd()))
			}
		}
	}
	if restore != nil {
		defer restore()
	}
	code, err = execStream(ctx, s, bu.Host, fmt.Sprintf("/exec/%s/%s/%s?%s", url.PathEscape(pod.Metadata.Namespace),
		url.PathEscape(pod.Metadata.Name), url.PathEscape(ctr), q.Encode()), *stdin, e)
	if err != nil {
		if restore != nil {
			restore()
			restore = nil
		}
		return fail(e, "exec", err)
	}
	return code
}

// execStream opens the exec stream at host+path, copies stdin to it and
// its frames to stdout and stderr, and returns the command's exit code.
func execStream(ctx context.Context, s *session, host, path string, withStdin bool, e env) (int, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	req, err := http.NewRequest(http.MethodPost, "http://"+host+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", execProtocol)
	s.authorize(req)
	if err := req.Write(conn); err != nil {
		return 0, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return 0, fmt.Errorf("node: %s: %s", resp.Status, b)
	}
	if withStdin {
		go func() {
			_, _ = io.Copy(conn, e.stdin)
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		}()
	}
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("exec stream ended early: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > 16<<20 {
			return 0, errors.New("exec stream: frame too large")
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(br, p); err != nil {
			return 0, fmt.Errorf("exec stream: %w", err)
		}
		switch hdr[0] {
		case frameStdout:
			_, _ = e.stdout.Write(p)
		case frameStderr:
			_, _ = e.stderr.Write(p)
		case frameExit:
			return strconv.Atoi(string(p))
		case frameError:
			return 0, errors.New(string(p))
		}
	}
}

// makeRaw puts the terminal fd in raw mode and returns how to restore it
// (nil if fd is not a terminal).
func makeRaw(fd int) func() {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }
}
