package manifest

import (
	"encoding/json"
	"errors"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxJSONDepth matches yaml.v3's nesting limit.
const maxJSONDepth = 10000

// errNotJSON makes DecodeDocuments fall back to the YAML parser, which
// accepts JSON too and reports syntax errors in YAML terms.
var errNotJSON = errors.New("not JSON")

// parseJSONStream parses data as one or more JSON values separated by
// whitespace into yaml.Node trees with line numbers, the shape the YAML
// parser produces, several times faster. Any deviation from strict JSON
// returns errNotJSON.
func parseJSONStream(data []byte) ([]*yaml.Node, error) {
	p := &jsonParser{data: data, line: 1}
	var docs []*yaml.Node
	for {
		p.space()
		if p.pos == len(p.data) {
			return docs, nil
		}
		n, err := p.value(0)
		if err != nil {
			return nil, err
		}
		docs = append(docs, n)
	}
}

type jsonParser struct {
	data []byte
	pos  int
	line int
	// slab hands out nodes in blocks, and strs interns short strings
	// (field names and common values), to keep allocations down.
	slab []yaml.Node
	strs map[string]string
}

func (p *jsonParser) node(kind yaml.Kind, tag, value string, line int) *yaml.Node {
	if len(p.slab) == 0 {
		p.slab = make([]yaml.Node, 64)
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	n.Kind, n.Tag, n.Value, n.Line = kind, tag, value, line
	return n
}

// intern returns b as a string, sharing one copy of each short string.
func (p *jsonParser) intern(b []byte) string {
	if len(b) > 32 {
		return string(b)
	}
	if s, ok := p.strs[string(b)]; ok {
		return s
	}
	if p.strs == nil {
		p.strs = make(map[string]string)
	}
	s := string(b)
	p.strs[s] = s
	return s
}

func (p *jsonParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case '\n':
			p.line++
		case ' ', '\t', '\r':
		default:
			return
		}
		p.pos++
	}
}

func (p *jsonParser) value(depth int) (*yaml.Node, error) {
	if depth > maxJSONDepth {
		return nil, errNotJSON
	}
	p.space()
	if p.pos == len(p.data) {
		return nil, errNotJSON
	}
	line := p.line
	switch c := p.data[p.pos]; {
	case c == '{':
		p.pos++
		n := p.node(yaml.MappingNode, "!!map", "", line)
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			return n, nil
		}
		for {
			p.space()
			if p.pos == len(p.data) || p.data[p.pos] != '"' {
				return nil, errNotJSON
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.pos == len(p.data) || p.data[p.pos] != ':' {
				return nil, errNotJSON
			}
			p.pos++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, k, v)
			p.space()
			if p.pos == len(p.data) {
				return nil, errNotJSON
			}
			switch p.data[p.pos] {
			case ',':
				p.pos++
			case '}':
				p.pos++
				return n, nil
			default:
				return nil, errNotJSON
			}
		}
	case c == '[':
		p.pos++
		n := p.node(yaml.SequenceNode, "!!seq", "", line)
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return n, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
			p.space()
			if p.pos == len(p.data) {
				return nil, errNotJSON
			}
			switch p.data[p.pos] {
			case ',':
				p.pos++
			case ']':
				p.pos++
				return n, nil
			default:
				return nil, errNotJSON
			}
		}
	case c == '"':
		return p.str()
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []struct{ word, tag string }{{"true", "!!bool"}, {"false", "!!bool"}, {"null", "!!null"}} {
			if len(p.data)-p.pos >= len(lit.word) && string(p.data[p.pos:p.pos+len(lit.word)]) == lit.word {
				p.pos += len(lit.word)
				return p.node(yaml.ScalarNode, lit.tag, lit.word, line), nil
			}
		}
		return nil, errNotJSON
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, errNotJSON
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) number() (*yaml.Node, error) {
	start, line := p.pos, p.line
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	intStart := p.pos
	if digits() == 0 || (p.data[intStart] == '0' && p.pos-intStart > 1) {
		return nil, errNotJSON
	}
	tag := "!!int"
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, errNotJSON
		}
		tag = "!!float"
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, errNotJSON
		}
		tag = "!!float"
	}
	return p.node(yaml.ScalarNode, tag, p.intern(p.data[start:p.pos]), line), nil
}

// str scans a JSON string starting at the opening quote.
func (p *jsonParser) str() (*yaml.Node, error) {
	start, line := p.pos, p.line
	p.pos++
	escaped := false
	for {
		if p.pos >= len(p.data) {
			return nil, errNotJSON
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			var s string
			if escaped {
				if !utf8.Valid(raw) {
					return nil, errNotJSON
				}
				if err := json.Unmarshal(raw, &s); err != nil {
					return nil, errNotJSON
				}
			} else {
				if !utf8.Valid(raw) {
					return nil, errNotJSON
				}
				s = p.intern(raw[1 : len(raw)-1])
			}
			return p.node(yaml.ScalarNode, "!!str", s, line), nil
		case c == '\\':
			escaped = true
			p.pos += 2
		case c < 0x20:
			return nil, errNotJSON
		default:
			p.pos++
		}
	}
}
