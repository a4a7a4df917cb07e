package api_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/manifest"
)

// trickyStrings are values a careless YAML writer would turn into other
// types or break.
var trickyStrings = []string{"web", "true", "123", "null", "25%", "a: b", "line1\nline2", "", "0x1F", "2024-01-02T03:04:05Z", "- item", "'q'", `"dq"`, "ünï", "~", "1e3"}

// filler sets every field of a message, recursively, with varied values.
type filler struct{ n int }

func (f *filler) next() int { f.n++; return f.n }

func (f *filler) message(m protoreflect.Message, depth int) {
	desc := m.Descriptor()
	switch desc.FullName() {
	case "google.protobuf.Timestamp":
		m.Set(desc.Fields().ByName("seconds"), protoreflect.ValueOfInt64(int64(1700000000+f.next())))
		m.Set(desc.Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(f.next()*1000)))
		return
	case "coxswain.api.IntOrString":
		if f.next()%2 == 0 {
			m.Set(desc.Fields().ByName("int_val"), protoreflect.ValueOfInt32(int32(f.next())))
		} else {
			m.Set(desc.Fields().ByName("str_val"), protoreflect.ValueOfString(fmt.Sprintf("%d%%", f.next())))
		}
		return
	}
	if depth > 10 {
		return
	}
	fields := desc.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() && m.WhichOneof(od) != nil {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for j := 0; j < 2; j++ {
				if fd.Kind() == protoreflect.MessageKind {
					v := l.NewElement()
					f.message(v.Message(), depth+1)
					l.Append(v)
				} else {
					l.Append(f.scalar(fd))
				}
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for j := 0; j < 2; j++ {
				k := f.scalar(fd.MapKey()).MapKey()
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					v := mp.NewValue()
					f.message(v.Message(), depth+1)
					mp.Set(k, v)
				} else {
					mp.Set(k, f.scalar(fd.MapValue()))
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			f.message(m.Mutable(fd).Message(), depth+1)
		default:
			m.Set(fd, f.scalar(fd))
		}
	}
}

func (f *filler) scalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	n := f.next()
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fmt.Sprintf("%s%d", trickyStrings[n%len(trickyStrings)], n))
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(n%2 == 0)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(n) * -3)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(n) << 40)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(n))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(n) << 50)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(n) + 0.5)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(float64(n) / 3)
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte(fmt.Sprintf("\x00\xff%d", n)))
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(fd.Enum().Values().Get(n % fd.Enum().Values().Len()).Number())
	}
	panic("unhandled kind " + fd.Kind().String())
}

// countSet counts the set fields of m, recursively, to show the filler
// reached everything.
func countSet(m protoreflect.Message) int {
	n := 0
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		n++
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i := 0; i < v.List().Len(); i++ {
				n += countSet(v.List().Get(i).Message())
			}
		case !fd.IsList() && !fd.IsMap() && fd.Kind() == protoreflect.MessageKind:
			n += countSet(v.Message())
		}
		return true
	})
	return n
}

// TestRoundTripEveryKind writes a fully populated object of every built-in
// kind through protobuf binary, JSON and YAML and reads it back unchanged.
func TestRoundTripEveryKind(t *testing.T) {
	for _, kind := range api.BuiltinKinds() {
		t.Run(kind.Kind, func(t *testing.T) {
			obj := kind.New()
			(&filler{}).message(obj.ProtoReflect(), 0)
			if got := countSet(obj.ProtoReflect()); got < 5 {
				t.Fatalf("filler set only %d fields", got)
			}

			t.Run("protobuf", func(t *testing.T) {
				b, err := proto.Marshal(obj)
				if err != nil {
					t.Fatal(err)
				}
				back := kind.New()
				if err := proto.Unmarshal(b, back); err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(obj, back) {
					t.Fatal("protobuf round trip changed the object")
				}
			})
			for _, format := range []manifest.Format{manifest.JSON, manifest.CompactJSON, manifest.YAML} {
				t.Run(format.String(), func(t *testing.T) {
					b, err := manifest.Encode(obj, format)
					if err != nil {
						t.Fatal(err)
					}
					wantPrefix := map[manifest.Format]string{
						manifest.YAML:        "apiVersion: " + kind.APIVersion + "\nkind: " + kind.Kind + "\n",
						manifest.JSON:        "{\n  \"apiVersion\": \"" + kind.APIVersion + "\",\n  \"kind\": \"" + kind.Kind + "\",\n",
						manifest.CompactJSON: `{"apiVersion":"` + kind.APIVersion + `","kind":"` + kind.Kind + `",`,
					}[format]
					if !strings.HasPrefix(string(b), wantPrefix) {
						t.Fatalf("encoding does not start with apiVersion and kind:\n%s", b)
					}
					objs, err := manifest.Decode(b, nil)
					if err != nil {
						t.Fatalf("decode: %v\n%s", err, b)
					}
					if len(objs) != 1 || !proto.Equal(obj, objs[0]) {
						t.Fatalf("%s round trip changed the object:\n%s", format, b)
					}
				})
			}
		})
	}
}
