package manifest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
	"gopkg.in/yaml.v3"

	"github.com/coxswain-io/coxswain/api"
)

// maxErrorsPerDocument bounds how many field errors one document reports.
const maxErrorsPerDocument = 50

// maxNodeVisits bounds the work one document may cause, so that YAML aliases
// cannot expand exponentially ("billion laughs").
const maxNodeVisits = 1 << 18

// Document is one decoded document of a manifest stream.
type Document struct {
	// Index is the 0-based position of the document in the stream.
	Index int
	// Line is the 1-based line where the document's content starts.
	Line int
	// APIVersion and Kind are as written in the document.
	APIVersion, Kind string
	// Object is the decoded object; nil when Err is set.
	Object api.Object
	// Err joins every *Error found in the document, or is nil.
	Err error

	root *yaml.Node
}

// Decode decodes every document in data into typed objects through reg
// (api.Builtin() when nil). Empty documents are skipped. It returns the
// objects of the documents that decoded, and an error joining every *Error
// of those that did not.
func Decode(data []byte, reg *api.Registry) ([]api.Object, error) {
	docs, err := DecodeDocuments(data, reg)
	var objs []api.Object
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, d := range docs {
		if d.Err != nil {
			errs = append(errs, d.Err)
			continue
		}
		objs = append(objs, d.Object)
	}
	return objs, errors.Join(errs...)
}

// DecodeDocuments decodes every non-empty document in data through reg
// (api.Builtin() when nil), reporting each document's outcome on its own.
// The error is non-nil only when the stream itself cannot be read further
// (a YAML syntax error); documents before that point are still returned.
func DecodeDocuments(data []byte, reg *api.Registry) (docs []Document, err error) {
	if reg == nil {
		reg = api.Builtin()
	}
	defer func() {
		// The YAML parser is trusted not to panic, but a manifest is
		// untrusted input: a panic deep in a dependency becomes an error.
		if r := recover(); r != nil {
			err = &Error{Document: len(docs), Err: fmt.Errorf("%w: %v", ErrSyntax, r)}
		}
	}()
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		// JSON (what API clients send) takes a faster path; anything that is
		// not strict JSON goes to the YAML parser, which accepts JSON too.
		if roots, jerr := parseJSONStream(data); jerr == nil {
			for index, n := range roots {
				docs = append(docs, decodeDocument(index, n, reg, newBudget(), false)...)
			}
			return docs, nil
		}
	}
	return decodeYAML(data, reg)
}

// decodeYAML is DecodeDocuments through the YAML parser.
func decodeYAML(data []byte, reg *api.Registry) (docs []Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Document: len(docs), Err: fmt.Errorf("%w: %v", ErrSyntax, r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for index := 0; ; index++ {
		var root yaml.Node
		if derr := dec.Decode(&root); derr != nil {
			if errors.Is(derr, io.EOF) {
				return docs, nil
			}
			return docs, &Error{Document: index, Line: syntaxLine(derr), Err: fmt.Errorf("%w: %s", ErrSyntax, trimYAMLPrefix(derr))}
		}
		if root.Kind == 0 || (root.Kind == yaml.DocumentNode && len(root.Content) == 0) {
			continue
		}
		n := &root
		if n.Kind == yaml.DocumentNode {
			n = n.Content[0]
		}
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			continue // a document holding only comments
		}
		docs = append(docs, decodeDocument(index, n, reg, newBudget(), false)...)
	}
}

// syntaxLine extracts the line from a yaml.v3 error ("yaml: line 3: ...").
func syntaxLine(err error) int {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "line "); ok {
		end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if end > 0 {
			if n, err := strconv.Atoi(rest[:end]); err == nil {
				return n
			}
		}
	}
	return 0
}

// trimYAMLPrefix drops yaml.v3's "yaml: " and "line N: " prefixes, which
// Error already carries.
func trimYAMLPrefix(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if _, err := strconv.Atoi(rest[:i]); err == nil {
				return rest[i+2:]
			}
		}
	}
	return msg
}

// newBudget returns the node-visit budget of one document of the stream.
func newBudget() *int {
	b := maxNodeVisits
	return &b
}

// decodeDocument decodes one document's root node, charging node visits to
// budget. A "v1 List" document expands into one Document per item; its
// items share the List's budget and may not be Lists themselves.
func decodeDocument(index int, n *yaml.Node, reg *api.Registry, budget *int, inList bool) []Document {
	d := &decoder{doc: index, budget: budget}
	doc := Document{Index: index, Line: n.Line, root: n}
	n = d.resolve(n)
	if n == nil {
		doc.Err = errors.Join(d.errs...)
		return []Document{doc}
	}
	if n.Kind != yaml.MappingNode {
		doc.Err = d.fail(n, nil, fmt.Errorf("%w: a manifest document must be a mapping, got %s", ErrInvalidValue, describe(n)))
		return []Document{doc}
	}
	var apiVersionNode, kindNode, itemsNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "apiVersion":
			apiVersionNode = n.Content[i+1]
		case "kind":
			kindNode = n.Content[i+1]
		case "items":
			itemsNode = n.Content[i+1]
		}
	}
	doc.APIVersion = d.headerString(apiVersionNode, n, "apiVersion")
	doc.Kind = d.headerString(kindNode, n, "kind")
	if len(d.errs) > 0 {
		doc.Err = errors.Join(d.errs...)
		return []Document{doc}
	}
	if doc.APIVersion == "v1" && doc.Kind == "List" {
		if inList {
			kp := child(nil, "kind")
			doc.Err = d.fail(kindNode, &kp, fmt.Errorf("%w: a List may not hold another List", ErrInvalidValue))
			return []Document{doc}
		}
		return d.decodeList(n, itemsNode, reg)
	}
	info, err := reg.LookupGVK(doc.APIVersion, doc.Kind)
	if err != nil {
		if k, kerr := reg.Lookup(doc.Kind); kerr == nil {
			err = fmt.Errorf("%w (kind %s is served as apiVersion %s)", err, doc.Kind, k.APIVersion)
		}
		kp := child(nil, "kind")
		doc.Err = d.fail(kindNode, &kp, err)
		return []Document{doc}
	}
	obj := info.New()
	d.message(n, obj.ProtoReflect(), nil, true)
	if len(d.errs) > 0 {
		doc.Err = errors.Join(d.errs...)
		return []Document{doc}
	}
	doc.Object = obj
	return []Document{doc}
}

// decodeList expands a "v1 List" document's items.
func (d *decoder) decodeList(n, items *yaml.Node, reg *api.Registry) []Document {
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; k {
		case "apiVersion", "kind", "items", "metadata":
		default:
			fp := child(nil, k)
			d.fail(n.Content[i], &fp, ErrUnknownField)
		}
	}
	if items = d.resolve(items); items != nil && items.Kind != yaml.SequenceNode && !isNull(items) {
		ip := child(nil, "items")
		d.fail(items, &ip, fmt.Errorf("%w: expected a list, got %s", ErrInvalidValue, describe(items)))
	}
	if len(d.errs) > 0 {
		return []Document{{Index: d.doc, Line: n.Line, APIVersion: "v1", Kind: "List", Err: errors.Join(d.errs...)}}
	}
	var out []Document
	if items == nil || items.Kind != yaml.SequenceNode {
		return out
	}
	for i, item := range items.Content {
		for _, doc := range decodeDocument(d.doc, item, reg, d.budget, true) {
			if doc.Err != nil {
				doc.Err = prefixPaths(doc.Err, fmt.Sprintf("items[%d]", i))
			}
			out = append(out, doc)
		}
	}
	return out
}

// prefixPaths puts prefix before the path of every *Error joined in err.
func prefixPaths(err error, prefix string) error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		var me *Error
		if errors.As(e, &me) {
			c := *me
			c.Path = joinPath(prefix, c.Path)
			out = append(out, &c)
			continue
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

func joinPath(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case strings.HasPrefix(path, "["):
		return prefix + path
	}
	return prefix + "." + path
}

// fieldPath is a field path built as the decoder descends, rendered to text
// only when an error needs it, so decoding valid input does not pay for it.
type fieldPath struct {
	parent *fieldPath
	name   string // field name or map key
	index  int    // list index
	kind   uint8
}

const (
	pathField uint8 = iota + 1
	pathIndex
	pathKey
)

func child(p *fieldPath, name string) fieldPath {
	return fieldPath{parent: p, name: name, kind: pathField}
}

func index(p *fieldPath, i int) fieldPath { return fieldPath{parent: p, index: i, kind: pathIndex} }

func key(p *fieldPath, k string) fieldPath { return fieldPath{parent: p, name: k, kind: pathKey} }

// String renders the path as spec.containers[0].env[1].name or labels[app].
func (p *fieldPath) String() string {
	if p == nil {
		return ""
	}
	var parts []*fieldPath
	for q := p; q != nil; q = q.parent {
		parts = append(parts, q)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		q := parts[i]
		switch q.kind {
		case pathField:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(q.name)
		case pathIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(q.index))
			b.WriteByte(']')
		case pathKey:
			b.WriteByte('[')
			b.WriteString(q.name)
			b.WriteByte(']')
		}
	}
	return b.String()
}

// decoder holds the state of decoding one document.
type decoder struct {
	doc       int
	errs      []error
	budget    *int // node visits left, shared by the items of a List
	exhausted bool
}

// fail records an error at node n and path, and returns the joined errors.
func (d *decoder) fail(n *yaml.Node, path *fieldPath, err error) error {
	if len(d.errs) < maxErrorsPerDocument {
		line := 0
		if n != nil {
			line = n.Line
		}
		d.errs = append(d.errs, &Error{Document: d.doc, Line: line, Path: path.String(), Err: err})
	}
	return errors.Join(d.errs...)
}

// resolve follows aliases and charges the budget; it returns nil once the
// budget is spent.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			n = nil
			break
		}
		n = n.Alias
	}
	if n == nil || !d.spend(1, n) {
		return nil
	}
	return n
}

// spend charges k node visits to the budget and reports whether any is
// left, recording ErrTooComplex the first time it runs out.
func (d *decoder) spend(k int, n *yaml.Node) bool {
	*d.budget -= k
	if *d.budget > 0 {
		return true
	}
	if !d.exhausted {
		d.exhausted = true
		d.fail(n, nil, ErrTooComplex)
	}
	return false
}

// headerString reads apiVersion or kind.
func (d *decoder) headerString(n, parent *yaml.Node, name string) string {
	fp := child(nil, name)
	path := &fp
	n = d.resolve(n)
	if n == nil || isNull(n) {
		d.fail(parent, path, ErrMissingField)
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || n.Value == "" {
		d.fail(n, path, fmt.Errorf("%w: expected a non-empty string, got %s", ErrInvalidValue, describe(n)))
		return ""
	}
	return n.Value
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node's type for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return fmt.Sprintf("string %q", clip(n.Value))
		case "!!null":
			return "null"
		case "!!int":
			return "integer " + clip(n.Value)
		case "!!float":
			return "number " + clip(n.Value)
		case "!!bool":
			return "boolean " + n.Value
		case "!!timestamp":
			return "timestamp " + clip(n.Value)
		}
		return fmt.Sprintf("%s %q", n.Tag, clip(n.Value))
	}
	return "an unsupported node"
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

var (
	timestampName   = (&timestamppb.Timestamp{}).ProtoReflect().Descriptor().FullName()
	intOrStringName = (&api.IntOrString{}).ProtoReflect().Descriptor().FullName()
)

// fieldByName finds a field by its exact JSON name, as Kubernetes' strict
// decoding does: "hostip" or "host_ip" are unknown fields, not aliases.
func fieldByName(fields protoreflect.FieldDescriptors, name string) protoreflect.FieldDescriptor {
	return fields.ByJSONName(name)
}

// message sets m's fields from mapping node n. At the top level of a
// document, apiVersion and kind are skipped.
func (d *decoder) message(n *yaml.Node, m protoreflect.Message, path *fieldPath, top bool) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, fmt.Errorf("%w: expected a mapping, got %s", ErrInvalidValue, describe(n)))
		return
	}
	fields := m.Descriptor().Fields()
	pairs, ok := d.entries(n, path, 0)
	if !ok {
		return
	}
	var dups dupKeys
	for i := 0; i < len(pairs); i += 2 {
		k, v := pairs[i], pairs[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, fmt.Errorf("%w: field names must be strings, got %s", ErrInvalidValue, describe(k)))
			continue
		}
		name := k.Value
		fp := child(path, name)
		fpath := &fp
		if dups.repeated(pairs, i) {
			d.fail(k, fpath, ErrDuplicateField)
			continue
		}
		if top && (name == "apiVersion" || name == "kind") {
			continue
		}
		fd := fieldByName(fields, name)
		if fd == nil {
			d.fail(k, fpath, fmt.Errorf("%w %q", ErrUnknownField, name))
			continue
		}
		if isNull(v) {
			continue // null leaves the field unset, as in Kubernetes
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			if other := m.WhichOneof(od); other != nil {
				d.fail(k, fpath, fmt.Errorf("%w: only one of the %s fields may be set, %s is already", ErrInvalidValue, od.Name(), other.JSONName()))
				continue
			}
		}
		switch {
		case fd.IsList():
			d.list(v, m, fd, fpath)
		case fd.IsMap():
			d.mapField(v, m, fd, fpath)
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			d.messageValue(v, m.Mutable(fd).Message(), fpath)
		default:
			if val, ok := d.scalar(v, fd, fpath); ok {
				m.Set(fd, val)
			}
		}
	}
}

// dupKeys finds repeated keys in a mapping's key/value pairs: by a linear
// scan for the small mappings manifests have, by a set for large ones.
type dupKeys struct{ seen map[string]bool }

// repeated reports whether the scalar key at pairs[i] appeared at an
// earlier even index. Call it for i = 0, 2, 4, ... in order.
func (c *dupKeys) repeated(pairs []*yaml.Node, i int) bool {
	k := pairs[i].Value
	if len(pairs) <= 32 {
		for j := 0; j < i; j += 2 {
			if pairs[j].Kind == yaml.ScalarNode && pairs[j].Value == k {
				return true
			}
		}
		return false
	}
	if c.seen == nil {
		c.seen = make(map[string]bool, len(pairs)/2)
	}
	if c.seen[k] {
		return true
	}
	c.seen[k] = true
	return false
}

// maxMergeDepth bounds how deeply YAML merge keys ("<<") may nest.
const maxMergeDepth = 10

// entries returns the key/value pairs of mapping n with aliases resolved
// and YAML merge keys ("<<: *base" or "<<: [*a, *b]") expanded: the
// mapping's own keys first, in order (duplicates kept, for the caller to
// report), then merged keys the mapping does not set itself, earlier merges
// winning over later ones. ok is false once the alias budget is spent.
func (d *decoder) entries(n *yaml.Node, path *fieldPath, depth int) (pairs []*yaml.Node, ok bool) {
	simple := len(n.Content)%2 == 0
	for _, c := range n.Content {
		if c.Kind == yaml.AliasNode || (c.Kind == yaml.ScalarNode && c.Tag == "!!merge") {
			simple = false
			break
		}
	}
	if simple {
		if !d.spend(len(n.Content), n) {
			return nil, false
		}
		return n.Content, true
	}
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i])
		v := d.resolve(n.Content[i+1])
		if k == nil || v == nil {
			return nil, false
		}
		if k.Kind != yaml.ScalarNode || k.Tag != "!!merge" {
			pairs = append(pairs, k, v)
			continue
		}
		if depth >= maxMergeDepth {
			d.fail(k, path, fmt.Errorf("%w: YAML merge keys nested more than %d deep", ErrInvalidValue, maxMergeDepth))
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			if src = d.resolve(src); src == nil {
				return nil, false
			}
			if src.Kind != yaml.MappingNode {
				d.fail(src, path, fmt.Errorf("%w: a YAML merge key needs a mapping or a list of mappings, got %s", ErrInvalidValue, describe(src)))
				continue
			}
			sub, ok := d.entries(src, path, depth+1)
			if !ok {
				return nil, false
			}
			merged = append(merged, sub...)
		}
	}
	if len(merged) == 0 {
		return pairs, true
	}
	have := make(map[string]bool, len(pairs)+len(merged))
	for i := 0; i < len(pairs); i += 2 {
		have[pairs[i].Value] = true
	}
	for i := 0; i < len(merged); i += 2 {
		if k := merged[i]; k.Kind == yaml.ScalarNode && !have[k.Value] {
			have[k.Value] = true
			pairs = append(pairs, k, merged[i+1])
		}
	}
	return pairs, true
}

// messageValue fills m from n, handling the well-known shapes.
func (d *decoder) messageValue(n *yaml.Node, m protoreflect.Message, path *fieldPath) {
	switch m.Descriptor().FullName() {
	case timestampName:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!timestamp") {
			d.fail(n, path, fmt.Errorf("%w: expected an RFC 3339 time, got %s", ErrInvalidValue, describe(n)))
			return
		}
		t, err := time.Parse(time.RFC3339Nano, n.Value)
		if err != nil {
			d.fail(n, path, fmt.Errorf("%w: expected an RFC 3339 time, got %q", ErrInvalidValue, clip(n.Value)))
			return
		}
		ts := timestamppb.New(t)
		if err := ts.CheckValid(); err != nil {
			d.fail(n, path, fmt.Errorf("%w: %v", ErrInvalidValue, err))
			return
		}
		fields := m.Descriptor().Fields()
		m.Set(fields.ByName("seconds"), protoreflect.ValueOfInt64(ts.Seconds))
		m.Set(fields.ByName("nanos"), protoreflect.ValueOfInt32(ts.Nanos))
	case intOrStringName:
		fields := m.Descriptor().Fields()
		if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
			v, err := parseInt(n.Value, 32)
			if err != nil {
				d.fail(n, path, fmt.Errorf("%w: %s does not fit in 32 bits", ErrInvalidValue, clip(n.Value)))
				return
			}
			m.Set(fields.ByName("int_val"), protoreflect.ValueOfInt32(int32(v)))
			return
		}
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			m.Set(fields.ByName("str_val"), protoreflect.ValueOfString(n.Value))
			return
		}
		d.fail(n, path, fmt.Errorf("%w: expected an integer or a string, got %s", ErrInvalidValue, describe(n)))
	default:
		d.message(n, m, path, false)
	}
}

// list appends every element of sequence n to list field fd of m.
func (d *decoder) list(n *yaml.Node, m protoreflect.Message, fd protoreflect.FieldDescriptor, path *fieldPath) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, fmt.Errorf("%w: expected a list, got %s", ErrInvalidValue, describe(n)))
		return
	}
	l := m.Mutable(fd).List()
	for i, e := range n.Content {
		e = d.resolve(e)
		if e == nil {
			return
		}
		ep := index(path, i)
		epath := &ep
		if fd.Kind() == protoreflect.MessageKind {
			if isNull(e) {
				d.fail(e, epath, fmt.Errorf("%w: list elements may not be null", ErrInvalidValue))
				continue
			}
			v := l.NewElement()
			d.messageValue(e, v.Message(), epath)
			l.Append(v)
			continue
		}
		if v, ok := d.scalar(e, fd, epath); ok {
			l.Append(v)
		}
	}
}

// mapField sets every entry of mapping n into map field fd of m.
func (d *decoder) mapField(n *yaml.Node, m protoreflect.Message, fd protoreflect.FieldDescriptor, path *fieldPath) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, fmt.Errorf("%w: expected a mapping, got %s", ErrInvalidValue, describe(n)))
		return
	}
	mp := m.Mutable(fd).Map()
	kd, vd := fd.MapKey(), fd.MapValue()
	pairs, ok := d.entries(n, path, 0)
	if !ok {
		return
	}
	var dups dupKeys
	for i := 0; i < len(pairs); i += 2 {
		k, v := pairs[i], pairs[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, fmt.Errorf("%w: map keys must be scalars, got %s", ErrInvalidValue, describe(k)))
			continue
		}
		ep := key(path, k.Value)
		epath := &ep
		if dups.repeated(pairs, i) {
			d.fail(k, epath, ErrDuplicateField)
			continue
		}
		keyNode := *k
		keyNode.Tag = "!!str" // map keys are always read as text, then converted
		if kd.Kind() != protoreflect.StringKind {
			keyNode.Tag = "!!int"
			if kd.Kind() == protoreflect.BoolKind {
				keyNode.Tag = "!!bool"
			}
		}
		key, ok := d.scalar(&keyNode, kd, epath)
		if !ok {
			continue
		}
		if vd.Kind() == protoreflect.MessageKind {
			if isNull(v) {
				d.fail(v, epath, fmt.Errorf("%w: map values may not be null", ErrInvalidValue))
				continue
			}
			val := mp.NewValue()
			d.messageValue(v, val.Message(), epath)
			mp.Set(key.MapKey(), val)
			continue
		}
		if isNull(v) {
			d.fail(v, epath, fmt.Errorf("%w: map values may not be null", ErrInvalidValue))
			continue
		}
		if val, ok := d.scalar(v, vd, epath); ok {
			mp.Set(key.MapKey(), val)
		}
	}
}

// parseInt parses a YAML integer (decimal, 0x, 0o, 0b, with _ separators)
// within bits.
func parseInt(s string, bits int) (int64, error) {
	s = strings.ReplaceAll(s, "_", "")
	neg := false
	t := s
	switch {
	case strings.HasPrefix(t, "-"):
		neg, t = true, t[1:]
	case strings.HasPrefix(t, "+"):
		t = t[1:]
	}
	if strings.HasPrefix(t, "0o") {
		t = "0" + t[2:]
	}
	if neg {
		t = "-" + t
	}
	return strconv.ParseInt(t, 0, bits)
}

func parseUint(s string, bits int) (uint64, error) {
	s = strings.TrimPrefix(strings.ReplaceAll(s, "_", ""), "+")
	if strings.HasPrefix(s, "0o") {
		s = "0" + s[2:]
	}
	return strconv.ParseUint(s, 0, bits)
}

// isIntText reports whether a quoted string holds a plain decimal integer,
// the form protobuf JSON uses for 64-bit numbers.
func isIntText(s string) bool {
	t := strings.TrimPrefix(s, "-")
	if t == "" || len(t) > 20 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return true
}

// scalar converts scalar node n into a value for field fd's kind.
func (d *decoder) scalar(n *yaml.Node, fd protoreflect.FieldDescriptor, path *fieldPath) (protoreflect.Value, bool) {
	bad := func(want string) (protoreflect.Value, bool) {
		d.fail(n, path, fmt.Errorf("%w: expected %s, got %s", ErrInvalidValue, want, describe(n)))
		return protoreflect.Value{}, false
	}
	if n.Kind != yaml.ScalarNode {
		return bad(kindName(fd))
	}
	intText := n.Tag == "!!int" || (n.Tag == "!!str" && isIntText(n.Value))
	switch fd.Kind() {
	case protoreflect.StringKind:
		if n.Tag != "!!str" {
			return bad("a string (quote it)")
		}
		return protoreflect.ValueOfString(n.Value), true
	case protoreflect.BoolKind:
		if n.Tag != "!!bool" {
			return bad("a boolean")
		}
		b, err := strconv.ParseBool(n.Value)
		if err != nil {
			return bad("a boolean (true or false)")
		}
		return protoreflect.ValueOfBool(b), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if !intText {
			return bad("an integer")
		}
		v, err := parseInt(n.Value, 32)
		if err != nil {
			return bad("a 32-bit integer")
		}
		return protoreflect.ValueOfInt32(int32(v)), true
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if !intText {
			return bad("an integer")
		}
		v, err := parseInt(n.Value, 64)
		if err != nil {
			return bad("a 64-bit integer")
		}
		return protoreflect.ValueOfInt64(v), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if !intText {
			return bad("a non-negative integer")
		}
		v, err := parseUint(n.Value, 32)
		if err != nil {
			return bad("a non-negative 32-bit integer")
		}
		return protoreflect.ValueOfUint32(uint32(v)), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if !intText {
			return bad("a non-negative integer")
		}
		v, err := parseUint(n.Value, 64)
		if err != nil {
			return bad("a non-negative 64-bit integer")
		}
		return protoreflect.ValueOfUint64(v), true
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		if n.Tag != "!!float" && !intText {
			return bad("a number")
		}
		bits := 64
		if fd.Kind() == protoreflect.FloatKind {
			bits = 32
		}
		f, err := parseFloat(n.Value, bits)
		if err != nil {
			return bad("a number")
		}
		if fd.Kind() == protoreflect.FloatKind {
			return protoreflect.ValueOfFloat32(float32(f)), true
		}
		return protoreflect.ValueOfFloat64(f), true
	case protoreflect.BytesKind:
		if n.Tag != "!!str" && n.Tag != "!!binary" {
			return bad("base64 data")
		}
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), ""))
		if err != nil {
			return bad("base64 data")
		}
		return protoreflect.ValueOfBytes(b), true
	case protoreflect.EnumKind:
		if n.Tag == "!!str" {
			if ev := fd.Enum().Values().ByName(protoreflect.Name(n.Value)); ev != nil {
				return protoreflect.ValueOfEnum(ev.Number()), true
			}
			return bad("one of the names of " + string(fd.Enum().Name()))
		}
		if n.Tag == "!!int" {
			v, err := parseInt(n.Value, 32)
			if err == nil && fd.Enum().Values().ByNumber(protoreflect.EnumNumber(v)) != nil {
				return protoreflect.ValueOfEnum(protoreflect.EnumNumber(v)), true
			}
		}
		return bad("one of the names of " + string(fd.Enum().Name()))
	}
	return bad(kindName(fd))
}

func parseFloat(s string, bits int) (float64, error) {
	switch strings.ToLower(s) {
	case ".inf", "+.inf":
		return math.Inf(1), nil
	case "-.inf":
		return math.Inf(-1), nil
	case ".nan":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), bits)
}

func kindName(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return "a string"
	case protoreflect.BoolKind:
		return "a boolean"
	case protoreflect.BytesKind:
		return "base64 data"
	case protoreflect.MessageKind:
		return "a mapping"
	}
	return "a number"
}
