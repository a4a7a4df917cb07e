package workqueue_test

import (
	"context"
	"fmt"

	"github.com/coxswain-io/coxswain/orchestrator/workqueue"
)

func Example() {
	q := workqueue.New(workqueue.Config[string]{})
	defer q.ShutDown()
	ctx := context.Background()

	q.Add("default/web")
	q.Add("default/db")
	q.Add("default/web") // already queued: deduplicated
	fmt.Println("queued:", q.Len())

	key, _ := q.Get(ctx)
	q.Add(key) // re-added while processing: handed out again after Done
	fmt.Println("processing:", key, "ready:", q.Len())
	q.Done(key)
	fmt.Println("after Done, ready:", q.Len())
	// Output:
	// queued: 2
	// processing: default/web ready: 1
	// after Done, ready: 2
}
