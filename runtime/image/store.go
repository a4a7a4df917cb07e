package image

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/coxswain-io/coxswain/runtime"
)

// Store is an on-disk image store. It is safe for concurrent use; several
// Store values must not share a root.
type Store struct {
	root string

	// mu serialises writes of image records and layer unpacking; reads of
	// records take it too (they are small files).
	mu sync.Mutex
}

// record is an image's stored metadata.
type record struct {
	ID       string              `json:"id"`
	RepoTags []string            `json:"repoTags"`
	Size     int64               `json:"size"`
	Config   runtime.ImageConfig `json:"config"`
	// Layers are diff IDs, bottom layer first.
	Layers []string `json:"layers"`
}

func (r *record) image() *runtime.Image {
	return &runtime.Image{ID: r.ID, RepoTags: slices.Clone(r.RepoTags), Size: r.Size, Config: r.Config}
}

// NewStore opens (creating if needed) an image store at root.
func NewStore(root string) (*Store, error) {
	for _, d := range []string{"layers", "images", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("image store: %w", err)
		}
	}
	// Leftovers of an interrupted unpack.
	tmp := filepath.Join(root, "tmp")
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(tmp, e.Name()))
	}
	return &Store{root: root}, nil
}

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

// normalize returns the canonical name of a reference ("busybox" ->
// "index.docker.io/library/busybox:latest"), or "" if ref is not one.
func normalize(ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return ""
	}
	return r.Name()
}

// Pull fetches ref from its registry (linux/amd64 or the platform of the
// running binary) and stores it.
func (s *Store) Pull(ctx context.Context, ref string, auth *runtime.AuthConfig) (*runtime.Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, runtime.Errorf(runtime.ErrInvalid, "image reference %q: %v", ref, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithPlatform(platform())}
	if auth != nil {
		opts = append(opts, remote.WithAuth(authn.FromConfig(authn.AuthConfig{
			Username: auth.Username, Password: auth.Password,
			IdentityToken: auth.IdentityToken, RegistryToken: auth.RegistryToken,
		})))
	}
	img, err := remote.Image(r, opts...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, classify(err))
	}
	return s.Add(ctx, img, r.Name())
}

// classify wraps registry errors that mean "no such image" as ErrNotFound.
func classify(err error) error {
	var terr interface{ Error() string }
	msg := err.Error()
	if errors.As(err, &terr) && (strings.Contains(msg, "MANIFEST_UNKNOWN") || strings.Contains(msg, "NAME_UNKNOWN") || strings.Contains(msg, "404")) {
		return fmt.Errorf("%w: %w", runtime.ErrNotFound, err)
	}
	return err
}

// LoadTarball stores the image of a tarball written by `docker save` or
// go-containerregistry's tarball package; tag selects the image when the
// tarball holds several (empty: the only one) and becomes its name.
func (s *Store) LoadTarball(ctx context.Context, path, tag string) (*runtime.Image, error) {
	var t *name.Tag
	if tag != "" {
		parsed, err := name.NewTag(tag)
		if err != nil {
			return nil, runtime.Errorf(runtime.ErrInvalid, "tag %q: %v", tag, err)
		}
		t = &parsed
	}
	img, err := tarball.ImageFromPath(path, t)
	if err != nil {
		return nil, fmt.Errorf("load tarball %s: %w", path, err)
	}
	var refs []string
	if t != nil {
		refs = append(refs, t.Name())
	}
	return s.Add(ctx, img, refs...)
}

// LoadLayout stores every image of the OCI image layout at path. An image
// is named by its org.opencontainers.image.ref.name annotation when that is
// a full reference.
func (s *Store) LoadLayout(ctx context.Context, path string) ([]*runtime.Image, error) {
	idx, err := layout.ImageIndexFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("load layout %s: %w", path, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("load layout %s: %w", path, err)
	}
	var out []*runtime.Image
	for _, desc := range m.Manifests {
		if !desc.MediaType.IsImage() {
			continue
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("load layout %s: %w", path, err)
		}
		var refs []string
		if n := normalize(desc.Annotations["org.opencontainers.image.ref.name"]); n != "" {
			refs = append(refs, n)
		}
		rec, err := s.Add(ctx, img, refs...)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// Add stores img, unpacking the layers the store does not have yet, and
// names it refs (moving each name from any image that had it).
func (s *Store) Add(ctx context.Context, img v1.Image, refs ...string) (*runtime.Image, error) {
	cfgName, err := img.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("image config digest: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("image layers: %w", err)
	}
	rec := &record{
		ID: cfgName.String(),
		Config: runtime.ImageConfig{
			Entrypoint: cf.Config.Entrypoint, Cmd: cf.Config.Cmd, Env: cf.Config.Env,
			WorkingDir: cf.Config.WorkingDir, User: cf.Config.User,
		},
	}
	for _, l := range layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		diffID, err := l.DiffID()
		if err != nil {
			return nil, fmt.Errorf("layer diff id: %w", err)
		}
		size, err := l.Size()
		if err != nil {
			return nil, fmt.Errorf("layer size: %w", err)
		}
		rec.Size += size
		if err := s.unpack(diffID, l); err != nil {
			return nil, err
		}
		rec.Layers = append(rec.Layers, diffID.String())
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	recs, err := s.records()
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.ID == rec.ID {
			rec.RepoTags = r.RepoTags
		}
	}
	for _, ref := range refs {
		for _, r := range recs {
			if r.ID != rec.ID && slices.Contains(r.RepoTags, ref) {
				r.RepoTags = slices.DeleteFunc(r.RepoTags, func(t string) bool { return t == ref })
				if err := s.writeRecord(r); err != nil {
					return nil, err
				}
			}
		}
		if !slices.Contains(rec.RepoTags, ref) {
			rec.RepoTags = append(rec.RepoTags, ref)
		}
	}
	if err := s.writeRecord(rec); err != nil {
		return nil, err
	}
	return rec.image(), nil
}

// unpack extracts layer l into layers/<hex> unless it is there.
func (s *Store) unpack(diffID v1.Hash, l v1.Layer) error {
	dir := s.layerDir(diffID.String())
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "unpack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	rc, err := l.Uncompressed()
	if err != nil {
		return fmt.Errorf("layer %s: %w", diffID, err)
	}
	defer rc.Close()
	if err := unpackLayer(rc, tmp); err != nil {
		return fmt.Errorf("layer %s: %w", diffID, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	// A concurrent Add of an image sharing the layer may have won the race;
	// either copy is complete, keep the first.
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) && !errors.Is(err, unixENOTEMPTY) {
		return fmt.Errorf("layer %s: %w", diffID, err)
	}
	return nil
}

func (s *Store) layerDir(diffID string) string {
	_, hex, _ := strings.Cut(diffID, ":")
	return filepath.Join(s.root, "layers", hex)
}

func (s *Store) recordPath(id string) string {
	_, hex, _ := strings.Cut(id, ":")
	return filepath.Join(s.root, "images", hex+".json")
}

// records reads every image record. Called with mu held.
func (s *Store) records() ([]*record, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "images"))
	if err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	var out []*record
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.root, "images", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("image store: %w", err)
		}
		var r record
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("image record %s: %w", e.Name(), err)
		}
		out = append(out, &r)
	}
	return out, nil
}

// writeRecord stores r atomically. Called with mu held.
func (s *Store) writeRecord(r *record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.recordPath(r.ID), data)
}

func writeFileAtomic(path string, data []byte) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	tmp := path + ".tmp-" + hex.EncodeToString(b[:])
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// find returns the record named ref (a reference or an image ID). Called
// with mu held.
func (s *Store) find(ref string) (*record, error) {
	recs, err := s.records()
	if err != nil {
		return nil, err
	}
	norm := normalize(ref)
	for _, r := range recs {
		if r.ID == ref || strings.TrimPrefix(r.ID, "sha256:") == ref || slices.Contains(r.RepoTags, ref) || (norm != "" && slices.Contains(r.RepoTags, norm)) {
			return r, nil
		}
	}
	return nil, runtime.Errorf(runtime.ErrNotFound, "image %q", ref)
}

// Get returns the image ref names (a reference or an image ID).
func (s *Store) Get(ref string) (*runtime.Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(ref)
	if err != nil {
		return nil, err
	}
	return r.image(), nil
}

// LayerDirs returns the unpacked layer directories of the image ref names,
// bottom layer first.
func (s *Store) LayerDirs(ref string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(ref)
	if err != nil {
		return nil, err
	}
	dirs := make([]string, len(r.Layers))
	for i, l := range r.Layers {
		dirs[i] = s.layerDir(l)
	}
	return dirs, nil
}

// List returns every stored image, ordered by ID.
func (s *Store) List() ([]*runtime.Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, err := s.records()
	if err != nil {
		return nil, err
	}
	out := make([]*runtime.Image, len(recs))
	for i, r := range recs {
		out[i] = r.image()
	}
	slices.SortFunc(out, func(a, b *runtime.Image) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Remove drops the name ref; when ref is an image ID, or the image's last
// name, the image record goes. Layers stay until Prune. Removing a missing
// image succeeds.
func (s *Store) Remove(ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(ref)
	if runtime.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	norm := normalize(ref)
	r.RepoTags = slices.DeleteFunc(r.RepoTags, func(t string) bool { return t == ref || t == norm })
	if r.ID == ref || strings.TrimPrefix(r.ID, "sha256:") == ref || len(r.RepoTags) == 0 {
		if err := os.Remove(s.recordPath(r.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove image %s: %w", r.ID, err)
		}
		return nil
	}
	return s.writeRecord(r)
}

// Prune removes the unpacked layers that no image record references and
// that are not in inUse (layer directories, as LayerDirs returns them, of
// containers that still exist). It returns the number of layers removed.
func (s *Store) Prune(inUse []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, err := s.records()
	if err != nil {
		return 0, err
	}
	keep := map[string]bool{}
	for _, d := range inUse {
		keep[d] = true
	}
	for _, r := range recs {
		for _, l := range r.Layers {
			keep[s.layerDir(l)] = true
		}
	}
	entries, err := os.ReadDir(filepath.Join(s.root, "layers"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		dir := filepath.Join(s.root, "layers", e.Name())
		if keep[dir] {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			return n, fmt.Errorf("prune layer %s: %w", e.Name(), err)
		}
		n++
	}
	return n, nil
}
