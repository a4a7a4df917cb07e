package wire

import (
	"net/url"
	"strings"

	"github.com/coxswain-io/coxswain/api"
)

// Paths of the API's own endpoints outside the kinds it serves.
const (
	// InternalGroup is the API group of the store-level endpoints.
	InternalGroup = "remote.coxswain.io"
	// TxnPath takes POSTed transactions.
	TxnPath = "/apis/" + InternalGroup + "/v1/transactions"
	// CompactPath takes POST ?revision=N to compact the store.
	CompactPath = "/apis/" + InternalGroup + "/v1/compact"
	// RevisionPath answers GET with the store's current revision.
	RevisionPath = "/apis/" + InternalGroup + "/v1/revision"
	// HeaderWatchRevision is the response header of a watch naming the
	// revision the stream starts after (resolving resourceVersion=0).
	HeaderWatchRevision = "X-Coxswain-Watch-Revision"
)

// ResourcePath returns the REST path of a kind's collection (name "") or
// object, with an optional subresource.
func ResourcePath(info api.KindInfo, namespace, name, subresource string) string {
	var b strings.Builder
	b.WriteString("/")
	b.WriteString(APIPrefix(info))
	if info.Scope == api.Namespaced && namespace != "" {
		b.WriteString("/namespaces/")
		b.WriteString(url.PathEscape(namespace))
	}
	b.WriteString("/")
	b.WriteString(info.Resource)
	if name != "" {
		b.WriteString("/")
		b.WriteString(url.PathEscape(name))
		if subresource != "" {
			b.WriteString("/")
			b.WriteString(subresource)
		}
	}
	return b.String()
}

// APIPrefix is "api/v1" for the core group, "apis/{group}/{version}" otherwise.
func APIPrefix(info api.KindInfo) string {
	if info.Group() == "" {
		return "api/" + info.Version()
	}
	return "apis/" + info.APIVersion
}

// RevisionJSON is the body of a RevisionPath answer.
type RevisionJSON struct {
	Revision FlexInt `json:"revision"`
}
