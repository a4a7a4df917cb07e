package remote

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote/internal/wire"
)

// Paths of the API's own endpoints outside the kinds it serves (see
// package wire, shared with the client).
const (
	// InternalGroup is the API group of the store-level endpoints.
	InternalGroup = wire.InternalGroup
	// TxnPath takes POSTed transactions.
	TxnPath = wire.TxnPath
	// CompactPath takes POST ?revision=N to compact the store.
	CompactPath = wire.CompactPath
	// RevisionPath answers GET with the store's current revision.
	RevisionPath = wire.RevisionPath
	// HeaderWatchRevision is the response header of a watch naming the
	// revision the stream starts after (resolving resourceVersion=0).
	HeaderWatchRevision = wire.HeaderWatchRevision
)

// Defaults of ServerConfig.
const (
	DefaultMaxRequestBytes = 3 << 20
	DefaultRequestTimeout  = 60 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// Store is the store served. Required.
	Store store.Store
	// Authenticator identifies callers. Nil: every request is from user
	// Anonymous (group GroupUnauthenticated). Set: a request it does not
	// recognise is refused with 401, and authenticated users are also in
	// GroupAuthenticated.
	Authenticator Authenticator
	// Authorizer decides what callers may do. Nil: AllowAll.
	Authorizer Authorizer
	// MaxRequestBytes caps a request body (413 beyond). Default 3 MiB.
	MaxRequestBytes int64
	// RequestTimeout bounds every request but watches (504 beyond), and
	// each write of a watch stream (a client that stops reading for that
	// long is dropped). Default 60s.
	RequestTimeout time.Duration
	// MaxWatchTimeout, if set, ends every watch stream after at most this
	// long; clients resume from their last revision.
	MaxWatchTimeout time.Duration
	// Version is reported by /version.
	Version string
	// Address is where Start listens (e.g. "127.0.0.1:6443").
	Address string
	// TLS, if set, makes Start serve HTTPS. Set ClientCAs and ClientAuth to
	// verify client certificates (see ClientCertAuthenticator).
	TLS *tls.Config
	// Logger for request failures. Default slog.Default().
	Logger *slog.Logger
	// Metrics, if set, receives the server's Prometheus collectors:
	// coxswain_apiserver_requests_total{verb,resource,code},
	// coxswain_apiserver_request_duration_seconds{verb,resource} and
	// coxswain_apiserver_watches{resource}.
	Metrics prometheus.Registerer
}

// Validate checks the config.
func (c *ServerConfig) Validate() error {
	if c.Store == nil {
		return errors.New("remote: ServerConfig.Store is required")
	}
	if c.MaxRequestBytes < 0 || c.RequestTimeout < 0 || c.MaxWatchTimeout < 0 {
		return errors.New("remote: negative limits in ServerConfig")
	}
	return nil
}

func (c *ServerConfig) setDefaults() {
	if c.Authorizer == nil {
		c.Authorizer = AllowAll()
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.Version == "" {
		c.Version = "v0.1.0"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Server serves a store.Store over HTTP in Kubernetes shape. See the
// package documentation for the paths.
type Server struct {
	cfg     ServerConfig
	st      store.Store
	codec   wire.Codec
	mux     *http.ServeMux
	metrics *metrics
}

// NewServer returns a server for cfg.
func NewServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	s := &Server{cfg: cfg, st: cfg.Store, codec: wire.Codec{Reg: cfg.Store.Registry(), JSON: KubernetesJSON}, mux: http.NewServeMux()}
	if cfg.Metrics != nil {
		m, err := newMetrics(cfg.Metrics)
		if err != nil {
			return nil, err
		}
		s.metrics = m
	}
	s.mux.HandleFunc("/version", s.handleVersion)
	s.mux.HandleFunc("/healthz", s.handleHealth)
	s.mux.HandleFunc("/readyz", s.handleReady)
	s.mux.HandleFunc("/api", s.handleCoreVersions)
	s.mux.HandleFunc("/apis", s.handleGroups)
	s.mux.HandleFunc("/api/{version}", s.handleCoreResources)
	s.mux.HandleFunc("/apis/{group}", s.handleGroup)
	s.mux.HandleFunc("/apis/{group}/{version}", s.handleGroupResources)
	s.mux.HandleFunc("/api/{version}/{rest...}", s.handleResource)
	s.mux.HandleFunc("/apis/{group}/{version}/{rest...}", s.handleResource)
	s.mux.HandleFunc(TxnPath, s.handleTxn)
	s.mux.HandleFunc(CompactPath, s.handleCompact)
	s.mux.HandleFunc(RevisionPath, s.handleRevision)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, wire.NewRequestError(http.StatusNotFound, ReasonNotFound, fmt.Errorf("no such path %q", r.URL.Path)))
	})
	return s, nil
}

// Handler returns the server's http.Handler: authentication, then routing.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start listens on cfg.Address and serves until ctx ends, then shuts down
// gracefully (watch streams are ended).
func (s *Server) Start(ctx context.Context) error {
	if s.cfg.Address == "" {
		return errors.New("remote: ServerConfig.Address is required for Start")
	}
	ln, err := net.Listen("tcp", s.cfg.Address)
	if err != nil {
		return fmt.Errorf("remote: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	if s.cfg.TLS != nil {
		// ServeTLS also offers HTTP/2, which multiplexes a client's many
		// watches over one connection.
		hs.TLSConfig = s.cfg.TLS.Clone()
		go func() { errc <- hs.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- hs.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("remote: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	<-errc
	return nil
}

type userKey struct{}

// UserFrom returns the authenticated user of a request context served by a
// Server.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.metrics != nil {
		start := time.Now()
		ri := &requestInfo{}
		sw := &statusWriter{ResponseWriter: w}
		w, r = sw, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri))
		defer func() { s.metrics.observe(ri, sw.code, start) }()
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.cfg.Logger.Error("remote: panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p)
			s.writeError(w, r, fmt.Errorf("internal error"))
		}
	}()
	u := &User{Name: Anonymous, Groups: []string{GroupUnauthenticated}}
	// Health probes (load balancers, supervisors) carry no credentials and
	// learn nothing about objects: they skip authentication.
	probe := r.URL.Path == "/healthz" || r.URL.Path == "/readyz"
	if s.cfg.Authenticator != nil && !probe {
		au, err := s.cfg.Authenticator.Authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if au == nil {
			s.writeError(w, r, fmt.Errorf("%w: credentials required", wire.ErrUnauthorized))
			return
		}
		u = &User{Name: au.Name, Groups: append(slices.Clone(au.Groups), GroupAuthenticated)}
	}
	r = r.WithContext(context.WithValue(r.Context(), userKey{}, u))
	s.mux.ServeHTTP(w, r)
}

// writeError answers with the Status for err in the format the client
// accepts.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeStatus(w, r, err, wire.StatusFor(err))
}

// writeResourceError is writeError naming the object in the Status details.
func (s *Server) writeResourceError(w http.ResponseWriter, r *http.Request, rr resourceRequest, err error) {
	st := wire.StatusFor(err)
	st.Details = &api.StatusDetails{Name: rr.name, Kind: rr.info.Resource}
	s.writeStatus(w, r, err, st)
}

func (s *Server) writeStatus(w http.ResponseWriter, r *http.Request, err error, st *api.Status) {
	if st.GetCode() >= 500 && st.GetCode() != http.StatusServiceUnavailable && st.GetCode() != http.StatusGatewayTimeout {
		s.cfg.Logger.Error("remote: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	f := wire.ResponseFormat(r.Header.Get("Accept"))
	var br *wire.BadRequest
	if errors.As(err, &br) && len(br.Allow) > 0 {
		w.Header().Set("Allow", strings.Join(br.Allow, ", "))
	}
	w.Header().Set("Content-Type", f.MediaType())
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(int(st.GetCode()))
	_, _ = w.Write(wire.EncodeStatus(st, f))
}

func (s *Server) writeObject(w http.ResponseWriter, r *http.Request, code int, obj api.Object) {
	f := wire.ResponseFormat(r.Header.Get("Accept"))
	b, err := s.codec.EncodeObject(obj, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", f.MediaType())
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func methodNotAllowed(r *http.Request, allowed ...string) error {
	return &wire.BadRequest{Code: http.StatusMethodNotAllowed, Reason: ReasonMethodNotAllowed, Allow: allowed,
		Err: fmt.Errorf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allowed, ", "))}
}

func (s *Server) authorize(r *http.Request, a Attributes) error {
	a.User = UserFrom(r.Context())
	return s.cfg.Authorizer.Authorize(r.Context(), a)
}

// readBody reads a request body within the size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, wire.Format, error) {
	f, err := wire.RequestFormat(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, 0, wire.NewRequestError(http.StatusUnsupportedMediaType, ReasonUnsupportedMediaType, err)
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBytes)
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, 0, wire.NewRequestError(http.StatusRequestEntityTooLarge, ReasonRequestEntityTooLarge,
				fmt.Errorf("request body exceeds %d bytes", s.cfg.MaxRequestBytes))
		}
		return nil, 0, wire.NewBadRequest(fmt.Errorf("read body: %w", err))
	}
	return data, f, nil
}

// withTimeout bounds a non-watch request.
func (s *Server) withTimeout(r *http.Request) (*http.Request, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	return r.WithContext(ctx), cancel
}

func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, wire.NewBadRequest(fmt.Errorf("query parameter %s=%q: want a non-negative integer", name, v))
	}
	return n, nil
}

func queryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, wire.NewBadRequest(fmt.Errorf("query parameter %s=%q: want true or false", name, v))
	}
	return b, nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok\n")
}

// handleReady answers 200 when the store serves a linearizable read (for
// a replicated store: it reaches a quorum), 503 otherwise.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var err error
	if _, lerr := s.codec.Reg.Lookup(api.KindNamespace); lerr == nil {
		_, err = s.st.List(ctx, api.KindNamespace, store.ListOptions{Limit: 1, Linearizable: true})
	} else {
		_, err = s.st.Revision(ctx)
	}
	if err != nil {
		s.writeError(w, r, fmt.Errorf("%w: store not ready: %v", store.ErrUnavailable, err))
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok\n")
}

func (s *Server) handleTxn(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeError(w, r, methodNotAllowed(r, http.MethodPost))
		return
	}
	setInfo(r, "txn", "")
	r, cancel := s.withTimeout(r)
	defer cancel()
	data, f, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ops, err := s.codec.DecodeTxn(data, f)
	if err != nil {
		s.writeError(w, r, wire.NewBadRequest(fmt.Errorf("transaction: %w", err)))
		return
	}
	for i, op := range ops {
		err := s.authorizeOp(r, op)
		if err == nil && op.Object != nil {
			err = s.checkEscalation(r, op.Object)
		}
		if err != nil {
			s.writeError(w, r, fmt.Errorf("transaction op %d: %w", i, err))
			return
		}
	}
	res, err := s.st.Txn(r.Context(), ops...)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rf := wire.ResponseFormat(r.Header.Get("Accept"))
	b, err := s.codec.EncodeTxnResult(res, rf)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", rf.MediaType())
	_, _ = w.Write(b)
}

func (s *Server) authorizeOp(r *http.Request, op store.Op) error {
	kind, ns, name := op.Kind, op.Namespace, op.Name
	if op.Object != nil {
		info, err := s.codec.Reg.KindOf(op.Object)
		if err != nil {
			return wire.NewBadRequest(err)
		}
		m := op.Object.GetMetadata()
		kind, ns, name = info.Kind, m.GetNamespace(), m.GetName()
	}
	info, err := s.codec.Reg.Lookup(kind)
	if err != nil {
		return wire.NewBadRequest(err)
	}
	a := Attributes{APIGroup: info.Group(), Resource: info.Resource, Namespace: ns, Name: name}
	switch op.Type {
	case store.OpCreate:
		a.Verb = "create"
	case store.OpUpdate:
		a.Verb = "update"
	case store.OpUpdateStatus:
		a.Verb, a.Subresource = "update", "status"
	case store.OpDelete:
		a.Verb = "delete"
	case store.OpCheck:
		a.Verb = "get"
	}
	return s.authorize(r, a)
}

func (s *Server) handleCompact(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeError(w, r, methodNotAllowed(r, http.MethodPost))
		return
	}
	setInfo(r, "compact", "")
	r, cancel := s.withTimeout(r)
	defer cancel()
	rev, err := queryInt(r, "revision")
	if err == nil && rev == 0 {
		err = wire.NewBadRequest(errors.New("query parameter revision is required"))
	}
	if err == nil {
		err = s.authorize(r, Attributes{Verb: "create", APIGroup: InternalGroup, Resource: "compactions"})
	}
	if err == nil {
		err = s.st.Compact(r.Context(), rev)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, map[string]any{"apiVersion": "v1", "kind": "Status", "status": "Success", "code": 200})
}

func (s *Server) handleRevision(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.writeError(w, r, methodNotAllowed(r, http.MethodGet))
		return
	}
	setInfo(r, "revision", "")
	r, cancel := s.withTimeout(r)
	defer cancel()
	// The revision reveals nothing about objects: like discovery, any
	// authenticated user may read it.
	if err := s.authorize(r, Attributes{Verb: "get", Path: RevisionPath}); err != nil {
		s.writeError(w, r, err)
		return
	}
	rev, err := s.st.Revision(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, wire.RevisionJSON{Revision: wire.FlexInt(rev)})
}
