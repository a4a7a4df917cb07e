package clock

import (
	"testing"
	"time"
)

func TestFakeFiresInOrderWhenDue(t *testing.T) {
	start := time.Unix(100, 0)
	f := NewFake(start)
	a := f.After(2 * time.Second)
	b := f.After(time.Second)
	if f.Waiters() != 2 {
		t.Fatalf("Waiters = %d, want 2", f.Waiters())
	}
	f.Step(time.Second)
	select {
	case got := <-b:
		if !got.Equal(start.Add(time.Second)) {
			t.Fatalf("b fired with %v", got)
		}
	default:
		t.Fatal("b did not fire after 1s")
	}
	select {
	case <-a:
		t.Fatal("a fired early")
	default:
	}
	f.Set(start.Add(5 * time.Second))
	select {
	case <-a:
	default:
		t.Fatal("a did not fire after Set")
	}
	if f.Since(start) != 5*time.Second {
		t.Fatalf("Since = %v", f.Since(start))
	}
	select {
	case <-f.After(0):
	default:
		t.Fatal("After(0) did not fire at once")
	}
}

// At waits for a time, not a duration: a wait registered after the clock
// has moved past the moment the caller read it still ends at t.
func TestFakeAt(t *testing.T) {
	start := time.Unix(100, 0)
	f := NewFake(start)
	deadline := start.Add(time.Minute)
	f.Step(20 * time.Second) // the clock moves after the caller read it
	ch := f.At(deadline)
	f.Step(39 * time.Second)
	select {
	case <-ch:
		t.Fatal("At fired before its time")
	default:
	}
	f.Step(time.Second)
	select {
	case got := <-ch:
		if !got.Equal(deadline) {
			t.Fatalf("At fired with %v, want %v", got, deadline)
		}
	default:
		t.Fatal("At did not fire when the clock reached its time")
	}
	if f.Waiters() != 0 {
		t.Fatalf("Waiters = %d after At fired, want 0", f.Waiters())
	}
	for _, past := range []time.Time{deadline, start} {
		select {
		case got := <-f.At(past):
			if !got.Equal(f.Now()) {
				t.Fatalf("At(%v) fired with %v, want the current time %v", past, got, f.Now())
			}
		default:
			t.Fatalf("At(%v) with the clock at %v did not fire at once", past, f.Now())
		}
	}
}

func TestRealAt(t *testing.T) {
	var c Clock = Real{}
	select {
	case <-c.At(time.Now().Add(-time.Second)):
	case <-time.After(10 * time.Second):
		t.Fatal("At of a past time did not fire")
	}
	deadline := time.Now().Add(20 * time.Millisecond)
	got := <-c.At(deadline)
	if got.Before(deadline) {
		t.Fatalf("At fired at %v, before %v", got, deadline)
	}
}
