package client

import "github.com/coxswain-io/coxswain/store/remote/internal/wire"

// JSONCodec writes and reads objects as JSON in Kubernetes shape. Set
// Config.JSON to one (remote.KubernetesJSON) to make a client speak JSON.
type JSONCodec = wire.JSONCodec

// StatusError is an error the API answered with; it unwraps to the store's
// error class (store.ErrNotFound, store.ErrConflict, ...).
type StatusError = wire.StatusError
