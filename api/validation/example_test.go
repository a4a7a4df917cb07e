package validation_test

import (
	"errors"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/validation"
)

func ExampleValidateObject() {
	pod := &api.Pod{
		Metadata: &api.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"}},
		Spec: &api.PodSpec{Containers: []*api.Container{
			{Name: "web", Image: "nginx", Ports: []*api.ContainerPort{{ContainerPort: 80}}},
			{Name: "web", Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "half"}}},
		}},
	}
	validation.Default(pod)
	err := validation.ValidateObject(pod)
	fmt.Println(err)
	fmt.Println(errors.Is(err, validation.ErrInvalid))
	// Output:
	// spec.containers[1].name: duplicate value "web"
	// spec.containers[1].image: required value
	// spec.containers[1].resources.requests[cpu]: invalid value "half": must be a quantity such as 500m, 1.5, 128Mi or 1G
	// true
}

func ExampleDefault() {
	svc := &api.Service{
		Metadata: &api.ObjectMeta{Name: "web"},
		Spec:     &api.ServiceSpec{Ports: []*api.ServicePort{{Port: 80}}},
	}
	validation.Default(svc)
	p := svc.GetSpec().GetPorts()[0]
	fmt.Println(svc.GetSpec().GetType(), svc.GetSpec().GetSessionAffinity(), p.GetProtocol(), p.GetTargetPort().GetIntVal())
	// Output: ClusterIP None TCP 80
}

func ExampleValidateUpdate() {
	old := &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "settings"}, Immutable: true, Data: map[string]string{"mode": "a"}}
	changed := &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "settings"}, Immutable: true, Data: map[string]string{"mode": "b"}}
	fmt.Println(validation.ValidateUpdate(changed, old))
	// Output: data: forbidden: may not change when immutable is true
}
