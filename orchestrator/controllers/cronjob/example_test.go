package cronjob_test

import (
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/orchestrator/controllers/cronjob"
)

// Schedule parses a CronJob's schedule in its time zone: weekdays at 09:00
// in Paris, shown in UTC.
func ExampleSchedule() {
	tz := "Europe/Paris"
	sched, loc, err := cronjob.Schedule("0 9 * * 1-5", &tz)
	if err != nil {
		panic(err)
	}
	t := time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC) // a Friday
	for range 3 {
		t = sched.Next(t.In(loc))
		fmt.Println(t.UTC().Format(time.RFC1123))
	}
	// Output:
	// Mon, 30 Mar 2026 07:00:00 UTC
	// Tue, 31 Mar 2026 07:00:00 UTC
	// Wed, 01 Apr 2026 07:00:00 UTC
}
