package resource_test

import (
	"fmt"

	"github.com/coxswain-io/coxswain/api/resource"
)

func ExampleParseQuantity() {
	for _, s := range []string{"1.5", "1024Mi", "2e3", "0.5Gi"} {
		q, err := resource.ParseQuantity(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(s, "=", q, q.MilliValue())
	}
	// Output:
	// 1.5 = 1500m 1500
	// 1024Mi = 1Gi 1073741824000
	// 2e3 = 2e3 2000000
	// 0.5Gi = 512Mi 536870912000
}

func ExampleList() {
	capacity, _ := resource.ParseList(map[string]string{"cpu": "2", "memory": "4Gi"})
	request, _ := resource.ParseList(map[string]string{"cpu": "500m", "memory": "1Gi"})
	left := capacity.Sub(request)
	fmt.Println(left.StringMap(), request.LessOrEqual(capacity))
	// Output: map[cpu:1500m memory:3Gi] true
}
