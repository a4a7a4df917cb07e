package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote/internal/wire"
)

// Defaults of Config.
const (
	DefaultClientTimeout     = 60 * time.Second
	DefaultWatchRetryTimeout = 30 * time.Second
	DefaultWatchIdleTimeout  = 60 * time.Second
)

// Config configures a Client.
type Config struct {
	// Servers are the base URLs of the API servers ("https://10.0.0.1:6443").
	// Requests go to one of them and fail over to the next when it cannot
	// be reached or answers 503. At least one is required.
	Servers []string
	// Token is sent as "Authorization: Bearer <token>" when set.
	Token string
	// TLS configures HTTPS: RootCAs to verify the servers, Certificates for
	// client-certificate authentication.
	TLS *tls.Config
	// Registry holds the kinds the client can decode; it must know every
	// kind the program uses (custom kinds too). Default api.Builtin().
	Registry *api.Registry
	// JSON, when set, makes the client speak JSON with this codec
	// (normally KubernetesJSON) instead of protobuf. Left nil, the client
	// speaks protobuf only and its program links no JSON/YAML object codec.
	JSON JSONCodec
	// Timeout bounds each request but watches. Default 60s.
	Timeout time.Duration
	// WatchRetryTimeout is how long a watch keeps trying to reconnect
	// before it ends with ErrUnavailable. Default 30s.
	WatchRetryTimeout time.Duration
	// WatchIdleTimeout is how long a watch stream may stay silent before
	// the client presumes the connection dead and reconnects. The client
	// asks for bookmarks, so a live stream is never silent for longer than
	// the store's bookmark interval (1s for memstore). Default 60s.
	WatchIdleTimeout time.Duration
	// Transport overrides the HTTP transport (TLS is then ignored).
	Transport http.RoundTripper
	// Logger for reconnects. Default slog.Default().
	Logger *slog.Logger
}

// Validate checks the config.
func (c *Config) Validate() error {
	if len(c.Servers) == 0 {
		return errors.New("remote: ClientConfig.Servers is empty")
	}
	for _, s := range c.Servers {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("remote: server %q: want http(s)://host:port", s)
		}
	}
	if c.Timeout < 0 || c.WatchRetryTimeout < 0 || c.WatchIdleTimeout < 0 {
		return errors.New("remote: negative timeout in ClientConfig")
	}
	return nil
}

// Client is a store.Store served by a remote Server. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	servers []string
	hc      *http.Client
	codec   wire.Codec
	format  wire.Format
	current atomic.Int32
}

var _ store.Store = (*Client)(nil)

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Registry == nil {
		cfg.Registry = api.Builtin()
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultClientTimeout
	}
	if cfg.WatchRetryTimeout == 0 {
		cfg.WatchRetryTimeout = DefaultWatchRetryTimeout
	}
	if cfg.WatchIdleTimeout == 0 {
		cfg.WatchIdleTimeout = DefaultWatchIdleTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	rt := cfg.Transport
	if rt == nil {
		rt = &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     cfg.TLS,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 128,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			// The server answers every request (watches too) with headers
			// at once; a server that does not is treated as down.
			ResponseHeaderTimeout: cfg.Timeout,
			// HTTP/2 connections are pinged when silent, so a dead peer is
			// noticed even while only watches are open.
			HTTP2: &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second},
		}
	}
	c := &Client{cfg: cfg, hc: &http.Client{Transport: rt}, codec: wire.Codec{Reg: cfg.Registry, JSON: cfg.JSON}, format: wire.FormatProtobuf}
	for _, s := range cfg.Servers {
		c.servers = append(c.servers, strings.TrimRight(s, "/"))
	}
	if cfg.JSON != nil {
		c.format = wire.FormatJSON
	}
	return c, nil
}

// Registry returns the client's registry.
func (c *Client) Registry() *api.Registry { return c.cfg.Registry }

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// request is one API call.
type request struct {
	method     string
	path       string
	query      url.Values
	body       []byte
	bodyFormat wire.Format
	// idempotent requests fail over on any transport error; others only
	// when the request cannot have reached a server.
	idempotent bool
}

// isDialError reports whether err happened before the request was sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// do sends req to the current server, failing over to the others.
func (c *Client) do(ctx context.Context, req request) (*http.Response, error) {
	start := int(c.current.Load())
	var lastErr error
	for i := range c.servers {
		idx := (start + i) % len(c.servers)
		u := c.servers[idx] + req.path
		if len(req.query) > 0 {
			u += "?" + req.query.Encode()
		}
		var body io.Reader
		if req.body != nil {
			body = bytes.NewReader(req.body)
		}
		hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", store.ErrInvalid, err)
		}
		hr.Header.Set("Accept", c.format.MediaType())
		if req.body != nil {
			hr.Header.Set("Content-Type", req.bodyFormat.MediaType())
		}
		if c.cfg.Token != "" {
			hr.Header.Set("Authorization", "Bearer "+c.cfg.Token)
		}
		resp, err := c.hc.Do(hr)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = err
			if req.idempotent || isDialError(err) {
				continue
			}
			// The request may have been applied: do not send it again, but
			// send the caller's retry to the next server.
			c.current.Store(int32((idx + 1) % len(c.servers)))
			return nil, fmt.Errorf("%w: %s %s: %v", store.ErrUnavailable, req.method, req.path, err)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && len(c.servers) > 1 {
			if req.idempotent && i < len(c.servers)-1 {
				lastErr = c.responseError(resp)
				continue
			}
			// A write the server could not complete may still apply
			// (a replicated store timing out): answer ErrUnavailable, and
			// send the caller's retry to the next server.
			c.current.Store(int32((idx + 1) % len(c.servers)))
			return resp, nil
		}
		c.current.Store(int32(idx))
		return resp, nil
	}
	if lastErr != nil && errors.Is(lastErr, store.ErrUnavailable) {
		return nil, lastErr
	}
	return nil, fmt.Errorf("%w: no server reachable: %v", store.ErrUnavailable, lastErr)
}

// responseError reads an error response into a *StatusError and closes it.
func (c *Client) responseError(resp *http.Response) error {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	f := wire.FormatJSON
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt == wire.MediaProtobuf {
		f = wire.FormatProtobuf
	}
	st, err := wire.DecodeStatus(data, f)
	if err != nil || st.GetCode() == 0 {
		msg := strings.TrimSpace(string(data))
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		st = &api.Status{Status: "Failure", Code: int32(resp.StatusCode), Message: msg}
	}
	return wire.ErrorFromStatus(st)
}

// call sends req and returns the body of a 2xx answer.
func (c *Client) call(ctx context.Context, req request) ([]byte, wire.Format, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode >= 300 {
		return nil, 0, c.responseError(resp)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, fmt.Errorf("%w: read response: %v", store.ErrUnavailable, err)
	}
	f := wire.FormatJSON
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt == wire.MediaProtobuf {
		f = wire.FormatProtobuf
	}
	return data, f, nil
}

func (c *Client) callObject(ctx context.Context, req request) (api.Object, error) {
	data, f, err := c.call(ctx, req)
	if err != nil {
		return nil, err
	}
	obj, err := c.codec.DecodeObject(data, f)
	if err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return obj, nil
}

// lookup resolves a kind name, with the store's error class for unknown kinds.
func (c *Client) lookup(kind string) (api.KindInfo, error) {
	info, err := c.cfg.Registry.Lookup(kind)
	if err != nil {
		return info, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	return info, nil
}

// checkAddress rejects addresses that cannot name an object, as the store
// would, before they reach a URL.
func checkAddress(info api.KindInfo, ns, name string) error {
	if name == "" {
		return store.Errorf(store.ErrInvalid, "%s: metadata.name is required", info.Kind)
	}
	if strings.ContainsAny(name, "/\x00") || strings.ContainsAny(ns, "/\x00") {
		return store.Errorf(store.ErrInvalid, "%s %q: names and namespaces cannot contain '/'", info.Kind, name)
	}
	switch {
	case info.Scope == api.ClusterScoped && ns != "":
		return store.Errorf(store.ErrInvalid, "%s %q: kind is cluster-scoped, namespace must be empty", info.Kind, name)
	case info.Scope == api.Namespaced && ns == "":
		return store.Errorf(store.ErrInvalid, "%s %q: metadata.namespace is required", info.Kind, name)
	}
	return nil
}

// Get reads an object.
func (c *Client) Get(ctx context.Context, kind, namespace, name string, opts ...store.ReadOption) (api.Object, error) {
	info, err := c.lookup(kind)
	if err != nil {
		return nil, err
	}
	if err := checkAddress(info, namespace, name); err != nil {
		return nil, err
	}
	req := request{method: http.MethodGet, path: wire.ResourcePath(info, namespace, name, ""), idempotent: true}
	if store.ApplyReadOptions(opts).Linearizable {
		req.query = url.Values{"linearizable": {"true"}}
	}
	return c.callObject(ctx, req)
}

// List reads a page of objects.
func (c *Client) List(ctx context.Context, kind string, opts store.ListOptions) (*store.ListResult, error) {
	info, err := c.lookup(kind)
	if err != nil {
		return nil, err
	}
	if opts.Limit < 0 {
		return nil, store.Errorf(store.ErrInvalid, "list %s: negative limit", kind)
	}
	q := url.Values{}
	setIf(q, "labelSelector", opts.LabelSelector)
	setIf(q, "fieldSelector", opts.FieldSelector)
	setIf(q, "continue", opts.Continue)
	if opts.Limit > 0 {
		q.Set("limit", strconv.FormatInt(opts.Limit, 10))
	}
	if opts.Linearizable {
		q.Set("linearizable", "true")
	}
	ns := opts.Namespace
	if info.Scope == api.ClusterScoped && ns != "" {
		return nil, store.Errorf(store.ErrInvalid, "list %s: kind is cluster-scoped, namespace must be empty", kind)
	}
	data, f, err := c.call(ctx, request{method: http.MethodGet, path: wire.ResourcePath(info, ns, "", ""), query: q, idempotent: true})
	if err != nil {
		return nil, err
	}
	res, err := c.codec.DecodeList(data, f)
	if err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return res, nil
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// objectRequest builds the write of obj to its path.
func (c *Client) objectRequest(method string, obj api.Object, collection bool, sub string) (request, error) {
	if obj == nil {
		return request{}, store.Errorf(store.ErrInvalid, "nil object")
	}
	info, err := c.cfg.Registry.KindOf(obj)
	if err != nil {
		return request{}, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	m := obj.GetMetadata()
	ns, name := m.GetNamespace(), m.GetName()
	if collection {
		if name == "" && m.GetGenerateName() != "" {
			name = "x"
		}
		if err := checkAddress(info, ns, name); err != nil {
			return request{}, err
		}
		name = ""
	} else if err := checkAddress(info, ns, name); err != nil {
		return request{}, err
	}
	body, err := c.codec.EncodeObject(obj, c.format)
	if err != nil {
		return request{}, fmt.Errorf("%w: encode: %w", store.ErrInvalid, err)
	}
	return request{method: method, path: wire.ResourcePath(info, ns, name, sub), body: body, bodyFormat: c.format}, nil
}

// Create stores a new object. The object is encoded into the request and
// the result decoded from the response, so store.WriteOption changes
// nothing here: the client never keeps obj and its results are always the
// caller's own.
func (c *Client) Create(ctx context.Context, obj api.Object, _ ...store.WriteOption) (api.Object, error) {
	req, err := c.objectRequest(http.MethodPost, obj, true, "")
	if err != nil {
		return nil, err
	}
	return c.callObject(ctx, req)
}

// Update replaces an object's non-status fields. Options as for Create.
func (c *Client) Update(ctx context.Context, obj api.Object, _ ...store.WriteOption) (api.Object, error) {
	req, err := c.objectRequest(http.MethodPut, obj, false, "")
	if err != nil {
		return nil, err
	}
	req.idempotent = obj.GetMetadata().GetResourceVersion() != 0
	return c.callObject(ctx, req)
}

// UpdateStatus replaces an object's status. Options as for Create.
func (c *Client) UpdateStatus(ctx context.Context, obj api.Object, _ ...store.WriteOption) (api.Object, error) {
	if obj != nil {
		if info, err := c.cfg.Registry.KindOf(obj); err == nil && !info.HasStatus() {
			return nil, store.Errorf(store.ErrInvalid, "%s has no status", info.Kind)
		}
	}
	req, err := c.objectRequest(http.MethodPut, obj, false, "status")
	if err != nil {
		return nil, err
	}
	req.idempotent = obj.GetMetadata().GetResourceVersion() != 0
	return c.callObject(ctx, req)
}

// Delete removes (or marks for deletion) an object.
func (c *Client) Delete(ctx context.Context, kind, namespace, name string, opts store.DeleteOptions) (api.Object, error) {
	info, err := c.lookup(kind)
	if err != nil {
		return nil, err
	}
	if err := checkAddress(info, namespace, name); err != nil {
		return nil, err
	}
	req := request{method: http.MethodDelete, path: wire.ResourcePath(info, namespace, name, "")}
	if opts != (store.DeleteOptions{}) {
		d := wire.DeleteOptionsJSON{APIVersion: "v1", Kind: "DeleteOptions", PropagationPolicy: opts.PropagationPolicy}
		if opts.UID != "" || opts.ResourceVersion != 0 {
			d.Preconditions = &struct {
				UID             string       `json:"uid,omitempty"`
				ResourceVersion wire.FlexInt `json:"resourceVersion,omitempty"`
			}{opts.UID, wire.FlexInt(opts.ResourceVersion)}
		}
		if req.body, err = json.Marshal(d); err != nil {
			return nil, err
		}
		req.bodyFormat = wire.FormatJSON
	}
	return c.callObject(ctx, req)
}

// Txn applies ops atomically on the server.
func (c *Client) Txn(ctx context.Context, ops ...store.Op) ([]api.Object, error) {
	for i, op := range ops {
		if _, ok := wire.TxnOpNames[op.Type]; !ok {
			return nil, store.Errorf(store.ErrInvalid, "txn op %d: unknown op type %d", i, op.Type)
		}
		if op.Object != nil {
			if _, err := c.cfg.Registry.KindOf(op.Object); err != nil {
				return nil, fmt.Errorf("txn op %d: %w: %w", i, store.ErrInvalid, err)
			}
		} else if op.Kind != "" {
			if _, err := c.lookup(op.Kind); err != nil {
				return nil, fmt.Errorf("txn op %d: %w", i, err)
			}
		}
	}
	body, err := c.codec.EncodeTxn(ops, c.format)
	if err != nil {
		return nil, fmt.Errorf("%w: encode transaction: %w", store.ErrInvalid, err)
	}
	data, f, err := c.call(ctx, request{method: http.MethodPost, path: wire.TxnPath, body: body, bodyFormat: c.format})
	if err != nil {
		return nil, err
	}
	res, err := c.codec.DecodeTxnResult(data, f)
	if err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return res, nil
}

// Compact discards history at and before revision.
func (c *Client) Compact(ctx context.Context, revision int64) error {
	if revision <= 0 {
		return store.Errorf(store.ErrInvalid, "compact: revision must be positive, got %d", revision)
	}
	_, _, err := c.call(ctx, request{method: http.MethodPost, path: wire.CompactPath, query: url.Values{"revision": {strconv.FormatInt(revision, 10)}}, idempotent: true})
	return err
}

// Revision returns the store's current revision.
func (c *Client) Revision(ctx context.Context) (int64, error) {
	data, _, err := c.call(ctx, request{method: http.MethodGet, path: wire.RevisionPath, idempotent: true})
	if err != nil {
		return 0, err
	}
	var r wire.RevisionJSON
	if err := json.Unmarshal(data, &r); err != nil {
		return 0, fmt.Errorf("decode revision: %w", err)
	}
	return int64(r.Revision), nil
}

// Scale reads the scale subresource of a scalable kind (Deployment,
// ReplicaSet, ReplicationController).
func (c *Client) Scale(ctx context.Context, kind, namespace, name string) (*api.Scale, error) {
	info, err := c.lookup(kind)
	if err != nil {
		return nil, err
	}
	if err := checkAddress(info, namespace, name); err != nil {
		return nil, err
	}
	return c.callScale(ctx, request{method: http.MethodGet, path: wire.ResourcePath(info, namespace, name, "scale"), idempotent: true})
}

func (c *Client) callScale(ctx context.Context, req request) (*api.Scale, error) {
	data, f, err := c.call(ctx, req)
	if err != nil {
		return nil, err
	}
	sc, err := c.codec.DecodeScale(data, f)
	if err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return sc, nil
}

// UpdateScale sets the replicas of a scalable kind. A non-zero
// scale.metadata.resourceVersion is a precondition.
func (c *Client) UpdateScale(ctx context.Context, kind string, scale *api.Scale) (*api.Scale, error) {
	info, err := c.lookup(kind)
	if err != nil {
		return nil, err
	}
	m := scale.GetMetadata()
	if err := checkAddress(info, m.GetNamespace(), m.GetName()); err != nil {
		return nil, err
	}
	body, err := c.codec.EncodeObject(scale, c.format)
	if err != nil {
		return nil, err
	}
	return c.callScale(ctx, request{method: http.MethodPut, path: wire.ResourcePath(info, m.GetNamespace(), m.GetName(), "scale"), body: body, bodyFormat: c.format})
}
