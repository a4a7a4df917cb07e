// Package workqueue is the deduplicating, rate-limited work queue that
// controllers pull keys from.
//
// Guarantees:
//   - An item added many times before a worker picks it up is handed out
//     once (deduplication).
//   - An item is never handed to two workers at once: an item added while it
//     is being processed is handed out again only after Done.
//   - AddAfter delays an item; AddAt queues it at a time of the queue's
//     clock (a deadline is kept to the letter, however the clock moved
//     since the caller read it); AddRateLimited delays it by the rate
//     limiter's per-item exponential backoff, which Forget resets.
//   - ShutDown stops accepting items; Get keeps handing out what is queued
//     and then reports the end. ShutDownWithDrain also waits until every
//     handed-out item is Done.
//
// Every operation is O(1) (amortised), except delayed adds, which are
// O(log n) in the number of delayed items.
package workqueue
