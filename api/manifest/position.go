package manifest

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// LineOf returns the line where the field at path (as validation and this
// package write paths: spec.template.spec.containers[0].image,
// metadata.labels[app]) is written in the document, or the line of the
// nearest enclosing field that is written when the field itself is not (a
// required value, a default). It returns the document's line when nothing
// on the path is found, and 0 for a Document that did not come from Decode.
func (d Document) LineOf(path string) int {
	n := d.root
	if n == nil {
		return 0
	}
	line := n.Line
	for _, seg := range splitPath(path) {
		n = follow(n)
		if n == nil {
			break
		}
		var next *yaml.Node
		switch {
		case seg.index >= 0 && n.Kind == yaml.SequenceNode:
			if seg.index < len(n.Content) {
				next = n.Content[seg.index]
			}
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := follow(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == seg.name {
					next = n.Content[i+1]
					line = k.Line
					break
				}
			}
		}
		if next == nil {
			break
		}
		n = next
		if seg.index >= 0 {
			line = n.Line
		}
	}
	return line
}

// follow resolves aliases, giving up on cycles.
func follow(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			return nil
		}
		n = n.Alias
	}
	return n
}

type segment struct {
	name  string // field name or map key ("0" for an index, which may be a key too)
	index int    // list index, -1 when name is not a number
}

// splitPath splits "a.b[0].c[key.with.dots]" into a, b, [0], c, key.with.dots.
func splitPath(path string) []segment {
	var out []segment
	for len(path) > 0 {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return out
			}
			inner := path[1:end]
			if i, err := strconv.Atoi(inner); err == nil && i >= 0 {
				out = append(out, segment{name: inner, index: i})
			} else {
				out = append(out, segment{name: inner, index: -1})
			}
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			out = append(out, segment{name: path[:end], index: -1})
			path = path[end:]
		}
	}
	return out
}
