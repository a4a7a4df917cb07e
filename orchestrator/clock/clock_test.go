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
