package daemon

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote"
)

// AnnotationNodeAPI is the Node annotation holding the URL of the node's
// logs and exec endpoint, where coxctl finds it.
const AnnotationNodeAPI = "coxswain.io/node-api"

// ExecProtocol is the Upgrade token of an exec stream.
const ExecProtocol = "coxswain-exec/1"

// Exec stream frame types (server to client). A frame is one type byte, a
// 4-byte big-endian length and the payload. The client sends its standard
// input as raw bytes and half-closes the connection at EOF.
const (
	frameStdout = 1
	frameStderr = 2
	frameExit   = 3 // payload: the exit code in decimal
	frameError  = 4 // payload: why the command could not run
)

// nodeAPI serves a node's container logs and exec over HTTP:
//
//	GET  /logs/{namespace}/{pod}/{container}?follow=true&previous=true
//	POST /exec/{namespace}/{pod}/{container}?cmd=sh&cmd=-c&cmd=...&stdin=true&tty=true&width=W&height=H
//
// A caller is allowed what its bearer token may do on the API servers: the
// server reads the pod from the API with the caller's token, so RBAC's
// "get pods" in the pod's namespace decides (there is no separate node
// authorization yet).
type nodeAPI struct {
	node    string
	rt      runtime.Runtime
	verify  remote.ClientConfig // servers and TLS; the token is the caller's
	log     *slog.Logger
	addr    string
	handler http.Handler
}

// newNodeAPI returns the node API over rt.
func newNodeAPI(node, addr string, rt runtime.Runtime, verify remote.ClientConfig, log *slog.Logger) *nodeAPI {
	n := &nodeAPI{node: node, rt: rt, verify: verify, log: log, addr: addr}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /logs/{ns}/{pod}/{container}", n.logs)
	mux.HandleFunc("POST /exec/{ns}/{pod}/{container}", n.exec)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	n.handler = mux
	return n
}

// Serve serves on ln until ctx ends.
func (n *nodeAPI) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: n.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// container authorizes the request and finds the container it names.
func (n *nodeAPI) container(w http.ResponseWriter, r *http.Request, previous bool) (string, bool) {
	ns, podName, name := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	cc := n.verify
	cc.Token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	cc.Logger = n.log
	cl, err := remote.NewClient(cc)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return "", false
	}
	pod, err := store.For[*api.Pod](cl).Get(r.Context(), ns, podName)
	switch {
	case store.IsNotFound(err):
		http.Error(w, fmt.Sprintf("pod %s/%s not found", ns, podName), http.StatusNotFound)
		return "", false
	case errors.Is(err, store.ErrForbidden):
		http.Error(w, err.Error(), http.StatusForbidden)
		return "", false
	case err != nil:
		code := http.StatusBadGateway
		var se *remote.StatusError
		if errors.As(err, &se) && se.Status.GetCode() >= 400 && se.Status.GetCode() < 500 {
			code = int(se.Status.GetCode())
		}
		http.Error(w, err.Error(), code)
		return "", false
	}
	if pod.GetSpec().GetNodeName() != n.node {
		http.Error(w, fmt.Sprintf("pod %s/%s runs on node %q, not %q", ns, podName, pod.GetSpec().GetNodeName(), n.node), http.StatusBadRequest)
		return "", false
	}
	var names []string
	for _, cs := range append(pod.GetStatus().GetContainerStatuses(), pod.GetStatus().GetInitContainerStatuses()...) {
		names = append(names, cs.GetName())
		if cs.GetName() != name {
			continue
		}
		id := cs.GetContainerId()
		if previous {
			id = cs.GetLastState().GetTerminated().GetContainerId()
			if id == "" {
				http.Error(w, fmt.Sprintf("container %s of pod %s/%s has no previous instance", name, ns, podName), http.StatusBadRequest)
				return "", false
			}
		}
		if _, after, ok := strings.Cut(id, "://"); ok {
			id = after
		}
		if id == "" {
			http.Error(w, fmt.Sprintf("container %s of pod %s/%s has not started", name, ns, podName), http.StatusBadRequest)
			return "", false
		}
		return id, true
	}
	http.Error(w, fmt.Sprintf("pod %s/%s has no container %q (it has %s)", ns, podName, name, strings.Join(names, ", ")), http.StatusBadRequest)
	return "", false
}

// flushWriter flushes after every write, so a followed log streams.
type flushWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if f.f != nil {
		f.f.Flush()
	}
	return n, err
}

func (n *nodeAPI) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	previous, _ := strconv.ParseBool(q.Get("previous"))
	follow, _ := strconv.ParseBool(q.Get("follow"))
	id, ok := n.container(w, r, previous)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	f, _ := w.(http.Flusher)
	err := n.rt.Logs(r.Context(), id, runtime.LogOptions{Follow: follow}, flushWriter{w, f})
	if err != nil && r.Context().Err() == nil {
		n.log.Debug("logs", "container", id, "err", err)
	}
}

// frameWriter writes one stream's output as frames; writes are serialized.
type frameWriter struct {
	mu  *sync.Mutex
	w   *bufio.Writer
	typ byte
}

func (f frameWriter) Write(p []byte) (int, error) {
	if err := writeFrame(f.mu, f.w, f.typ, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func writeFrame(mu *sync.Mutex, w *bufio.Writer, typ byte, p []byte) error {
	mu.Lock()
	defer mu.Unlock()
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := w.Write(p); err != nil {
		return err
	}
	return w.Flush()
}

func (n *nodeAPI) exec(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), ExecProtocol) {
		http.Error(w, "exec needs 'Upgrade: "+ExecProtocol+"'", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	cmd := q["cmd"]
	if len(cmd) == 0 {
		http.Error(w, "no command (cmd=...)", http.StatusBadRequest)
		return
	}
	id, ok := n.container(w, r, false)
	if !ok {
		return
	}
	withStdin, _ := strconv.ParseBool(q.Get("stdin"))
	tty, _ := strconv.ParseBool(q.Get("tty"))
	width, _ := strconv.ParseUint(q.Get("width"), 10, 16)
	height, _ := strconv.ParseUint(q.Get("height"), 10, 16)
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "connection cannot be upgraded", http.StatusInternalServerError)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + ExecProtocol + "\r\n\r\n")
	if err := brw.Flush(); err != nil {
		return
	}
	var mu sync.Mutex
	req := runtime.ExecRequest{
		Cmd:          cmd,
		Stdout:       frameWriter{&mu, brw.Writer, frameStdout},
		Stderr:       frameWriter{&mu, brw.Writer, frameStderr},
		TTY:          tty,
		TerminalSize: runtime.TerminalSize{Width: uint16(width), Height: uint16(height)},
	}
	if withStdin {
		req.Stdin = brw.Reader
	}
	// The request's context ends with the hijack; the stream lives until
	// the command exits.
	code, err := n.rt.Exec(context.WithoutCancel(r.Context()), id, req)
	if err != nil {
		_ = writeFrame(&mu, brw.Writer, frameError, []byte(err.Error()))
		return
	}
	_ = writeFrame(&mu, brw.Writer, frameExit, []byte(strconv.Itoa(code)))
}

// advertise records the node API's URL on the Node, creating the Node if
// the agent has not registered it yet.
func advertise(ctx context.Context, st store.Store, node, url string) error {
	nodes := store.For[*api.Node](st)
	for ctx.Err() == nil {
		_, err := nodes.Mutate(ctx, "", node, func(n *api.Node) error {
			m := api.Meta(n)
			if m.Annotations == nil {
				m.Annotations = map[string]string{}
			}
			m.Annotations[AnnotationNodeAPI] = url
			return nil
		})
		if err == nil {
			return nil
		}
		if !store.IsNotFound(err) {
			return fmt.Errorf("advertise node API: %w", err)
		}
		_, err = nodes.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: node,
			Labels:      map[string]string{"kubernetes.io/hostname": node},
			Annotations: map[string]string{AnnotationNodeAPI: url}}, Spec: &api.NodeSpec{}})
		if err == nil {
			return nil
		}
		if !store.IsAlreadyExists(err) {
			return fmt.Errorf("advertise node API: %w", err)
		}
	}
	return ctx.Err()
}
