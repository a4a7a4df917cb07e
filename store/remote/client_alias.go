package remote

import (
	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/manifest"
	"github.com/coxswain-io/coxswain/store/remote/client"
	"github.com/coxswain-io/coxswain/store/remote/internal/wire"
)

// The client lives in package store/remote/client, which programs that only
// talk to a server can import alone (a smaller binary: no server, RBAC,
// Prometheus or YAML). These are the same types under this package's names.

// Defaults of ClientConfig.
const (
	DefaultClientTimeout     = client.DefaultClientTimeout
	DefaultWatchRetryTimeout = client.DefaultWatchRetryTimeout
	DefaultWatchIdleTimeout  = client.DefaultWatchIdleTimeout
)

// Client is a store.Store served by a remote Server (see package
// store/remote/client).
type Client = client.Client

// ClientConfig configures a Client (see client.Config).
type ClientConfig = client.Config

// NewClient returns a client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) { return client.New(cfg) }

// ResourcePath returns the REST path of a kind's collection (name "") or
// object, with an optional subresource.
func ResourcePath(info api.KindInfo, namespace, name, subresource string) string {
	return wire.ResourcePath(info, namespace, name, subresource)
}

// Media types the API speaks.
const (
	// MediaJSON is Kubernetes-shape JSON (apiVersion and kind first).
	MediaJSON = wire.MediaJSON
	// MediaYAML is accepted for request bodies.
	MediaYAML = wire.MediaYAML
	// MediaProtobuf is the protobuf encoding: objects in a wirepb.TypedObject,
	// lists in a wirepb.ObjectList, watch events as 4-byte big-endian
	// length-prefixed wirepb.WatchEvent frames.
	MediaProtobuf = wire.MediaProtobuf
)

// StatusError is an error the API answered with. It unwraps to the store's
// error class (store.ErrNotFound, store.ErrConflict, ...) so callers test it
// with errors.Is whether the store is local or remote.
type StatusError = wire.StatusError

// JSONCodec writes and reads objects as JSON in Kubernetes shape.
type JSONCodec = wire.JSONCodec

// KubernetesJSON is the JSON codec of api/manifest: compact JSON out, JSON
// or YAML in. The server uses it; set ClientConfig.JSON to it to make a
// client speak JSON.
var KubernetesJSON JSONCodec = manifestJSON{}

// manifestJSON implements JSONCodec with api/manifest.
type manifestJSON struct{}

// Encode implements JSONCodec.
func (manifestJSON) Encode(obj api.Object, reg *api.Registry) ([]byte, error) {
	return manifest.Encode(obj, manifest.CompactJSON, manifest.WithRegistry(reg))
}

// Decode implements JSONCodec.
func (manifestJSON) Decode(data []byte, reg *api.Registry) ([]api.Object, error) {
	return manifest.Decode(data, reg)
}

// Status reasons the API returns, as in Kubernetes.
const (
	ReasonNotFound              = wire.ReasonNotFound
	ReasonAlreadyExists         = wire.ReasonAlreadyExists
	ReasonConflict              = wire.ReasonConflict
	ReasonInvalid               = wire.ReasonInvalid
	ReasonBadRequest            = wire.ReasonBadRequest
	ReasonExpired               = wire.ReasonExpired
	ReasonServiceUnavailable    = wire.ReasonServiceUnavailable
	ReasonTooManyRequests       = wire.ReasonTooManyRequests
	ReasonForbidden             = wire.ReasonForbidden
	ReasonUnauthorized          = wire.ReasonUnauthorized
	ReasonMethodNotAllowed      = wire.ReasonMethodNotAllowed
	ReasonUnsupportedMediaType  = wire.ReasonUnsupportedMediaType
	ReasonRequestEntityTooLarge = wire.ReasonRequestEntityTooLarge
	ReasonTimeout               = wire.ReasonTimeout
	ReasonInternalError         = wire.ReasonInternalError
)
