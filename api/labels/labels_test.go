package labels

import (
	"errors"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api"
)

func TestParseCanonical(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"   ", ""},
		{"app=web", "app=web"},
		{"app==web", "app=web"},
		{" app = web ", "app=web"},
		{"tier!=db", "tier!=db"},
		{"env in (prod,canary)", "env in (canary,prod)"},
		{"env in(prod, canary, prod)", "env in (canary,prod)"},
		{"env notin (dev)", "env notin (dev)"},
		{"has", "has"},
		{"!legacy", "!legacy"},
		{"! legacy", "!legacy"},
		{"app=web,tier!=db,env in (prod,canary),!legacy,has", "app=web,env in (canary,prod),has,!legacy,tier!=db"},
		{"a=", "a="},
		{"a in (,x)", "a in (,x)"},
		{"example.com/app=v1.2_3-x", "example.com/app=v1.2_3-x"},
		{"in=notin", "in=notin"},
		{"b=1,a=2,a=2", "a=2,b=1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sel, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := sel.String(); got != tt.want {
				t.Fatalf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			again, err := Parse(sel.String())
			if err != nil {
				t.Fatalf("reparse %q: %v", sel.String(), err)
			}
			if again.String() != sel.String() {
				t.Fatalf("round trip %q -> %q", sel.String(), again.String())
			}
			if sel.Empty() != (tt.want == "") {
				t.Fatalf("Empty() = %v for %q", sel.Empty(), tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		",",
		"a=b,",
		"a=b c",
		"a!b",
		"a in b",
		"a in (b",
		"a in (b c)",
		"a gt 1",
		"!",
		"!a=b",
		"a=b=c",
		"-a=b",
		"a=-b",
		"a=" + strings.Repeat("x", 64),
		strings.Repeat("k", 64) + "=v",
		"Bad_Prefix/a=b",
		"/a=b",
		"a/=b",
		"a=(b)",
		"(a)",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := Parse(in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error", in)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", in, err)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	set := Set{"app": "web", "env": "prod", "tier": "front", "example.com/team": "a"}
	tests := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"app=web", true},
		{"app=db", false},
		{"app!=db", true},
		{"app!=web", false},
		{"missing!=x", true},
		{"env in (prod,canary)", true},
		{"env in (dev,canary)", false},
		{"env notin (dev)", true},
		{"env notin (prod)", false},
		{"missing notin (a)", true},
		{"missing in (a)", false},
		{"app", true},
		{"missing", false},
		{"!missing", true},
		{"!app", false},
		{"example.com/team=a,app=web,!legacy", true},
		{"app=web,env=dev", false},
		{"missing=", false},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			sel := MustParse(tt.sel)
			if got := sel.Matches(set); got != tt.want {
				t.Fatalf("%q.Matches(%v) = %v, want %v", tt.sel, set, got, tt.want)
			}
		})
	}
}

func TestEverythingNothing(t *testing.T) {
	set := Set{"a": "b"}
	if !Everything().Matches(set) || !Everything().Empty() {
		t.Fatal("Everything must match and be empty")
	}
	if Nothing().Matches(set) || Nothing().Matches(Set{}) || Nothing().Empty() {
		t.Fatal("Nothing must match nothing and not be empty")
	}
	if !IsNothing(Nothing()) || IsNothing(Everything()) {
		t.Fatal("IsNothing wrong")
	}
}

func TestSelectorFromSet(t *testing.T) {
	sel := SelectorFromSet(Set{"b": "2", "a": "1"})
	if got, want := sel.String(), "a=1,b=2"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if !sel.Matches(Set{"a": "1", "b": "2", "c": "3"}) || sel.Matches(Set{"a": "1"}) {
		t.Fatal("SelectorFromSet matching wrong")
	}
	if !SelectorFromSet(nil).Empty() {
		t.Fatal("nil set must select everything")
	}
	if _, err := ValidatedSelectorFromSet(Set{"a": "bad value"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ValidatedSelectorFromSet error = %v, want ErrInvalid", err)
	}
	if got := (Set{"b": "2", "a": "1"}).String(); got != "a=1,b=2" {
		t.Fatalf("Set.String() = %q", got)
	}
}

func TestRequiresExactMatch(t *testing.T) {
	sel := MustParse("app=web,env in (prod),tier in (a,b)").(Requirements)
	for key, want := range map[string]string{"app": "web", "env": "prod"} {
		if v, ok := sel.RequiresExactMatch(key); !ok || v != want {
			t.Fatalf("RequiresExactMatch(%q) = %q, %v", key, v, ok)
		}
	}
	if _, ok := sel.RequiresExactMatch("tier"); ok {
		t.Fatal("tier has two values; no exact match")
	}
}

func TestFromLabelSelector(t *testing.T) {
	tests := []struct {
		name    string
		in      *api.LabelSelector
		want    string
		nothing bool
		wantErr bool
	}{
		{name: "nil", in: nil, nothing: true},
		{name: "empty", in: &api.LabelSelector{}, want: ""},
		{name: "labels", in: &api.LabelSelector{MatchLabels: map[string]string{"app": "web", "a": "b"}}, want: "a=b,app=web"},
		{name: "expressions", in: &api.LabelSelector{
			MatchLabels: map[string]string{"app": "web"},
			MatchExpressions: []*api.LabelSelectorRequirement{
				{Key: "env", Operator: "In", Values: []string{"prod", "canary"}},
				{Key: "tier", Operator: "NotIn", Values: []string{"db"}},
				{Key: "has", Operator: "Exists"},
				{Key: "legacy", Operator: "DoesNotExist"},
			},
		}, want: "app=web,env in (canary,prod),has,!legacy,tier notin (db)"},
		{name: "bad operator", in: &api.LabelSelector{MatchExpressions: []*api.LabelSelectorRequirement{{Key: "a", Operator: "Gt", Values: []string{"1"}}}}, wantErr: true},
		{name: "in without values", in: &api.LabelSelector{MatchExpressions: []*api.LabelSelectorRequirement{{Key: "a", Operator: "In"}}}, wantErr: true},
		{name: "exists with values", in: &api.LabelSelector{MatchExpressions: []*api.LabelSelectorRequirement{{Key: "a", Operator: "Exists", Values: []string{"x"}}}}, wantErr: true},
		{name: "bad key", in: &api.LabelSelector{MatchLabels: map[string]string{"a b": "c"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := FromLabelSelector(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if IsNothing(sel) != tt.nothing {
				t.Fatalf("IsNothing = %v, want %v", IsNothing(sel), tt.nothing)
			}
			if !tt.nothing && sel.String() != tt.want {
				t.Fatalf("String() = %q, want %q", sel.String(), tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	goodKeys := []string{"a", "A9", "a-b_c.d", "example.com/x", "a.b-c.d/e", strings.Repeat("k", 63), strings.Repeat("p", 63) + "/k"}
	badKeys := []string{"", "-a", "a-", "a b", "/a", "a/", "Ex.com/a", "a..b/c", "-a.com/b", strings.Repeat("k", 64), "a/b/c", strings.Repeat("p", 64) + "/k"}
	for _, k := range goodKeys {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	for _, k := range badKeys {
		if err := ValidateKey(k); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalid", k, err)
		}
	}
	for _, v := range []string{"", "a", "a.b_c-d", strings.Repeat("v", 63)} {
		if err := ValidateValue(v); err != nil {
			t.Errorf("ValidateValue(%q) = %v", v, err)
		}
	}
	for _, v := range []string{"-", "a/b", "a b", "_a", strings.Repeat("v", 64)} {
		if err := ValidateValue(v); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateValue(%q) = %v, want ErrInvalid", v, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "app=web", "a in (b,c)", "!a,b", "x notin (y)", "a==b,c!=d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		canon := sel.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form not stable: %q -> %q", canon, again.String())
		}
		set := Set{"app": "web", "a": "b", "x": ""}
		if sel.Matches(set) != again.Matches(set) {
			t.Fatalf("%q and its canonical form %q disagree", s, canon)
		}
	})
}

func BenchmarkMatches(b *testing.B) {
	sel := MustParse("app=web,tier!=db,env in (prod,canary),!legacy,has")
	set := Set{"app": "web", "tier": "front", "env": "prod", "has": "", "pod-template-hash": "abc123"}
	b.ReportAllocs()
	for b.Loop() {
		if !sel.Matches(set) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("app=web,tier!=db,env in (prod,canary),!legacy,has"); err != nil {
			b.Fatal(err)
		}
	}
}
