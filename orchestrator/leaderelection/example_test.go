package leaderelection_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/orchestrator/leaderelection"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func ExampleElector_Run() {
	s := memstore.New()
	e, _ := leaderelection.New(leaderelection.Config{
		Store:           s,
		Name:            "my-controller",
		Identity:        "replica-1",
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     2 * time.Second,
		ReleaseOnCancel: true,
	})
	ctx, cancel := context.WithCancel(context.Background())
	err := e.Run(ctx, func(leadCtx context.Context) {
		fmt.Println("leading:", e.IsLeader())
		cancel() // done with our work; Run releases the lease and returns
		<-leadCtx.Done()
	})
	fmt.Println("returned:", err, "leading:", e.IsLeader())
	// Output:
	// leading: true
	// returned: <nil> leading: false
}
