package resource

import (
	"errors"
	"fmt"
	"sort"
)

// List maps resource names (CPU, Memory, ...) to quantities. A missing
// entry counts as zero in every helper.
type List map[string]Quantity

// ParseList parses every value of m. It reports every bad entry at once,
// each error naming its key and wrapping ErrFormat or ErrRange.
func ParseList(m map[string]string) (List, error) {
	out := make(List, len(m))
	var errs []error
	for _, k := range sortedKeys(m) {
		q, err := ParseQuantity(m[k])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
			continue
		}
		out[k] = q
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Names returns the resource names in l, sorted.
func (l List) Names() []string { return sortedKeys(l) }

// Get returns l[name], or zero when absent.
func (l List) Get(name string) Quantity { return l[name] }

// Clone returns a copy of l.
func (l List) Clone() List {
	out := make(List, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

// Add returns l + o, resource by resource. Neither input changes.
func (l List) Add(o List) List {
	out := l.Clone()
	for k, v := range o {
		out[k] = out[k].Add(v)
	}
	return out
}

// Sub returns l - o, resource by resource; results may be negative.
func (l List) Sub(o List) List {
	out := l.Clone()
	for k, v := range o {
		out[k] = out[k].Sub(v)
	}
	return out
}

// LessOrEqual reports whether every resource in l is at most the same
// resource in o (a resource missing from o counts as zero there).
func (l List) LessOrEqual(o List) bool {
	for k, v := range l {
		if v.Cmp(o[k]) > 0 {
			return false
		}
	}
	return true
}

// Exceeded returns, sorted, the names of the resources in l that are larger
// than in limit, considering only the resources limit names.
func (l List) Exceeded(limit List) []string {
	var out []string
	for _, k := range sortedKeys(limit) {
		if l[k].Cmp(limit[k]) > 0 {
			out = append(out, k)
		}
	}
	return out
}

// Equal reports whether l and o hold the same amounts (missing = zero).
func (l List) Equal(o List) bool {
	for k, v := range l {
		if !v.Equal(o[k]) {
			return false
		}
	}
	for k, v := range o {
		if !v.Equal(l[k]) {
			return false
		}
	}
	return true
}

// StringMap returns l in canonical string form, the shape stored in API
// objects (resources.requests and the like).
func (l List) StringMap() map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = v.String()
	}
	return out
}
