package flex

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
)

// Driver statuses.
const (
	StatusSuccess      = "Success"
	StatusFailure      = "Failure"
	StatusNotSupported = "Not supported"
)

// Option keys Coxswain adds to a driver's JSON options.
const (
	OptionFSType       = "coxswain.io/fsType"
	OptionReadWrite    = "coxswain.io/readwrite"
	OptionVolumeName   = "coxswain.io/volumeName"
	OptionPodName      = "coxswain.io/pod.name"
	OptionPodNamespace = "coxswain.io/pod.namespace"
	OptionPodUID       = "coxswain.io/pod.uid"
	OptionSecretPrefix = "coxswain.io/secret/"
)

// ErrDriver is returned when the driver failed, or its output was not a valid
// status.
var ErrDriver = errors.New("flex driver error")

// Result is a driver's reply.
type Result struct {
	Status       string        `json:"status"`
	Message      string        `json:"message,omitempty"`
	Device       string        `json:"device,omitempty"`
	Capabilities *Capabilities `json:"capabilities,omitempty"`
}

// Capabilities are what a driver reports from init.
type Capabilities struct {
	Attach bool `json:"attach"`
}

// Config names a driver.
type Config struct {
	// Driver is the driver's name, as flexVolume.driver refers to it
	// ("vendor.io/nfs"); it is also the plugin's name.
	Driver string
	// Path is the driver executable.
	Path string
	// Objects (optional) reads the Secret a flexVolume's secretRef names; a
	// volume with a secretRef fails to mount without it.
	Objects volume.ObjectGetter
	// Mounter checks that unmount left nothing mounted (volume.Linux{}).
	Mounter volume.OSMounter
}

// Plugin is a flex driver as a volume plugin (Mounter). Use Load.
type Plugin struct {
	cfg Config
}

// AttachablePlugin is a flex driver with the attach capability: a Plugin
// that is also a volume.Attacher.
type AttachablePlugin struct {
	*Plugin
}

var (
	_ volume.Mounter  = (*Plugin)(nil)
	_ volume.Attacher = (*AttachablePlugin)(nil)
)

// Load runs the driver's init and returns its plugin: a *Plugin, or an
// *AttachablePlugin if the driver can attach.
func Load(ctx context.Context, cfg Config) (volume.Mounter, error) {
	if cfg.Driver == "" || cfg.Path == "" || cfg.Mounter == nil {
		return nil, fmt.Errorf("flex: driver, path and mounter are required: %w", volume.ErrInvalidSpec)
	}
	p := &Plugin{cfg: cfg}
	res, err := p.call(ctx, "init")
	if err != nil {
		return nil, err
	}
	if res.Capabilities != nil && res.Capabilities.Attach {
		return &AttachablePlugin{Plugin: p}, nil
	}
	return p, nil
}

// Name returns the driver name.
func (p *Plugin) Name() string { return p.cfg.Driver }

// CanSupport reports whether spec is a flexVolume of this driver.
func (p *Plugin) CanSupport(spec *volume.Spec) bool {
	return source(spec).GetDriver() == p.cfg.Driver
}

func source(spec *volume.Spec) *api.FlexVolumeSource {
	if spec == nil {
		return nil
	}
	if spec.Volume != nil {
		return spec.Volume.GetFlexVolume()
	}
	return spec.PersistentVolume.GetSpec().GetFlexVolume()
}

// call runs the driver and decodes its reply. "Not supported" is an
// ErrNotSupported error, "Failure" (or a non-zero exit) an ErrDriver error.
func (p *Plugin) call(ctx context.Context, args ...string) (*Result, error) {
	cmd := exec.CommandContext(ctx, p.cfg.Path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("flex %s %s: %w", p.cfg.Driver, args[0], ctx.Err())
	}
	var res Result
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		return nil, fmt.Errorf("flex %s %s: bad output %q (exit: %v, stderr: %q): %w", p.cfg.Driver, args[0], truncate(stdout.String()), runErr, truncate(stderr.String()), ErrDriver)
	}
	switch res.Status {
	case StatusSuccess:
		if runErr != nil {
			return nil, fmt.Errorf("flex %s %s: reported success but %v: %w", p.cfg.Driver, args[0], runErr, ErrDriver)
		}
		return &res, nil
	case StatusNotSupported:
		return nil, fmt.Errorf("flex %s %s: %s: %w", p.cfg.Driver, args[0], res.Message, volume.ErrNotSupported)
	default:
		return nil, fmt.Errorf("flex %s %s: %s %s: %w", p.cfg.Driver, args[0], res.Status, res.Message, ErrDriver)
	}
}

func truncate(s string) string {
	if len(s) > 512 {
		return s[:512] + "..."
	}
	return s
}

// options builds the JSON options of a volume.
func (p *Plugin) options(ctx context.Context, spec *volume.Spec, pod *api.Pod) (string, error) {
	src := source(spec)
	opts := make(map[string]string, len(src.GetOptions())+8)
	for k, v := range src.GetOptions() {
		opts[k] = v
	}
	opts[OptionFSType] = src.GetFsType()
	rw := "rw"
	if src.GetReadOnly() || spec.ReadOnly {
		rw = "ro"
	}
	opts[OptionReadWrite] = rw
	opts[OptionVolumeName] = spec.Name()
	ns := ""
	if pod != nil {
		m := pod.GetMetadata()
		ns = m.GetNamespace()
		opts[OptionPodName], opts[OptionPodNamespace], opts[OptionPodUID] = m.GetName(), ns, m.GetUid()
	}
	if ref := src.GetSecretRef(); ref != nil && ref.GetName() != "" {
		if p.cfg.Objects == nil {
			return "", fmt.Errorf("flex %s: volume %q has a secretRef but the plugin has no object getter: %w", p.cfg.Driver, spec.Name(), volume.ErrInvalidSpec)
		}
		obj, err := p.cfg.Objects.Get(ctx, api.KindSecret, ns, ref.GetName())
		if err != nil {
			return "", fmt.Errorf("flex %s: volume %q: secret %s/%s: %w", p.cfg.Driver, spec.Name(), ns, ref.GetName(), err)
		}
		s, ok := obj.(*api.Secret)
		if !ok {
			return "", fmt.Errorf("flex %s: secret: got %T: %w", p.cfg.Driver, obj, store.ErrInvalid)
		}
		for k, v := range s.GetData() {
			opts[OptionSecretPrefix+k] = base64.StdEncoding.EncodeToString(v)
		}
		for k, v := range s.GetStringData() {
			opts[OptionSecretPrefix+k] = base64.StdEncoding.EncodeToString([]byte(v))
		}
	}
	b, err := json.Marshal(opts)
	if err != nil {
		return "", fmt.Errorf("flex %s: %w", p.cfg.Driver, err)
	}
	return string(b), nil
}

// SetUp creates req.Dir and has the driver mount the volume there.
func (p *Plugin) SetUp(ctx context.Context, req volume.MountRequest) (string, error) {
	if !p.CanSupport(req.Spec) {
		return "", fmt.Errorf("flex %s: volume %q: %w", p.cfg.Driver, req.Spec.Name(), volume.ErrNotSupported)
	}
	opts, err := p.options(ctx, req.Spec, req.Pod)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(req.Dir, 0o750); err != nil {
		return "", fmt.Errorf("flex %s: %w", p.cfg.Driver, err)
	}
	if _, err := p.call(ctx, "mount", req.Dir, opts); err != nil {
		return "", err
	}
	return req.Dir, nil
}

// TearDown has the driver unmount dir, checks nothing is left mounted there
// and removes it.
func (p *Plugin) TearDown(ctx context.Context, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := p.call(ctx, "unmount", dir); err != nil {
		return err
	}
	mounted, err := p.cfg.Mounter.IsMountPoint(dir)
	if err != nil {
		return fmt.Errorf("flex %s: %w", p.cfg.Driver, err)
	}
	if mounted {
		return fmt.Errorf("flex %s: %s still mounted after unmount: %w", p.cfg.Driver, dir, ErrDriver)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("flex %s: %w", p.cfg.Driver, err)
	}
	return nil
}

// Attach has the driver attach the volume to nodeName and returns the
// device path it reports.
func (p *AttachablePlugin) Attach(ctx context.Context, spec *volume.Spec, nodeName string) (string, error) {
	if !p.CanSupport(spec) {
		return "", fmt.Errorf("flex %s: volume %q: %w", p.cfg.Driver, spec.Name(), volume.ErrNotSupported)
	}
	opts, err := p.options(ctx, spec, nil)
	if err != nil {
		return "", err
	}
	res, err := p.call(ctx, "attach", opts, nodeName)
	if err != nil {
		return "", err
	}
	return res.Device, nil
}

// Detach has the driver detach the volume from nodeName.
func (p *AttachablePlugin) Detach(ctx context.Context, volumeName, nodeName string) error {
	if strings.TrimSpace(volumeName) == "" {
		return fmt.Errorf("flex %s: detach: empty volume name: %w", p.cfg.Driver, volume.ErrInvalidSpec)
	}
	_, err := p.call(ctx, "detach", volumeName, nodeName)
	return err
}
