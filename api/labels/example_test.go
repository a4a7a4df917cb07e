package labels_test

import (
	"fmt"

	"github.com/coxswain-io/coxswain/api/labels"
)

func ExampleParse() {
	sel, err := labels.Parse("app=web,tier!=db,env in (prod,canary),!legacy")
	if err != nil {
		panic(err)
	}
	fmt.Println(sel)
	fmt.Println(sel.Matches(labels.Set{"app": "web", "env": "prod"}))
	fmt.Println(sel.Matches(labels.Set{"app": "web", "env": "prod", "legacy": "true"}))
	// Output:
	// app=web,env in (canary,prod),!legacy,tier!=db
	// true
	// false
}
