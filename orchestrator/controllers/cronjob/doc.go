// Package cronjob is the CronJob controller: it starts a CronJob's Jobs on
// its schedule.
//
// Schedules are standard five-field cron expressions or descriptors such as
// @hourly (parsed by github.com/robfig/cron/v3), evaluated in spec.timeZone
// (an IANA name; UTC when unset). On each pass the controller finds the
// latest schedule time since status.lastScheduleTime (or the CronJob's
// creation) that is not past spec.startingDeadlineSeconds, and starts a Job
// for it according to spec.concurrencyPolicy: Allow runs it alongside
// running Jobs; Forbid waits until none runs (the run starts late if it is
// still within the starting deadline then, and is skipped otherwise);
// Replace deletes the running Jobs first. spec.suspend stops new runs.
// Finished Jobs beyond successfulJobsHistoryLimit (default 3) and
// failedJobsHistoryLimit (default 1) are deleted, oldest first.
//
// Each Job is named after its CronJob and its schedule time (in minutes
// since the epoch), so a run is never started twice. The controller asks to
// be woken at the next schedule time through its Clock, so a test with a
// clock.Fake steps through a day of schedules in milliseconds.
package cronjob
