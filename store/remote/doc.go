// Package remote serves any store.Store over HTTP in Kubernetes shape, and
// provides a Client that is itself a store.Store, so every component (node
// agent, scheduler, controllers, users' code) runs unchanged against an
// embedded store or a remote control plane.
//
// # Paths
//
// Kinds are served under their registry's apiVersion and resource name:
//
//	/api/v1/namespaces/{ns}/pods             GET list (or ?watch=true), POST create
//	/api/v1/namespaces/{ns}/pods/{name}      GET, PUT (Update), DELETE
//	/api/v1/namespaces/{ns}/pods/{name}/status   GET, PUT (UpdateStatus)
//	/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale   GET, PUT (autoscaling/v1 Scale)
//	/api/v1/nodes/{name}                     cluster-scoped kinds
//	/api/v1/pods                             GET across every namespace
//
// The scale subresource exists for every kind whose spec has an int32
// replicas field (Deployment, ReplicaSet, ReplicationController, and custom
// kinds of that shape). Lists take labelSelector, fieldSelector, limit,
// continue and linearizable; watches take resourceVersion (0 or absent:
// from now; the start revision is returned in the X-Coxswain-Watch-Revision
// header), labelSelector, fieldSelector, allowWatchBookmarks and
// timeoutSeconds. DELETE takes propagationPolicy, preconditions.uid and
// preconditions.resourceVersion in the query or a v1 DeleteOptions body.
//
// The store-level operations live in the group remote.coxswain.io:
//
//	POST /apis/remote.coxswain.io/v1/transactions       Txn
//	POST /apis/remote.coxswain.io/v1/compact?revision=N Compact
//	GET  /apis/remote.coxswain.io/v1/revision           Revision
//
// A transaction is {"ops":[...]} where each op is {"op":"create"|"update"|
// "updateStatus","object":{...}} or {"op":"delete"|"check","kind":..,
// "namespace":..,"name":..,"resourceVersion":..,"deleteOptions":{...}};
// the answer is a TransactionResult whose items are the results in op order
// (null for an op without one). Either every op applies, at one revision,
// or none does.
//
// Discovery: /version, /api, /apis, /apis/{group}, /api/v1 and
// /apis/{group}/{version} list what the store's registry holds, custom
// kinds included, at the time of the request. /healthz answers "ok" while
// the server runs; /readyz answers "ok" while the store serves a
// linearizable read (a replicated store reaches a quorum), 503 otherwise;
// both answer without credentials.
//
// # Encodings
//
// Request bodies are JSON (application/json, the default), YAML
// (application/yaml) or protobuf (application/x-protobuf); responses are
// protobuf when the Accept header asks for it, JSON otherwise. JSON and
// YAML objects are in Kubernetes shape (api/manifest): apiVersion and kind
// first, lowerCamelCase fields. Protobuf objects travel in a
// wirepb.TypedObject naming apiVersion and kind; lists are a
// wirepb.ObjectList. A JSON watch stream is one {"type":"ADDED",
// "object":{...},"revision":"N"} per line; a protobuf one is a sequence of
// wirepb.WatchEvent messages, each preceded by its length as a 4-byte
// big-endian integer. Bookmarks carry an empty object of the watched kind
// holding only metadata.resourceVersion. A stream the store ends with an
// error (too slow, unavailable) ends with an ERROR event carrying a Status.
//
// # Errors
//
// Every failure is a v1 Status with code, reason and message. The store's
// classes map to 404 NotFound, 409 AlreadyExists, 409 Conflict, 422
// Invalid, 410 Expired (compacted), 503 ServiceUnavailable, 429
// TooManyRequests (watcher too slow) and 403 Forbidden; malformed requests
// get 400, 401, 404, 405, 413 or 415, never a 500. The client turns a
// Status back into a *StatusError that unwraps to the store class, so
// errors.Is(err, store.ErrConflict) works the same locally and remotely.
//
// # Security
//
// ServerConfig.TLS serves HTTPS (and HTTP/2); ServerTLS and ClientTLS build
// the configs from PEM files. With ClientCAs set, verified client
// certificates authenticate through ClientCertAuthenticator (CN is the
// user, O the groups). TokenAuthenticator takes bearer tokens from a map or
// a token file ("token,user,group..." lines); Chain combines
// authenticators. Every authenticated user is also in GroupAuthenticated.
// Authorization is AllowAll (single-user setups) or RBACAuthorizer, which
// reads Role, RoleBinding, ClusterRole and ClusterRoleBinding objects from
// the store on each request, so changes apply at once; a watch is
// authorized when it starts (bound its life with MaxWatchTimeout). Verbs
// are get, list, watch, create, update and delete; subresources are
// matched as "pods/status" or "deployments/scale"; a transaction needs the
// verb of each of its ops; compaction needs create on
// compactions.remote.coxswain.io. As in Kubernetes, a user may write a
// role only if they hold every permission in it, and a binding only if they
// hold every permission of the role it grants (unless they have the verbs
// escalate or bind): no one grants more than they have. EnsureDefaultRoles creates the ClusterRoles
// cluster-admin, edit, view and system:node (what a node agent needs);
// BindClusterRole builds a binding to one of them. Bodies are capped by
// MaxRequestBytes, requests other than watches by RequestTimeout, and each
// write of a watch stream too, so a client that stops reading is dropped.
//
// # Client
//
// The client lives in package store/remote/client (Client, Config, New);
// NewClient, ClientConfig and Client here are the same under this package's
// names. A program that only talks to a server (a controller, an agent)
// imports store/remote/client alone: it links none of the server, its
// authorization, Prometheus collectors or YAML decoding, and speaks
// protobuf unless Config.JSON is set (to KubernetesJSON).
//
// NewClient takes a list of server URLs. Reads, and updates with a
// resourceVersion precondition (which cannot apply twice: a repeat fails
// with ErrConflict), fail over to the next server on any transport error or
// 503; other writes fail over only when the request cannot have reached a
// server (a refused connection), and otherwise (or on a 503) return
// store.ErrUnavailable without resending, pointing the next request at the
// next server. Watches resume transparently after a
// dropped connection, from the last revision delivered, on any server:
// no event is lost or repeated, including the several events one
// transaction writes at one revision. If the history needed to resume has
// been compacted the watch ends with store.ErrCompacted and the caller
// relists (as it also must when a connection drops in the middle of the
// events of revision 1, which cannot be replayed). The client speaks
// protobuf unless ClientConfig.JSON is set.
package remote
