package manifest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"gopkg.in/yaml.v3"

	"github.com/coxswain-io/coxswain/api"
)

// Format is a manifest encoding.
type Format int

const (
	// YAML is block-style YAML with two-space indentation.
	YAML Format = iota
	// JSON is JSON indented for people to read.
	JSON
	// CompactJSON is JSON without insignificant whitespace, for wire bodies.
	CompactJSON
)

// String returns "yaml", "json" or "compact-json".
func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case CompactJSON:
		return "compact-json"
	}
	return "yaml"
}

// EncodeOption configures Encode and EncodeAll.
type EncodeOption func(*encodeConfig)

type encodeConfig struct {
	reg *api.Registry
}

// WithRegistry makes Encode look up apiVersion and kind in reg instead of
// api.Builtin(); needed for custom kinds.
func WithRegistry(reg *api.Registry) EncodeOption {
	return func(c *encodeConfig) { c.reg = reg }
}

// Encode writes obj as a manifest in format: apiVersion and kind first, then
// metadata, spec, status and any other fields in declaration order, leaving
// out unset fields. The kind is looked up by message type in api.Builtin()
// unless WithRegistry says otherwise.
func Encode(obj api.Object, format Format, opts ...EncodeOption) ([]byte, error) {
	n, err := toNode(obj, opts)
	if err != nil {
		return nil, err
	}
	return render(n, format)
}

// EncodeAll writes objs as one stream: YAML documents separated by "---",
// or for JSON and CompactJSON a single "v1 List" object holding them as
// items (which Decode expands again).
func EncodeAll(objs []api.Object, format Format, opts ...EncodeOption) ([]byte, error) {
	nodes := make([]*yaml.Node, 0, len(objs))
	for _, obj := range objs {
		n, err := toNode(obj, opts)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if format == JSON || format == CompactJSON {
		list := mapping()
		addPair(list, "apiVersion", str("v1"))
		addPair(list, "kind", str("List"))
		addPair(list, "items", &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: nodes})
		return render(list, format)
	}
	var buf bytes.Buffer
	for i, n := range nodes {
		if i > 0 {
			buf.WriteString("---\n")
		}
		b, err := render(n, YAML)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

func toNode(obj api.Object, opts []EncodeOption) (*yaml.Node, error) {
	cfg := encodeConfig{reg: api.Builtin()}
	for _, o := range opts {
		o(&cfg)
	}
	info, err := cfg.reg.KindOf(obj)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	n := mapping()
	addPair(n, "apiVersion", str(info.APIVersion))
	addPair(n, "kind", str(info.Kind))
	m := obj.ProtoReflect()
	fields := m.Descriptor().Fields()
	// metadata, spec and status first, in that order, then the rest.
	order := make([]protoreflect.FieldDescriptor, 0, fields.Len())
	for _, name := range []protoreflect.Name{"metadata", "spec", "status"} {
		if fd := fields.ByName(name); fd != nil {
			order = append(order, fd)
		}
	}
	for i := 0; i < fields.Len(); i++ {
		switch fields.Get(i).Name() {
		case "metadata", "spec", "status":
		default:
			order = append(order, fields.Get(i))
		}
	}
	for _, fd := range order {
		if !m.Has(fd) {
			continue
		}
		addPair(n, fd.JSONName(), fieldNode(m, fd))
	}
	return n, nil
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func addPair(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

// messageNode writes every set field of m in declaration order.
func messageNode(m protoreflect.Message) *yaml.Node {
	switch m.Descriptor().FullName() {
	case timestampName:
		fields := m.Descriptor().Fields()
		t := time.Unix(m.Get(fields.ByName("seconds")).Int(), m.Get(fields.ByName("nanos")).Int()).UTC()
		return str(t.Format(time.RFC3339Nano))
	case intOrStringName:
		fields := m.Descriptor().Fields()
		if fd := fields.ByName("int_val"); m.Has(fd) {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(m.Get(fd).Int(), 10)}
		}
		return str(m.Get(fields.ByName("str_val")).String())
	}
	n := mapping()
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		addPair(n, fd.JSONName(), fieldNode(m, fd))
	}
	return n
}

func fieldNode(m protoreflect.Message, fd protoreflect.FieldDescriptor) *yaml.Node {
	v := m.Get(fd)
	switch {
	case fd.IsList():
		l := v.List()
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := 0; i < l.Len(); i++ {
			n.Content = append(n.Content, valueNode(fd, l.Get(i)))
		}
		return n
	case fd.IsMap():
		mp := v.Map()
		keys := make([]protoreflect.MapKey, 0, mp.Len())
		mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			keys = append(keys, k)
			return true
		})
		sort.Slice(keys, func(i, j int) bool { return lessKey(keys[i], keys[j]) })
		n := mapping()
		for _, k := range keys {
			addPair(n, k.String(), valueNode(fd.MapValue(), mp.Get(k)))
		}
		return n
	}
	return valueNode(fd, v)
}

func lessKey(a, b protoreflect.MapKey) bool {
	switch a.Interface().(type) {
	case int32, int64:
		return a.Int() < b.Int()
	case uint32, uint64:
		return a.Uint() < b.Uint()
	case bool:
		return !a.Bool() && b.Bool()
	}
	return a.String() < b.String()
}

// valueNode writes one singular value of field fd's kind.
func valueNode(fd protoreflect.FieldDescriptor, v protoreflect.Value) *yaml.Node {
	scalar := func(tag, s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s} }
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageNode(v.Message())
	case protoreflect.StringKind:
		return str(v.String())
	case protoreflect.BoolKind:
		return scalar("!!bool", strconv.FormatBool(v.Bool()))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return scalar("!!int", strconv.FormatUint(v.Uint(), 10))
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f := v.Float()
		switch {
		case math.IsInf(f, 1):
			return scalar("!!float", ".inf")
		case math.IsInf(f, -1):
			return scalar("!!float", "-.inf")
		case math.IsNaN(f):
			return scalar("!!float", ".nan")
		}
		bits := 64
		if fd.Kind() == protoreflect.FloatKind {
			bits = 32
		}
		return scalar("!!float", strconv.FormatFloat(f, 'g', -1, bits))
	case protoreflect.BytesKind:
		return str(base64.StdEncoding.EncodeToString(v.Bytes()))
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return str(string(ev.Name()))
		}
		return scalar("!!int", strconv.Itoa(int(v.Enum())))
	}
	return scalar("!!null", "null")
}

// render writes a node tree as YAML or JSON.
func render(n *yaml.Node, format Format) ([]byte, error) {
	if format == CompactJSON {
		var buf bytes.Buffer
		writeJSON(&buf, n)
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	}
	if format == JSON {
		var buf bytes.Buffer
		writeJSON(&buf, n)
		var out bytes.Buffer
		if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
			return nil, fmt.Errorf("encode json: %w", err)
		}
		out.WriteByte('\n')
		return out.Bytes(), nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// writeJSON writes the compact JSON form of a node tree built by this file.
func writeJSON(buf *bytes.Buffer, n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, n.Content[i].Value)
			buf.WriteByte(':')
			writeJSON(buf, n.Content[i+1])
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSON(buf, c)
		}
		buf.WriteByte(']')
	default:
		switch n.Tag {
		case "!!int", "!!bool":
			buf.WriteString(n.Value)
		case "!!float":
			switch n.Value {
			case ".inf":
				writeJSONString(buf, "Infinity")
			case "-.inf":
				writeJSONString(buf, "-Infinity")
			case ".nan":
				writeJSONString(buf, "NaN")
			default:
				buf.WriteString(n.Value)
			}
		case "!!null":
			buf.WriteString("null")
		default:
			writeJSONString(buf, n.Value)
		}
	}
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // marshaling a string cannot fail
	buf.Write(b)
}
