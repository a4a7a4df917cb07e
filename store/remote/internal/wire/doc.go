// Package wire holds what the remote API's server (package store/remote)
// and its client (package store/remote/client) share: the body formats and
// codecs, the structured Status errors, the transaction encoding and the
// store-level paths. It imports no YAML or JSON object codec: JSON bodies
// go through a JSONCodec the server always sets and a client only on
// request.
package wire
