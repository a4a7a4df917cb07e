package fields

import (
	"fmt"
	"strings"
)

// Parse reads a field selector: comma-separated terms "path=value",
// "path==value" or "path!=value". Whitespace around paths and values is
// ignored; '\' escapes ',', '=', '!' and '\' in values.
// An empty string selects everything. Errors wrap ErrInvalid.
func Parse(s string) (Selector, error) {
	if strings.TrimSpace(s) == "" {
		return Everything(), nil
	}
	var reqs []Requirement
	for _, term := range splitTerms(s) {
		r, err := parseTerm(term)
		if err != nil {
			return nil, fmt.Errorf("parse %q: %w", s, err)
		}
		reqs = append(reqs, r)
	}
	return NewSelector(reqs...)
}

// MustParse is Parse for constant selectors; it panics on error.
func MustParse(s string) Selector {
	sel, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return sel
}

// splitTerms splits at unescaped commas.
func splitTerms(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ',':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func parseTerm(term string) (Requirement, error) {
	for i := 0; i < len(term); i++ {
		var op Operator
		var n int
		switch {
		case term[i] == '\\':
			return Requirement{}, fmt.Errorf("%w: term %q: escape in field path", ErrInvalid, term)
		case strings.HasPrefix(term[i:], "!="):
			op, n = NotEquals, 2
		case strings.HasPrefix(term[i:], "=="):
			op, n = Equals, 2
		case term[i] == '=':
			op, n = Equals, 1
		case term[i] == '!':
			return Requirement{}, fmt.Errorf("%w: term %q: '!' must be followed by '='", ErrInvalid, term)
		default:
			continue
		}
		path := strings.TrimSpace(term[:i])
		if err := validatePath(path); err != nil {
			return Requirement{}, fmt.Errorf("term %q: %w", term, err)
		}
		for _, c := range []byte(path) {
			if !(c == '.' || c == '_' || c == '-' || c == '/' || isAlnum(c)) {
				return Requirement{}, fmt.Errorf("%w: term %q: character %q not allowed in a field path", ErrInvalid, term, c)
			}
		}
		value, err := unescape(strings.TrimSpace(term[i+n:]))
		if err != nil {
			return Requirement{}, fmt.Errorf("term %q: %w", term, err)
		}
		return Requirement{Path: path, Operator: op, Value: value}, nil
	}
	return Requirement{}, fmt.Errorf("%w: term %q has no operator (=, ==, !=)", ErrInvalid, term)
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func unescape(s string) (string, error) {
	if !strings.ContainsAny(s, `\=!`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) {
				return "", fmt.Errorf("%w: value %q ends with an escape", ErrInvalid, s)
			}
			i++
			switch s[i] {
			case '\\', ',', '=', '!':
				b.WriteByte(s[i])
			default:
				return "", fmt.Errorf("%w: value %q: invalid escape \\%c", ErrInvalid, s, s[i])
			}
		case '=', '!':
			return "", fmt.Errorf("%w: value %q: unescaped %q", ErrInvalid, s, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// EscapeValue escapes '\', ',', '=' and '!' in a value for selector text.
func EscapeValue(v string) string {
	if !strings.ContainsAny(v, `\,=!`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\', ',', '=', '!':
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
