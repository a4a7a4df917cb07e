package memstore

import (
	"slices"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/fields"
)

// fieldIndex maps each value of one field path of one kind to the records
// whose current object has it (WithFieldIndex). Guarded by Store.mu.
type fieldIndex struct {
	path string
	// get reads path with its fields resolved once; nil if the kind is not
	// in the registry (fields.Value then).
	get     *fields.Getter
	byValue map[string]map[*record]struct{}
}

func (x *fieldIndex) value(obj api.Object) (string, bool) {
	if obj == nil {
		return "", false
	}
	if x.get != nil {
		return x.get.Value(obj)
	}
	return fields.Value(obj, x.path)
}

func (x *fieldIndex) add(v string, rec *record) {
	set := x.byValue[v]
	if set == nil {
		set = map[*record]struct{}{}
		x.byValue[v] = set
	}
	set[rec] = struct{}{}
}

func (x *fieldIndex) remove(v string, rec *record) {
	if set := x.byValue[v]; set != nil {
		delete(set, rec)
		if len(set) == 0 {
			delete(x.byValue, v)
		}
	}
}

// newIndexes returns empty indexes for the configured paths, kind name ->
// indexes.
func (s *Store) newIndexes() map[string][]*fieldIndex {
	out := map[string][]*fieldIndex{}
	for kind, paths := range s.cfg.fieldIndexes {
		ki, err := s.kind(kind)
		for _, p := range paths {
			x := &fieldIndex{path: p, byValue: map[string]map[*record]struct{}{}}
			if err == nil {
				x.get = fields.NewGetter(ki.desc, p)
			}
			out[kind] = append(out[kind], x)
		}
	}
	return out
}

// reindex moves rec between the buckets of kind's field indexes as its
// object goes from before to after (nil: absent). Called with s.mu held.
func (s *Store) reindex(kind string, rec *record, before, after api.Object) {
	for _, x := range s.indexes[kind] {
		bv, bok := x.value(before)
		av, aok := x.value(after)
		if bok == aok && bv == av {
			continue
		}
		if bok {
			x.remove(bv, rec)
		}
		if aok {
			x.add(av, rec)
		}
	}
}

// indexedRecords returns, sorted by key, the records in the index bucket
// an exact-match field selector names, when one is usable (only for reads
// at the current revision). Called with s.mu held.
func (s *Store) indexedRecords(kind string, fsel fields.Selector, current bool) ([]*record, bool) {
	if !current {
		return nil, false
	}
	for _, x := range s.indexes[kind] {
		if v, ok := fsel.RequiresExactMatch(x.path); ok {
			set := x.byValue[v]
			recs := make([]*record, 0, len(set))
			for r := range set {
				recs = append(recs, r)
			}
			slices.SortFunc(recs, func(a, b *record) int { return strings.Compare(a.key, b.key) })
			return recs, true
		}
	}
	return nil, false
}
