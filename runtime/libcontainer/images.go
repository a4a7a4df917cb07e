package libcontainer

import (
	"context"

	"github.com/coxswain-io/coxswain/runtime"
)

// PullImage implements runtime.ImageService.
func (r *Runtime) PullImage(ctx context.Context, ref string, auth *runtime.AuthConfig) (*runtime.Image, error) {
	return r.images.Pull(ctx, ref, auth)
}

// ImageStatus implements runtime.ImageService.
func (r *Runtime) ImageStatus(ctx context.Context, ref string) (*runtime.Image, error) {
	return r.images.Get(ref)
}

// ListImages implements runtime.ImageService.
func (r *Runtime) ListImages(ctx context.Context) ([]*runtime.Image, error) {
	return r.images.List()
}

// RemoveImage implements runtime.ImageService. It then frees every layer no
// image and no existing container uses; layers a container still needed are
// freed by a later RemoveImage (of any reference) after that container is
// removed.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	if err := r.images.Remove(ref); err != nil {
		return err
	}
	recs, err := r.listContainerRecords()
	if err != nil {
		return err
	}
	var inUse []string
	for _, rec := range recs {
		inUse = append(inUse, rec.Layers...)
	}
	_, err = r.images.Prune(inUse)
	return err
}
