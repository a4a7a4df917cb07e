package projection

import (
	"fmt"
	"io/fs"
	"sort"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/atomicwriter"
)

// DefaultMode is the mode of projected files when neither the item nor the
// volume gives one (0644, as in Kubernetes).
const DefaultMode fs.FileMode = 0o644

// Mode returns the file mode for an optional proto mode field, falling back
// to def; it fails for bits outside 0777.
func Mode(m *int32, def fs.FileMode) (fs.FileMode, error) {
	if m == nil {
		return def, nil
	}
	if *m < 0 || *m > 0o777 {
		return 0, fmt.Errorf("mode %#o out of range 0-0777: %w", *m, volume.ErrInvalidSpec)
	}
	return fs.FileMode(*m), nil
}

// Payload returns the files for data. Without items every key becomes a
// file of its own name; with items only the listed keys are projected, at
// their paths. A listed key missing from data is an error naming it, unless
// optional is set (then it is skipped). source names the object in errors
// ("configMap default/app").
func Payload(source string, data map[string][]byte, items []*api.KeyToPath, defaultMode *int32, optional bool) (map[string]atomicwriter.File, error) {
	def, err := Mode(defaultMode, DefaultMode)
	if err != nil {
		return nil, fmt.Errorf("%s: defaultMode: %w", source, err)
	}
	out := make(map[string]atomicwriter.File, len(data))
	if len(items) == 0 {
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := atomicwriter.ValidatePath(k); err != nil {
				return nil, fmt.Errorf("%s: key %q: %w: %w", source, k, volume.ErrInvalidSpec, err)
			}
			out[k] = atomicwriter.File{Data: data[k], Mode: def}
		}
		return out, nil
	}
	for i, it := range items {
		v, ok := data[it.GetKey()]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("%s: items[%d]: key %q not found: %w", source, i, it.GetKey(), volume.ErrInvalidSpec)
		}
		if err := atomicwriter.ValidatePath(it.GetPath()); err != nil {
			return nil, fmt.Errorf("%s: items[%d].path: %w: %w", source, i, volume.ErrInvalidSpec, err)
		}
		var mp *int32
		if it.Mode != nil {
			mp = it.Mode
		}
		mode, err := Mode(mp, def)
		if err != nil {
			return nil, fmt.Errorf("%s: items[%d].mode: %w", source, i, err)
		}
		if _, dup := out[it.GetPath()]; dup {
			return nil, fmt.Errorf("%s: items[%d]: path %q used twice: %w", source, i, it.GetPath(), volume.ErrInvalidSpec)
		}
		out[it.GetPath()] = atomicwriter.File{Data: v, Mode: mode}
	}
	return out, nil
}
