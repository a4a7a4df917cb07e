package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the current output")

// runCmd runs coxctl with args and returns its stdout, stderr and exit code.
func runCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}, args)
	return out.String(), errOut.String(), code
}

// TestBrokenManifestsGolden runs validate on every broken manifest and
// compares the output with its .golden file (go test -update rewrites them).
func TestBrokenManifestsGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/broken/*.*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, stderr, code := runCmd(t, "", "validate", "-f", f)
			if code != exitFailed {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, exitFailed, stderr)
			}
			golden := strings.TrimSuffix(f, filepath.Ext(f)) + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, out, want)
			}
			if !strings.Contains(out, "error ") && !strings.Contains(out, "invalid ") {
				t.Errorf("no problem reported:\n%s", out)
			}
		})
	}
	if n < 10 {
		t.Fatalf("found only %d broken manifests", n)
	}
}

// TestExamplesAreValidAndCoverEveryKind validates examples/manifests and
// checks that every built-in kind appears there.
func TestExamplesAreValidAndCoverEveryKind(t *testing.T) {
	out, stderr, code := runCmd(t, "", "validate", "-f", "../../examples/manifests")
	if code != exitOK {
		t.Fatalf("exit code %d\n%s%s", code, out, stderr)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 4 || fields[0] != "ok" {
			t.Fatalf("unexpected line %q", line)
		}
		seen[fields[1]+" "+fields[2]] = true
	}
	var missing []string
	for _, k := range api.BuiltinKinds() {
		if !seen[k.APIVersion+" "+k.Kind] {
			missing = append(missing, k.APIVersion+" "+k.Kind)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("examples/manifests has no object of: %s", strings.Join(missing, ", "))
	}
}

func TestValidateStdinAndUsage(t *testing.T) {
	tests := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		stdout   string
		inStderr string
	}{
		{"stdin ok", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", []string{"validate", "-f", "-"}, exitOK, "ok v1 Namespace shop\n", ""},
		{"stdin quiet", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", []string{"validate", "-q", "-"}, exitOK, "", ""},
		{"stdin invalid", "apiVersion: v1\nkind: Namespace\nmetadata: {name: Shop}\n", []string{"validate", "-f", "-"}, exitFailed,
			"invalid v1 Namespace Shop (-, document 0, line 3): metadata.name: invalid value \"Shop\": must be a lower-case RFC 1123 label: at most 63 characters of a-z, 0-9 and '-', starting and ending with an alphanumeric character\n", ""},
		{"no files", "", []string{"validate"}, exitUsage, "", "usage: coxctl validate"},
		{"missing file", "", []string{"validate", "-f", "testdata/nope.yaml"}, exitIOError, "", "no such file"},
		{"bad flag", "", []string{"validate", "-x"}, exitUsage, "", "flag provided but not defined"},
		{"help", "", []string{"validate", "-h"}, exitOK, "", "usage: coxctl validate"},
		{"no command", "", nil, exitUsage, "", "usage: coxctl COMMAND"},
		{"unknown command", "", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runCmd(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if out != tt.stdout {
				t.Errorf("stdout = %q, want %q", out, tt.stdout)
			}
			if !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.inStderr)
			}
		})
	}
}
