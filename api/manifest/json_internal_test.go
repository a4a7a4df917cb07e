package manifest

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
)

// FuzzJSONMatchesYAML checks that the JSON fast path decodes every strict
// JSON input exactly as the YAML parser does: same objects, same errors.
func FuzzJSONMatchesYAML(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","resourceVersion":"7"},"data":{"a":"YQ=="}}`))
	f.Add([]byte(`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":3,"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}}}} {"apiVersion":"v1","kind":"Namespace"}`))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a\u00e9\n","args":["x",""],"ports":[{"containerPort":80.5}]}]}}`))
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","data":{"k":"v","k":"w"}}]}`))
	f.Add([]byte("{\n\"apiVersion\": \"v1\",\n\"kind\": \"Pod\",\n\"spex\": null, \"metadata\": {\"labels\": {\"a\": true}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := parseJSONStream(data); err != nil {
			return
		}
		fast, ferr := DecodeDocuments(data, api.Builtin())
		slow, serr := decodeYAML(data, api.Builtin())
		if serr != nil {
			// yaml.v3 rejects a few inputs that are valid JSON (for example
			// some control characters); the fast path is allowed to accept them.
			return
		}
		if ferr != nil {
			t.Fatalf("fast path error %v, YAML path none", ferr)
		}
		if len(fast) != len(slow) {
			t.Fatalf("fast path %d documents, YAML path %d", len(fast), len(slow))
		}
		for i := range fast {
			f, s := fast[i], slow[i]
			if (f.Err == nil) != (s.Err == nil) || (f.Err != nil && f.Err.Error() != s.Err.Error()) {
				t.Fatalf("document %d: fast error %v, YAML error %v", i, f.Err, s.Err)
			}
			if f.Index != s.Index || f.Line != s.Line || f.APIVersion != s.APIVersion || f.Kind != s.Kind {
				t.Fatalf("document %d: fast %+v, YAML %+v", i, f, s)
			}
			if f.Err == nil && !proto.Equal(f.Object, s.Object) {
				t.Fatalf("document %d: fast %v, YAML %v", i, f.Object, s.Object)
			}
		}
	})
}
