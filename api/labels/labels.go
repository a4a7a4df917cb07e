package labels

import (
	"sort"
	"strings"
)

// Labels is read access to a set of labels.
type Labels interface {
	// Has reports whether the label key is present.
	Has(key string) bool
	// Get returns the value of the label key, or "" when it is absent.
	Get(key string) string
}

// Set is a map of labels. It implements Labels.
type Set map[string]string

var _ Labels = Set(nil)

// Has reports whether key is present.
func (s Set) Has(key string) bool {
	_, ok := s[key]
	return ok
}

// Get returns the value of key, or "".
func (s Set) Get(key string) string { return s[key] }

// String returns the set as "k1=v1,k2=v2" with keys sorted; it parses as a
// selector that matches exactly the sets containing these labels.
func (s Set) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(s[k])
	}
	return b.String()
}

// AsSelector returns a selector requiring every label of s (SelectorFromSet).
func (s Set) AsSelector() Selector { return SelectorFromSet(s) }
