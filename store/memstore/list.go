package memstore

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/fields"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/store"
)

// List returns the objects of kind matching opts, sorted by namespace and
// name. A page (opts.Limit) and the pages that follow it through
// opts.Continue are all read at the revision of the first page, so that a
// paged list is one consistent snapshot; it fails with store.ErrCompacted
// once that revision is compacted away. An exact-match field selector on an
// indexed path (WithFieldIndex; spec.nodeName for pods) is answered from
// the index.
func (s *Store) List(ctx context.Context, kind string, opts store.ListOptions) (*store.ListResult, error) {
	if err := s.before(ctx, OpList, kind); err != nil {
		return nil, err
	}
	ki, err := s.kind(kind)
	if err != nil {
		return nil, err
	}
	lsel, fsel, err := parseSelectors(ki, opts.LabelSelector, opts.FieldSelector)
	if err != nil {
		return nil, err
	}
	// A list matches the selector against every object of the kind:
	// resolve its paths once. (A watch keeps its selector unbound: the
	// dispatcher routes events by indexed value, and an idle watcher
	// stays small.)
	fsel = fields.Bind(fsel, ki.desc)
	if opts.Limit < 0 {
		return nil, store.Errorf(store.ErrInvalid, "negative limit %d", opts.Limit)
	}
	start := prefix(ki.Kind, opts.Namespace)
	end := start[:len(start)-1] + "\x01"
	var rev int64
	if opts.Continue != "" {
		r, after, err := decodeContinue(opts.Continue)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(after, start) {
			return nil, store.Errorf(store.ErrInvalid, "continue token is for another list")
		}
		rev, start = r, after+"\x00"
	}
	match := func(obj api.Object) bool {
		if obj == nil {
			return false
		}
		if !lsel.Empty() && !lsel.Matches(labels.Set(obj.GetMetadata().GetLabels())) {
			return false
		}
		return fsel.Empty() || fsel.Matches(obj)
	}
	res := &store.ListResult{}
	var frozen []api.Object
	var lastKey string
	more := false
	add := func(k string, obj api.Object) bool {
		if opts.Limit > 0 && int64(len(frozen)) == opts.Limit {
			more = true
			return false
		}
		frozen = append(frozen, obj)
		lastKey = k
		return true
	}
	continuing := rev != 0
	for {
		frozen, lastKey, more = frozen[:0], "", false
		s.mu.Lock()
		if !continuing {
			rev = s.rev
		} else if rev < s.compacted {
			s.mu.Unlock()
			return nil, store.Errorf(store.ErrCompacted, "continue list at revision %d: compacted at %d", rev, s.compacted)
		}
		if recs, ok := s.indexedRecords(ki.Kind, fsel, !continuing); ok {
			for _, r := range recs {
				if !strings.HasPrefix(r.key, start) {
					continue
				}
				if obj := r.latest(); match(obj) && !add(r.key, obj) {
					break
				}
			}
			s.mu.Unlock()
			break
		}
		// Scan a lazy copy of the tree outside the lock, so that long
		// lists do not hold up writers.
		tree := s.tree.Clone()
		s.mu.Unlock()
		tree.AscendRange(&record{key: start}, &record{key: end}, func(r *record) bool {
			obj := r.at(rev)
			return !match(obj) || add(r.key, obj)
		})
		// Compaction during the scan may have cut versions it read.
		s.mu.RLock()
		compacted := s.compacted
		s.mu.RUnlock()
		if rev >= compacted {
			break
		}
		if continuing {
			return nil, store.Errorf(store.ErrCompacted, "list at revision %d: compacted at %d during the list", rev, compacted)
		}
	}
	res.Revision = rev
	if more {
		res.Continue = encodeContinue(rev, lastKey)
	}
	res.Items = make([]api.Object, len(frozen))
	for i, obj := range frozen {
		res.Items[i] = clone(obj)
	}
	return res, nil
}

func encodeContinue(rev int64, after string) string {
	b := binary.AppendVarint(nil, rev)
	b = append(b, after...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(tok string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, "", store.Errorf(store.ErrInvalid, "bad continue token")
	}
	rev, n := binary.Varint(b)
	if n <= 0 || rev <= 0 {
		return 0, "", store.Errorf(store.ErrInvalid, "bad continue token")
	}
	return rev, string(b[n:]), nil
}
