package fields_test

import (
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/fields"
)

func ExampleParse() {
	sel, err := fields.Parse("spec.nodeName=n1,status.phase!=Succeeded")
	if err != nil {
		panic(err)
	}
	pod := &api.Pod{Spec: &api.PodSpec{NodeName: "n1"}, Status: &api.PodStatus{Phase: "Running"}}
	fmt.Println(sel.Matches(pod))
	node, ok := sel.RequiresExactMatch("spec.nodeName")
	fmt.Println(node, ok)
	// Output:
	// true
	// n1 true
}
