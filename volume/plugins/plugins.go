package plugins

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/configmap"
	"github.com/coxswain-io/coxswain/volume/downwardapi"
	"github.com/coxswain-io/coxswain/volume/emptydir"
	"github.com/coxswain-io/coxswain/volume/flex"
	"github.com/coxswain-io/coxswain/volume/hostpath"
	"github.com/coxswain-io/coxswain/volume/projected"
	"github.com/coxswain-io/coxswain/volume/pvc"
	"github.com/coxswain-io/coxswain/volume/secret"
)

// Config configures the built-in plugins.
type Config struct {
	// Objects reads ConfigMaps, Secrets, claims and volumes; a store.Store.
	// Required.
	Objects volume.ObjectGetter
	// Mounter makes kernel mounts; volume.Linux{} if nil.
	Mounter volume.OSMounter
	// NodeAllocatable (optional) gives downward API values for unset limits.
	NodeAllocatable map[string]string
	// FlexDrivers are out-of-process drivers to load (init is run now);
	// their Objects and Mounter default to the ones above.
	FlexDrivers []flex.Config
	// Extra plugins registered after the built-in ones (a provisioner, a
	// vendor's in-process plugin, a fake).
	Extra []volume.Plugin
	// Log receives the registry's logs; discarded if nil.
	Log *slog.Logger
}

// Validate checks the config and fills in defaults.
func (c *Config) Validate() error {
	if c.Objects == nil {
		return fmt.Errorf("volume plugins: Objects is required: %w", volume.ErrInvalidSpec)
	}
	if c.Mounter == nil {
		c.Mounter = volume.Linux{}
	}
	return nil
}

// NewRegistry returns a registry with the built-in plugins, the flex
// drivers and the extra plugins.
func NewRegistry(ctx context.Context, cfg Config) (*volume.Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	reg := volume.NewRegistry(cfg.Log)
	all := []volume.Plugin{
		emptydir.New(cfg.Mounter),
		hostpath.New(),
		configmap.New(cfg.Objects),
		secret.New(cfg.Objects, cfg.Mounter),
		downwardapi.New(cfg.NodeAllocatable),
		projected.New(cfg.Objects, cfg.Mounter, cfg.NodeAllocatable),
		pvc.New(cfg.Objects, cfg.Mounter, pvc.WithPlugins(reg)),
	}
	for _, fc := range cfg.FlexDrivers {
		if fc.Objects == nil {
			fc.Objects = cfg.Objects
		}
		if fc.Mounter == nil {
			fc.Mounter = cfg.Mounter
		}
		p, err := flex.Load(ctx, fc)
		if err != nil {
			return nil, fmt.Errorf("volume plugins: %w", err)
		}
		all = append(all, p)
	}
	all = append(all, cfg.Extra...)
	for _, p := range all {
		if err := reg.Register(p); err != nil {
			return nil, fmt.Errorf("volume plugins: %w", err)
		}
	}
	return reg, nil
}
