// Package clock abstracts time so that components with timeouts, delays and
// leases can be tested with a fake clock that tests step by hand.
package clock
