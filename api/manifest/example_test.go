package manifest_test

import (
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/manifest"
)

func ExampleDecode() {
	data := []byte(`
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: production
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        imagee: nginx
`)
	objs, err := manifest.Decode(data, api.Builtin())
	for _, obj := range objs {
		fmt.Printf("%T %s\n", obj, obj.GetMetadata().GetName())
	}
	fmt.Println(err)
	// Output:
	// *api.ConfigMap settings
	// document 1, line 19: spec.template.spec.containers[0].imagee: unknown field "imagee"
}

func ExampleEncode() {
	cm := &api.ConfigMap{
		Metadata: &api.ObjectMeta{Name: "settings", Labels: map[string]string{"app": "shop"}},
		Data:     map[string]string{"port": "8080"},
	}
	out, err := manifest.Encode(cm, manifest.YAML)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// apiVersion: v1
	// kind: ConfigMap
	// metadata:
	//   name: settings
	//   labels:
	//     app: shop
	// data:
	//   port: "8080"
}
