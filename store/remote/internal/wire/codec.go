package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote/wirepb"
)

// Media types the API speaks.
const (
	// MediaJSON is Kubernetes-shape JSON (apiVersion and kind first).
	MediaJSON = "application/json"
	// MediaYAML is accepted for request bodies.
	MediaYAML = "application/yaml"
	// MediaProtobuf is the protobuf encoding: objects in a wirepb.TypedObject,
	// lists in a wirepb.ObjectList, watch events as 4-byte big-endian
	// length-prefixed wirepb.WatchEvent frames.
	MediaProtobuf = "application/x-protobuf"
)

// Format is a body encoding.
type Format int

// Body encodings.
const (
	// FormatJSON is MediaJSON.
	FormatJSON Format = iota
	// FormatYAML is MediaYAML (request bodies only).
	FormatYAML
	// FormatProtobuf is MediaProtobuf.
	FormatProtobuf
)

// MediaType returns the format's media type.
func (f Format) MediaType() string {
	switch f {
	case FormatProtobuf:
		return MediaProtobuf
	case FormatYAML:
		return MediaYAML
	}
	return MediaJSON
}

// errUnsupportedMedia marks a Content-Type the server cannot read.
var errUnsupportedMedia = errors.New("unsupported media type")

// RequestFormat returns the Format of a request body from its Content-Type;
// an empty Content-Type is JSON.
func RequestFormat(contentType string) (Format, error) {
	if contentType == "" {
		return FormatJSON, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", errUnsupportedMedia, contentType, err)
	}
	switch mt {
	case MediaJSON:
		return FormatJSON, nil
	case MediaYAML, "application/x-yaml", "text/yaml":
		return FormatYAML, nil
	case MediaProtobuf:
		return FormatProtobuf, nil
	}
	return 0, fmt.Errorf("%w: %q (use %s, %s or %s)", errUnsupportedMedia, mt, MediaJSON, MediaYAML, MediaProtobuf)
}

// ResponseFormat picks protobuf when the Accept header lists it, otherwise
// JSON.
func ResponseFormat(accept string) Format {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == MediaProtobuf {
			return FormatProtobuf
		}
	}
	return FormatJSON
}

// scaleRegistry knows the Scale subresource's message so the manifest codec
// can write it in Kubernetes shape.
var scaleRegistry = func() *api.Registry {
	r := api.NewRegistry()
	r.MustRegister(api.KindInfo{APIVersion: "autoscaling/v1", Kind: "Scale", Scope: api.Namespaced, New: func() api.Object { return &api.Scale{} }})
	return r
}()

// JSONCodec writes and reads objects as JSON in Kubernetes shape
// (apiVersion, kind, metadata, spec, status). The server always has one
// (remote.KubernetesJSON, backed by api/manifest); a client has one only
// when its config sets it, so a program that speaks protobuf links no
// JSON/YAML object codec.
type JSONCodec interface {
	// Encode writes obj, a kind reg knows, as one JSON document.
	Encode(obj api.Object, reg *api.Registry) ([]byte, error)
	// Decode reads the objects in data, each a kind reg knows.
	Decode(data []byte, reg *api.Registry) ([]api.Object, error)
}

// errNoJSON is returned when a JSON body must be read or written by a
// codec without a JSONCodec (a protobuf client answered in JSON).
var errNoJSON = errors.New("remote: JSON body but no JSON codec configured (set the client config's JSON)")

// Codec encodes and decodes objects through a registry.
type Codec struct {
	// Reg knows the kinds encoded and decoded.
	Reg *api.Registry
	// JSON handles JSON bodies; nil on a protobuf-only client.
	JSON JSONCodec
}

// EncodeObject writes obj as JSON (compact, Kubernetes shape) or as a
// protobuf TypedObject.
func (c Codec) EncodeObject(obj api.Object, f Format) ([]byte, error) {
	if f == FormatProtobuf {
		t, err := c.typed(obj)
		if err != nil {
			return nil, err
		}
		return proto.Marshal(t)
	}
	return c.objectJSON(obj)
}

func (c Codec) objectJSON(obj api.Object) ([]byte, error) {
	reg := c.Reg
	if _, ok := obj.(*api.Scale); ok {
		reg = scaleRegistry
	}
	if c.JSON == nil {
		return nil, errNoJSON
	}
	b, err := c.JSON.Encode(obj, reg)
	// One object per line in a watch stream: no trailing newline.
	return bytes.TrimRight(b, "\n"), err
}

func (c Codec) typed(obj api.Object) (*wirepb.TypedObject, error) {
	reg := c.Reg
	if _, ok := obj.(*api.Scale); ok {
		reg = scaleRegistry
	}
	info, err := reg.KindOf(obj)
	if err != nil {
		return nil, err
	}
	raw, err := proto.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return &wirepb.TypedObject{ApiVersion: info.APIVersion, Kind: info.Kind, Raw: raw}, nil
}

func (c Codec) fromTyped(t *wirepb.TypedObject) (api.Object, error) {
	reg := c.Reg
	if t.GetKind() == "Scale" && t.GetApiVersion() == "autoscaling/v1" {
		reg = scaleRegistry
	}
	info, err := reg.LookupGVK(t.GetApiVersion(), t.GetKind())
	if err != nil {
		return nil, err
	}
	obj := info.New()
	if err := proto.Unmarshal(t.GetRaw(), obj); err != nil {
		return nil, fmt.Errorf("decode %s: %w", t.GetKind(), err)
	}
	return obj, nil
}

// DecodeObject reads exactly one object.
func (c Codec) DecodeObject(data []byte, f Format) (api.Object, error) {
	if f == FormatProtobuf {
		var t wirepb.TypedObject
		if err := proto.Unmarshal(data, &t); err != nil {
			return nil, fmt.Errorf("decode protobuf body: %w", err)
		}
		return c.fromTyped(&t)
	}
	return c.decodeManifest(data, c.Reg)
}

func (c Codec) decodeManifest(data []byte, reg *api.Registry) (api.Object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty body: an object is required")
	}
	if c.JSON == nil {
		return nil, errNoJSON
	}
	objs, err := c.JSON.Decode(data, reg)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("body holds %d objects, want exactly one", len(objs))
	}
	return objs[0], nil
}

// DecodeScale reads an autoscaling/v1 Scale.
func (c Codec) DecodeScale(data []byte, f Format) (*api.Scale, error) {
	var obj api.Object
	var err error
	if f == FormatProtobuf {
		obj, err = c.DecodeObject(data, f)
	} else {
		obj, err = c.decodeManifest(data, scaleRegistry)
	}
	if err != nil {
		return nil, err
	}
	s, ok := obj.(*api.Scale)
	if !ok {
		return nil, fmt.Errorf("body is a %T, want autoscaling/v1 Scale", obj)
	}
	return s, nil
}

// FlexInt is an int64 written in JSON as a number or a numeric string
// (Kubernetes writes resourceVersion as a string).
type FlexInt int64

// UnmarshalJSON accepts 12 and "12".
func (v *FlexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		var err error
		if s, err = strconv.Unquote(s); err != nil {
			return err
		}
		if s == "" {
			*v = 0
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*v = FlexInt(n)
	return nil
}

// MarshalJSON writes a numeric string, as Kubernetes does for versions.
func (v FlexInt) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(v), 10) + `"`), nil
}

// listJSON is the JSON shape of a list.
type listJSON struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		ResourceVersion FlexInt `json:"resourceVersion"`
		Continue        string  `json:"continue,omitempty"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

// EncodeList writes a page of a list.
func (c Codec) EncodeList(info api.KindInfo, res *store.ListResult, f Format) ([]byte, error) {
	if f == FormatProtobuf {
		l := &wirepb.ObjectList{ApiVersion: info.APIVersion, Kind: info.Kind + "List", ResourceVersion: res.Revision, Continue: res.Continue}
		l.Items = make([]*wirepb.TypedObject, 0, len(res.Items))
		for _, obj := range res.Items {
			t, err := c.typed(obj)
			if err != nil {
				return nil, err
			}
			l.Items = append(l.Items, t)
		}
		return proto.Marshal(l)
	}
	// Assembled by hand: the items are compact JSON already, and
	// json.Marshal would validate and copy each of them again.
	var buf bytes.Buffer
	buf.WriteString(`{"apiVersion":`)
	writeJSONString(&buf, info.APIVersion)
	buf.WriteString(`,"kind":`)
	writeJSONString(&buf, info.Kind+"List")
	buf.WriteString(`,"metadata":{"resourceVersion":"`)
	buf.WriteString(strconv.FormatInt(res.Revision, 10))
	buf.WriteByte('"')
	if res.Continue != "" {
		buf.WriteString(`,"continue":`)
		writeJSONString(&buf, res.Continue)
	}
	buf.WriteString(`},"items":[`)
	for i, obj := range res.Items {
		b, err := c.objectJSON(obj)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteString("]}")
	return buf.Bytes(), nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}

// DecodeList reads a page of a list.
func (c Codec) DecodeList(data []byte, f Format) (*store.ListResult, error) {
	if f == FormatProtobuf {
		var l wirepb.ObjectList
		if err := proto.Unmarshal(data, &l); err != nil {
			return nil, fmt.Errorf("decode list: %w", err)
		}
		res := &store.ListResult{Revision: l.GetResourceVersion(), Continue: l.GetContinue(), Items: make([]api.Object, 0, len(l.GetItems()))}
		for _, t := range l.GetItems() {
			obj, err := c.fromTyped(t)
			if err != nil {
				return nil, err
			}
			res.Items = append(res.Items, obj)
		}
		return res, nil
	}
	var l listJSON
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	res := &store.ListResult{Revision: int64(l.Metadata.ResourceVersion), Continue: l.Metadata.Continue, Items: make([]api.Object, 0, len(l.Items))}
	for _, raw := range l.Items {
		obj, err := c.decodeManifest(raw, c.Reg)
		if err != nil {
			return nil, err
		}
		res.Items = append(res.Items, obj)
	}
	return res, nil
}

// Watch event type names on the wire.
const (
	eventError = "ERROR"
)

func eventTypeFromString(s string) (store.EventType, bool) {
	switch s {
	case "ADDED":
		return store.EventAdded, true
	case "MODIFIED":
		return store.EventModified, true
	case "DELETED":
		return store.EventDeleted, true
	case "BOOKMARK":
		return store.EventBookmark, true
	}
	return 0, false
}

// eventJSON is one line of a JSON watch stream.
type eventJSON struct {
	Type       string          `json:"type"`
	Object     json.RawMessage `json:"object,omitempty"`
	PrevObject json.RawMessage `json:"prevObject,omitempty"`
	Revision   FlexInt         `json:"revision,omitempty"`
}

// bookmarkObject is the object a bookmark carries, as in Kubernetes: an
// empty object of the watched kind holding only the revision.
func bookmarkObject(info api.KindInfo, rev int64) api.Object {
	obj := info.New()
	api.Meta(obj).ResourceVersion = rev
	return obj
}

// EncodeEvent writes one watch event: a JSON line ending in '\n', or a
// length-prefixed protobuf frame.
func (c Codec) EncodeEvent(info api.KindInfo, ev store.Event, f Format) ([]byte, error) {
	obj := ev.Object
	if ev.Type == store.EventBookmark || obj == nil {
		obj = bookmarkObject(info, ev.Revision)
	}
	if f == FormatProtobuf {
		w := &wirepb.WatchEvent{Type: ev.Type.String(), Revision: ev.Revision}
		var err error
		if w.Object, err = c.typed(obj); err != nil {
			return nil, err
		}
		if ev.PrevObject != nil {
			if w.PrevObject, err = c.typed(ev.PrevObject); err != nil {
				return nil, err
			}
		}
		return frame(w)
	}
	// Assembled by hand, as for lists; the shape is eventJSON.
	ob, err := c.objectJSON(obj)
	if err != nil {
		return nil, err
	}
	var pb []byte
	if ev.PrevObject != nil {
		if pb, err = c.objectJSON(ev.PrevObject); err != nil {
			return nil, err
		}
	}
	b := make([]byte, 0, len(ob)+len(pb)+64)
	b = append(b, `{"type":"`...)
	b = append(b, ev.Type.String()...)
	b = append(b, `","object":`...)
	b = append(b, ob...)
	if pb != nil {
		b = append(b, `,"prevObject":`...)
		b = append(b, pb...)
	}
	b = append(b, `,"revision":"`...)
	b = strconv.AppendInt(b, ev.Revision, 10)
	return append(b, "\"}\n"...), nil
}

// EncodeErrorEvent writes the ERROR event that ends a stream.
func (c Codec) EncodeErrorEvent(st *api.Status, f Format) ([]byte, error) {
	if f == FormatProtobuf {
		raw, err := proto.Marshal(st)
		if err != nil {
			return nil, err
		}
		return frame(&wirepb.WatchEvent{Type: eventError, Object: &wirepb.TypedObject{ApiVersion: "v1", Kind: "Status", Raw: raw}})
	}
	b, err := json.Marshal(struct {
		Type   string          `json:"type"`
		Object json.RawMessage `json:"object"`
	}{eventError, statusJSON(st)})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// maxFrame bounds one protobuf watch frame the client accepts.
const maxFrame = 64 << 20

func frame(m proto.Message) ([]byte, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(out, uint32(len(b)))
	return append(out, b...), nil
}

// EventReader reads watch events from a stream.
type EventReader struct {
	c    Codec
	f    Format
	r    io.Reader
	json *json.Decoder
	buf  []byte
}

// NewEventReader reads the events of a watch stream in format f from r.
func NewEventReader(c Codec, f Format, r io.Reader) *EventReader {
	er := &EventReader{c: c, f: f, r: r}
	if f != FormatProtobuf {
		er.json = json.NewDecoder(r)
	}
	return er
}

// Next returns the next event, or the Status of an ERROR event as an error.
func (er *EventReader) Next() (store.Event, error) {
	var typ string
	var obj, prev api.Object
	var rev int64
	if er.f == FormatProtobuf {
		var hdr [4]byte
		if _, err := io.ReadFull(er.r, hdr[:]); err != nil {
			return store.Event{}, err
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > maxFrame {
			return store.Event{}, fmt.Errorf("watch frame of %d bytes exceeds %d", n, maxFrame)
		}
		if cap(er.buf) < int(n) {
			er.buf = make([]byte, n)
		}
		b := er.buf[:n]
		if _, err := io.ReadFull(er.r, b); err != nil {
			return store.Event{}, err
		}
		var w wirepb.WatchEvent
		if err := proto.Unmarshal(b, &w); err != nil {
			return store.Event{}, fmt.Errorf("decode watch frame: %w", err)
		}
		typ, rev = w.GetType(), w.GetRevision()
		if typ == eventError {
			st := &api.Status{}
			if err := proto.Unmarshal(w.GetObject().GetRaw(), st); err != nil {
				return store.Event{}, fmt.Errorf("decode watch error: %w", err)
			}
			return store.Event{}, ErrorFromStatus(st)
		}
		var err error
		if obj, err = er.c.fromTyped(w.GetObject()); err != nil {
			return store.Event{}, err
		}
		if w.GetPrevObject() != nil {
			if prev, err = er.c.fromTyped(w.GetPrevObject()); err != nil {
				return store.Event{}, err
			}
		}
	} else {
		var e eventJSON
		if err := er.json.Decode(&e); err != nil {
			return store.Event{}, err
		}
		typ, rev = e.Type, int64(e.Revision)
		if typ == eventError {
			st, err := decodeStatusJSON(e.Object)
			if err != nil {
				return store.Event{}, err
			}
			return store.Event{}, ErrorFromStatus(st)
		}
		var err error
		if obj, err = er.c.decodeManifest(e.Object, er.c.Reg); err != nil {
			return store.Event{}, err
		}
		if len(e.PrevObject) > 0 {
			if prev, err = er.c.decodeManifest(e.PrevObject, er.c.Reg); err != nil {
				return store.Event{}, err
			}
		}
	}
	t, ok := eventTypeFromString(typ)
	if !ok {
		return store.Event{}, fmt.Errorf("unknown watch event type %q", typ)
	}
	ev := store.Event{Type: t, Object: obj, PrevObject: prev, Revision: rev}
	if t == store.EventBookmark {
		ev.Object, ev.PrevObject = nil, nil
	}
	return ev, nil
}

// statusJSON writes a Status in Kubernetes shape. Every field of Status,
// StatusDetails and StatusCause has a one-word name, so encoding/json with
// the generated tags writes what protojson would, without linking protojson
// into the client.
func statusJSON(st *api.Status) []byte {
	b, err := json.Marshal(st)
	if err != nil || len(b) < 2 {
		b = []byte("{}")
	}
	var out bytes.Buffer
	out.WriteString(`{"apiVersion":"v1","kind":"Status"`)
	if inner := bytes.TrimSpace(b[1:]); len(inner) > 1 {
		out.WriteByte(',')
		out.Write(inner)
	} else {
		out.WriteByte('}')
	}
	return out.Bytes()
}

// decodeStatusJSON reads a Status written by statusJSON (or protojson);
// unknown fields such as apiVersion and kind are ignored.
func decodeStatusJSON(b []byte) (*api.Status, error) {
	st := &api.Status{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("decode status: %w", err)
	}
	return st, nil
}

// EncodeStatus writes a Status in Format f.
func EncodeStatus(st *api.Status, f Format) []byte {
	if f == FormatProtobuf {
		raw, _ := proto.Marshal(st)
		b, _ := proto.Marshal(&wirepb.TypedObject{ApiVersion: "v1", Kind: "Status", Raw: raw})
		return b
	}
	return statusJSON(st)
}

// DecodeStatus reads a Status written by EncodeStatus.
func DecodeStatus(data []byte, f Format) (*api.Status, error) {
	if f == FormatProtobuf {
		var t wirepb.TypedObject
		if err := proto.Unmarshal(data, &t); err != nil {
			return nil, err
		}
		if t.GetKind() != "Status" {
			return nil, fmt.Errorf("error body is a %q, want Status", t.GetKind())
		}
		st := &api.Status{}
		return st, proto.Unmarshal(t.GetRaw(), st)
	}
	return decodeStatusJSON(data)
}
