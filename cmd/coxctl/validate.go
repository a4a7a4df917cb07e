package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/manifest"
	"github.com/coxswain-io/coxswain/api/validation"
)

// fileList is a repeatable -f flag.
type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(s string) error { *f = append(*f, s); return nil }

func validateCommand() command {
	return command{
		name:    "validate",
		summary: "decode, default and validate manifests offline",
		run:     runValidate,
	}
}

// runValidate decodes, defaults and validates every object in the named
// files, directories (every .yaml, .yml and .json file below them, in
// lexical order) or standard input ("-"). It prints one line per valid
// object and one line per problem, and exits non-zero if any object is
// invalid or any input could not be decoded.
func runValidate(ctx context.Context, e env, args []string) int {
	fset := flag.NewFlagSet("validate", flag.ContinueOnError)
	fset.SetOutput(e.stderr)
	var files fileList
	fset.Var(&files, "f", "manifest file, directory or - for standard input (repeatable)")
	quiet := fset.Bool("q", false, "print only problems")
	fset.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: coxctl validate -f FILE|DIR|- [-f ...] [-q]")
		fmt.Fprintln(e.stderr, "\nDecodes, defaults and validates Kubernetes-shaped manifests offline. Prints")
		fmt.Fprintln(e.stderr, "'ok APIVERSION KIND NAMESPACE/NAME' per valid object and one line per problem;")
		fmt.Fprintln(e.stderr, "exits 1 if any object is invalid, 2 on bad usage, 3 if an input cannot be read.")
		fmt.Fprintln(e.stderr)
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	files = append(files, fset.Args()...)
	if len(files) == 0 {
		fset.Usage()
		return exitUsage
	}
	inputs, err := expandInputs(files)
	if err != nil {
		fmt.Fprintf(e.stderr, "coxctl validate: %v\n", err)
		return exitIOError
	}
	reg := api.Builtin()
	code := exitOK
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			fmt.Fprintf(e.stderr, "coxctl validate: %v\n", err)
			return exitFailed
		}
		data, err := readInput(in, e.stdin)
		if err != nil {
			fmt.Fprintf(e.stderr, "coxctl validate: %v\n", err)
			code = exitIOError
			continue
		}
		if !validateStream(e.stdout, in, data, reg, *quiet) && code == exitOK {
			code = exitFailed
		}
	}
	return code
}

// validateStream checks every document of one input and reports whether all
// were valid.
func validateStream(w io.Writer, name string, data []byte, reg *api.Registry, quiet bool) bool {
	ok := true
	docs, err := manifest.DecodeDocuments(data, reg)
	for _, d := range docs {
		if d.Err != nil {
			ok = false
			for _, line := range errorLines(d.Err) {
				fmt.Fprintf(w, "error %s: %s\n", name, line)
			}
			continue
		}
		info, kerr := reg.KindOf(d.Object)
		id := d.APIVersion + " " + d.Kind + " " + objectName(d.Object)
		if kerr == nil {
			id = info.APIVersion + " " + info.Kind + " " + objectName(d.Object)
		}
		validation.Default(d.Object)
		if verr := validation.ValidateObject(d.Object); verr != nil {
			ok = false
			var list validation.ErrorList
			if !errors.As(verr, &list) {
				fmt.Fprintf(w, "invalid %s (%s, document %d): %v\n", id, name, d.Index, verr)
				continue
			}
			for _, fe := range list {
				fmt.Fprintf(w, "invalid %s (%s, document %d, line %d): %s\n", id, name, d.Index, d.LineOf(fe.Path), fe)
			}
			continue
		}
		if !quiet {
			fmt.Fprintf(w, "ok %s\n", id)
		}
	}
	if err != nil {
		ok = false
		for _, line := range errorLines(err) {
			fmt.Fprintf(w, "error %s: %s\n", name, line)
		}
	}
	return ok
}

// errorLines splits an error into its lines, one per problem.
func errorLines(err error) []string {
	return strings.Split(err.Error(), "\n")
}

// objectName is "namespace/name", or "name" when there is no namespace.
func objectName(obj api.Object) string {
	md := obj.GetMetadata()
	name := md.GetName()
	if name == "" && md.GetGenerateName() != "" {
		name = md.GetGenerateName() + "*"
	}
	if md.GetNamespace() != "" {
		return md.GetNamespace() + "/" + name
	}
	return name
}

// expandInputs turns the -f arguments into a list of files ("-" stays "-").
func expandInputs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if a == "-" {
			out = append(out, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".yaml", ".yml", ".json":
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}
