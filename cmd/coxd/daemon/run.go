package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/coxswain-io/coxswain/api"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// modes are coxd's subcommands.
var modes = map[string]string{
	"server": "run a control-plane member (store, API, controllers, scheduler)",
	"node":   "run a node agent against a list of API servers",
	"all":    "run a control-plane member and a node agent in one process",
}

// Options extend coxd beyond its flags, for programs that embed it.
type Options struct {
	// Registry is the kinds the control plane serves and the node's client
	// decodes (default api.NewBuiltinRegistry()): a program that runs coxd
	// with kinds of its own registers them here. Every member and node
	// must use the same kinds.
	Registry *api.Registry
}

// Run parses the mode (server, node or all) and its flags from args and
// runs it until ctx ends; it returns the process exit code. Usage and
// errors go to stderr, and so do the logs. A program that calls Run must
// call libcontainer.Init first, from an init function (see package
// runtime/libcontainer), since the runtime re-executes it as each
// container's init.
func Run(ctx context.Context, args []string, stderr io.Writer, opts Options) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	mode := args[0]
	if _, ok := modes[mode]; !ok {
		fmt.Fprintf(stderr, "coxd: unknown mode %q\n\n", mode)
		usage(stderr)
		return exitUsage
	}
	cfg := defaultConfig()
	fs := cfg.flags(mode, stderr)
	if err := parseFlags(fs, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "coxd %s: %v\n", mode, err)
		return exitUsage
	}
	cfg.Mode = mode
	cfg.Registry = opts.Registry
	if cfg.Registry == nil {
		cfg.Registry = api.NewBuiltinRegistry()
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "coxd %s: %v\n", mode, err)
		return exitUsage
	}
	log, err := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		fmt.Fprintf(stderr, "coxd %s: %v\n", mode, err)
		return exitUsage
	}
	slog.SetDefault(log)
	if err := runMode(ctx, cfg, log); err != nil {
		log.Error("coxd stopped", "mode", mode, "err", err)
		return exitFailed
	}
	log.Info("coxd stopped", "mode", mode)
	return exitOK
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: coxd MODE [flags]")
	fmt.Fprintln(w, "\nmodes:")
	names := make([]string, 0, len(modes))
	for m := range modes {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		fmt.Fprintf(w, "  %-8s %s\n", m, modes[m])
	}
	fmt.Fprintln(w, "\nRun 'coxd MODE -h' for a mode's flags.")
}

// parseFlags parses args, after applying the file named by -config (if
// any) so that the command line wins over the file.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cf := fs.Lookup("config")
	if cf == nil || cf.Value.String() == "" {
		return nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	data, err := os.ReadFile(cf.Value.String())
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	values := map[string]any{}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return fmt.Errorf("config file %s: %w", cf.Value.String(), err)
	}
	for name, v := range values {
		if fs.Lookup(name) == nil {
			return fmt.Errorf("config file %s: unknown setting %q", cf.Value.String(), name)
		}
		if set[name] {
			continue
		}
		var s string
		switch x := v.(type) {
		case []any:
			parts := make([]string, len(x))
			for i, p := range x {
				parts[i] = fmt.Sprint(p)
			}
			s = strings.Join(parts, ",")
		case float64:
			s = fmt.Sprint(x)
			if x == float64(int64(x)) {
				s = fmt.Sprint(int64(x))
			}
		default:
			s = fmt.Sprint(x)
		}
		if err := fs.Set(name, s); err != nil {
			return fmt.Errorf("config file %s: %s: %w", cf.Value.String(), name, err)
		}
	}
	return nil
}

// newLogger builds the process logger.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
}

// servePprof serves net/http/pprof on addr until ctx ends.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("pprof listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("pprof: %w", err)
	}
	return nil
}
