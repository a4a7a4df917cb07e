package labels

import (
	"fmt"
)

// Parse reads a selector in the Kubernetes syntax:
//
//	selector    = [ requirement { "," requirement } ]
//	requirement = key | "!" key | key ("=" | "==" | "!=") value
//	            | key ("in" | "notin") "(" value { "," value } ")"
//
// Whitespace around tokens is ignored. An empty string selects everything.
// Every error wraps ErrInvalid and names the offset where parsing stopped.
func Parse(s string) (Selector, error) {
	p := parser{s: s}
	reqs, err := p.parse()
	if err != nil {
		return nil, err
	}
	return NewSelector(reqs...), nil
}

// MustParse is Parse for constant selectors; it panics on error.
func MustParse(s string) Selector {
	sel, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return sel
}

type parser struct {
	s   string
	pos int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isSpecial(c byte) bool {
	return isSpace(c) || c == ',' || c == '=' || c == '!' || c == '(' || c == ')'
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %q at offset %d: %s", ErrInvalid, p.s, p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

func (p *parser) eof() bool { return p.pos >= len(p.s) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}

// ident reads a run of non-special characters (possibly empty).
func (p *parser) ident() string {
	start := p.pos
	for p.pos < len(p.s) && !isSpecial(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *parser) parse() ([]Requirement, error) {
	p.skipSpace()
	if p.eof() {
		return nil, nil
	}
	var reqs []Requirement
	for {
		r, err := p.requirement()
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
		p.skipSpace()
		if p.eof() {
			return reqs, nil
		}
		if p.peek() != ',' {
			return nil, p.errorf("expected ',' or end, found %q", p.peek())
		}
		p.pos++
	}
}

func (p *parser) key() (string, error) {
	p.skipSpace()
	k := p.ident()
	if k == "" {
		if p.eof() {
			return "", p.errorf("expected a label key, found end")
		}
		return "", p.errorf("expected a label key, found %q", p.peek())
	}
	return k, nil
}

func (p *parser) requirement() (Requirement, error) {
	p.skipSpace()
	if p.peek() == '!' {
		p.pos++
		k, err := p.key()
		if err != nil {
			return Requirement{}, err
		}
		return p.build(k, DoesNotExist, nil)
	}
	k, err := p.key()
	if err != nil {
		return Requirement{}, err
	}
	p.skipSpace()
	if p.eof() || p.peek() == ',' {
		return p.build(k, Exists, nil)
	}
	switch {
	case p.peek() == '=':
		p.pos++
		if p.peek() == '=' {
			p.pos++
		}
		return p.build(k, Equals, []string{p.value()})
	case p.peek() == '!':
		p.pos++
		if p.peek() != '=' {
			return Requirement{}, p.errorf("expected '=' after '!'")
		}
		p.pos++
		return p.build(k, NotEquals, []string{p.value()})
	}
	opPos := p.pos
	word := p.ident()
	var op Operator
	switch word {
	case "in":
		op = In
	case "notin":
		op = NotIn
	default:
		p.pos = opPos
		return Requirement{}, p.errorf("expected an operator (=, ==, !=, in, notin), found %q", p.rest())
	}
	p.skipSpace()
	if p.peek() != '(' {
		return Requirement{}, p.errorf("expected '(' after %s", op)
	}
	p.pos++
	var values []string
	for {
		values = append(values, p.value())
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
			continue
		case ')':
			p.pos++
			return p.build(k, op, values)
		}
		if p.eof() {
			return Requirement{}, p.errorf("missing ')'")
		}
		return Requirement{}, p.errorf("expected ',' or ')' in value list, found %q", p.peek())
	}
}

func (p *parser) value() string {
	p.skipSpace()
	return p.ident()
}

func (p *parser) rest() string {
	r := p.s[p.pos:]
	if len(r) > 16 {
		r = r[:16] + "..."
	}
	return r
}

func (p *parser) build(key string, op Operator, values []string) (Requirement, error) {
	r, err := NewRequirement(key, op, values)
	if err != nil {
		return Requirement{}, fmt.Errorf("parse %q: %w", p.s, err)
	}
	return r, nil
}
