package validation_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/validation"
)

func TestValidateUpdate(t *testing.T) {
	pvc := func(storage string) *api.PersistentVolumeClaim {
		return &api.PersistentVolumeClaim{Metadata: &api.ObjectMeta{Name: "c"}, Spec: &api.PersistentVolumeClaimSpec{
			AccessModes: []string{"ReadWriteOnce"},
			Resources:   &api.ResourceRequirements{Requests: map[string]string{"storage": storage}},
		}}
	}
	tests := []struct {
		name   string
		old    api.Object
		update func() api.Object
		want   []string
	}{
		{"deployment scale is fine", deployment(), func() api.Object {
			d := deployment()
			d.Spec.Replicas = proto.Int32(10)
			d.Spec.Template.Spec.Containers[0].Image = "nginx:1.26"
			return d
		}, nil},
		{"deployment selector and name", deployment(), func() api.Object {
			d := deployment()
			d.Metadata.Name = "web2"
			d.Spec.Selector.MatchLabels["tier"] = "front"
			return d
		}, []string{
			`metadata.name: invalid value "web2": field is immutable (was web)`,
			`spec.selector: forbidden: field is immutable`,
		}},
		{"pvc grows", pvc("1Gi"), func() api.Object { return pvc("2Gi") }, nil},
		{"pvc shrinks and changes mode", pvc("2Gi"), func() api.Object {
			c := pvc("1Gi")
			c.Spec.AccessModes = []string{"ReadWriteMany"}
			return c
		}, []string{
			`spec.resources.requests[storage]: invalid value "1Gi": may not be less than the previous request 2Gi`,
			`spec: forbidden: is immutable after creation except resources.requests and volumeName`,
		}},
		{"immutable configmap", &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "c"}, Immutable: true, Data: map[string]string{"a": "1"}}, func() api.Object {
			return &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "c"}, Immutable: true, Data: map[string]string{"a": "2"}}
		}, []string{`data: forbidden: may not change when immutable is true`}},
		{"service clusterIP", &api.Service{Metadata: &api.ObjectMeta{Name: "s"}, Spec: &api.ServiceSpec{ClusterIp: "10.0.0.1", Ports: []*api.ServicePort{{Port: 80}}}}, func() api.Object {
			return &api.Service{Metadata: &api.ObjectMeta{Name: "s"}, Spec: &api.ServiceSpec{ClusterIp: "10.0.0.2", Ports: []*api.ServicePort{{Port: 80}}}}
		}, []string{`spec.clusterIP: invalid value "10.0.0.2": field is immutable (was 10.0.0.1)`}},
		{"kind change", deployment(), func() api.Object { return &api.Pod{} }, []string{`kind: invalid value "Pod": may not change from Deployment`}},
		{"update still validates", deployment(), func() api.Object {
			d := deployment()
			d.Spec.Replicas = proto.Int32(-5)
			return d
		}, []string{`spec.replicas: invalid value "-5": must be greater than or equal to 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validation.ValidateUpdate(tt.update(), tt.old)
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
				if !errors.Is(err, validation.ErrInvalid) {
					t.Error("not ErrInvalid")
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestRegisterCustomKind(t *testing.T) {
	// api.Scale has ObjectMeta metadata but is not a built-in stored kind,
	// so it stands in for a user's own message.
	rules := func(obj api.Object) validation.ErrorList {
		if obj.(*api.Scale).GetSpec().GetReplicas() > 100 {
			return validation.ErrorList{{Type: validation.TypeInvalid, Path: "spec.replicas", Value: "too many", Detail: "must be at most 100"}}
		}
		return nil
	}
	if err := validation.Register(&api.Scale{}, rules); err != nil {
		t.Fatal(err)
	}
	if err := validation.Register(&api.Scale{}, rules); err == nil {
		t.Error("second Register accepted")
	}
	obj := &api.Scale{Metadata: &api.ObjectMeta{Name: "Bad_Name"}, Spec: &api.ScaleSpec{Replicas: 101}}
	err := validation.ValidateObject(obj)
	want := `metadata.name: invalid value "Bad_Name": must be a lower-case RFC 1123 subdomain: labels of a-z, 0-9 and '-' separated by '.', at most 253 characters` + "\n" +
		`spec.replicas: invalid value "too many": must be at most 100`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}
