package wire

import (
	"encoding/json"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
)

// TestStatusJSONMatchesProtojson checks that the encoding/json Status codec
// writes and reads the same JSON protojson does, field for field.
func TestStatusJSONMatchesProtojson(t *testing.T) {
	tests := []struct {
		name string
		st   *api.Status
	}{
		{"empty", &api.Status{}},
		{"not found", &api.Status{Status: "Failure", Message: `pods "web" not found`, Reason: ReasonNotFound, Code: 404,
			Details: &api.StatusDetails{Name: "web", Kind: "pods"}}},
		{"invalid with causes", &api.Status{Status: "Failure", Message: "bad <spec> & more", Reason: ReasonInvalid, Code: 422,
			Details: &api.StatusDetails{Name: "x", Kind: "Pod", Uid: "u-1", Causes: []*api.StatusCause{
				{Reason: "FieldValueRequired", Message: "required", Field: "spec.containers"},
				{Reason: "FieldValueInvalid", Message: "bad", Field: "metadata.name"},
			}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pj, err := protojson.Marshal(tt.st)
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal(pj, &want); err != nil {
				t.Fatal(err)
			}
			want["apiVersion"], want["kind"] = "v1", "Status"
			var got map[string]any
			if err := json.Unmarshal(statusJSON(tt.st), &got); err != nil {
				t.Fatalf("statusJSON is not JSON: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("statusJSON = %v, protojson = %v", got, want)
			}
			back, err := decodeStatusJSON(statusJSON(tt.st))
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(back, tt.st) {
				t.Errorf("round trip = %v, want %v", back, tt.st)
			}
			fromPJ, err := decodeStatusJSON(pj)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(fromPJ, tt.st) {
				t.Errorf("decode of protojson = %v, want %v", fromPJ, tt.st)
			}
		})
	}
}
