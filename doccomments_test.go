package coxswain_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// docSkipDirs lists module-relative directories the doc-comment check does
// not walk: bench/raft/etcd is a separate module.
var docSkipDirs = map[string]string{
	"bench/raft/etcd": "separate Go module",
}

// TestDocComments enforces the project rule that every package has a
// package comment and every exported identifier has a doc comment that
// starts with its name. It parses every non-generated, non-test .go file of
// the module (skipping *.pb.go and docSkipDirs) and reports each violation
// as file:line.
func TestDocComments(t *testing.T) {
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := checkDocComments(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		t.Logf("%d doc-comment problems", len(problems))
	}
}

// docPackage accumulates what the check learned about one directory's
// package.
type docPackage struct {
	name      string
	hasPkgDoc bool
}

// checkDocComments walks the module at root and returns one message per
// missing or misnamed doc comment, sorted. Generated files (*.pb.go or
// marked "Code generated ... DO NOT EDIT.") count towards their package's
// package comment but their declarations are not checked.
func checkDocComments(root string) ([]string, error) {
	fset := token.NewFileSet()
	var problems []string
	pkgs := map[string]*docPackage{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			base := d.Name()
			if rel != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || base == "testdata" || base == "vendor") {
				return filepath.SkipDir
			}
			if _, skip := docSkipDirs[rel]; skip {
				return filepath.SkipDir
			}
			if rel != "." {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // nested module
				}
			}
			return nil
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		// Every package needs a package comment, even one made only of
		// generated files (give it a doc.go); generated files themselves
		// are not checked further.
		dir := filepath.ToSlash(filepath.Dir(rel))
		p := pkgs[dir]
		if p == nil {
			p = &docPackage{name: f.Name.Name}
			pkgs[dir] = p
		}
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			p.hasPkgDoc = true
		}
		if strings.HasSuffix(name, ".pb.go") || ast.IsGenerated(f) {
			return nil
		}
		problems = append(problems, checkFileDocs(fset, rel, f)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for dir, p := range pkgs {
		if !p.hasPkgDoc {
			problems = append(problems, dir+": package "+p.name+" has no package comment (add a doc.go)")
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// checkFileDocs returns the exported declarations of f that lack a doc
// comment starting with their name.
func checkFileDocs(fset *token.FileSet, rel string, f *ast.File) []string {
	var out []string
	// report checks doc for the identifier name, shown in messages as
	// prefix+name (prefix carries a method's receiver type).
	report := func(pos token.Pos, what, prefix, name string, doc *ast.CommentGroup) {
		where := fset.Position(pos)
		loc := rel + ":" + strconv.Itoa(where.Line)
		if doc == nil || strings.TrimSpace(doc.Text()) == "" {
			out = append(out, loc+": exported "+what+" "+prefix+name+" has no doc comment")
			return
		}
		if !docStartsWith(doc.Text(), name) {
			out = append(out, loc+": doc comment of exported "+what+" "+prefix+name+" should begin \""+name+" ...\"")
		}
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil {
				report(d.Pos(), "func", "", d.Name.Name, d.Doc)
				continue
			}
			recv := receiverTypeName(d.Recv)
			if recv == "" || !ast.IsExported(recv) {
				continue
			}
			report(d.Pos(), "method", recv+".", d.Name.Name, d.Doc)
		case *ast.GenDecl:
			grouped := d.Lparen.IsValid()
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					doc := s.Doc
					if doc == nil && !grouped {
						doc = d.Doc
					}
					report(s.Pos(), "type", "", s.Name.Name, doc)
				case *ast.ValueSpec:
					kind := "var"
					if d.Tok == token.CONST {
						kind = "const"
					}
					for _, n := range s.Names {
						if !n.IsExported() {
							continue
						}
						switch {
						case s.Doc != nil && strings.TrimSpace(s.Doc.Text()) != "":
							if !grouped && len(s.Names) == 1 {
								report(n.Pos(), kind, "", n.Name, s.Doc)
							}
						case grouped && d.Doc != nil && strings.TrimSpace(d.Doc.Text()) != "":
							// documented by the group comment
						case grouped && s.Comment != nil:
							// documented by a trailing line comment in the group
						case !grouped:
							report(n.Pos(), kind, "", n.Name, d.Doc)
						default:
							report(n.Pos(), kind, "", n.Name, nil)
						}
					}
				}
			}
		}
	}
	return out
}

// receiverTypeName returns the base type name of a method receiver, such as
// "Store" for (s *Store) or (c *Cache[K, V]).
func receiverTypeName(recv *ast.FieldList) string {
	if recv == nil || len(recv.List) == 0 {
		return ""
	}
	t := recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.ParenExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// docStartsWith reports whether doc begins with name followed by a space
// ("Foo is ...", not "Foo: ..."), optionally after an article ("A Foo is
// ...") or as a "Deprecated:" note.
func docStartsWith(doc, name string) bool {
	doc = strings.TrimSpace(doc)
	for _, article := range []string{"A ", "An ", "The "} {
		doc = strings.TrimPrefix(doc, article)
	}
	if strings.HasPrefix(doc, "Deprecated:") {
		return true
	}
	if !strings.HasPrefix(doc, name) {
		return false
	}
	rest := doc[len(name):]
	return rest == "" || rest[0] == ' ' || rest[0] == '\n'
}

// TestCheckDocCommentsFindsProblems runs the checker over small packages
// written to a temporary directory, so a checker that silently accepts
// everything cannot make TestDocComments pass.
func TestCheckDocCommentsFindsProblems(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "documented",
			files: map[string]string{"p/p.go": `// Package p is documented.
package p

// Foo is a documented type.
type Foo struct{}

// Bar does nothing.
func (Foo) Bar() {}

// A Widget is documented with an article.
type Widget int

// Limits of the package, documented as a group.
const (
	Min = 1
	Max = 2
)

func (f Foo) unexported() {}

type hidden struct{}

func (hidden) Exported() {}
`},
		},
		{
			name: "missing",
			files: map[string]string{"p/p.go": `package p

type Foo struct{}

func (*Foo) Bar() {}

func Baz() {}

const (
	X = 1
)

var Y = 2
`},
			want: []string{
				"p/p.go:10: exported const X has no doc comment",
				"p/p.go:13: exported var Y has no doc comment",
				"p/p.go:3: exported type Foo has no doc comment",
				"p/p.go:5: exported method Foo.Bar has no doc comment",
				"p/p.go:7: exported func Baz has no doc comment",
				"p: package p has no package comment (add a doc.go)",
			},
		},
		{
			name: "misnamed",
			files: map[string]string{"q/doc.go": "// Package q is documented.\npackage q\n", "q/q.go": `package q

import "errors"

// ErrBad: something went wrong.
var ErrBad = errors.New("bad")

// Returns a generic thing.
func Get[T any]() T { var z T; return z }

// Cache is generic.
type Cache[K comparable, V any] struct{}

// Gets a value.
func (c *Cache[K, V]) Get(k K) V { var z V; return z }
`},
			want: []string{
				"q/q.go:15: doc comment of exported method Cache.Get should begin \"Get ...\"",
				"q/q.go:6: doc comment of exported var ErrBad should begin \"ErrBad ...\"",
				"q/q.go:9: doc comment of exported func Get should begin \"Get ...\"",
			},
		},
		{
			name:  "generated package needs doc.go",
			files: map[string]string{"g/g.pb.go": "// Code generated by protoc-gen-go. DO NOT EDIT.\n\npackage g\n\ntype Msg struct{}\n"},
			want:  []string{"g: package g has no package comment (add a doc.go)"},
		},
		{
			name: "skipped directories",
			files: map[string]string{
				"testdata/t.go":        "package t\n\nfunc F() {}\n",
				"nested/go.mod":        "module example.com/nested\n",
				"nested/n.go":          "package nested\n\nfunc F() {}\n",
				"r/r_test.go":          "package r\n\nfunc F() {}\n",
				"r/doc.go":             "// Package r is documented.\npackage r\n",
				"bench/raft/etcd/e.go": "package main\n\nfunc F() {}\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, content := range tt.files {
				path := filepath.Join(root, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := checkDocComments(root)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("checkDocComments:\ngot  %q\nwant %q", got, tt.want)
			}
		})
	}
}
