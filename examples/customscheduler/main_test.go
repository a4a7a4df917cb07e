package main

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestCustomSchedulerBesideDefault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatal(err)
	}
	// The default scheduler spreads its three pods over the three nodes
	// (least-allocated scoring); the bin-packer puts its three on one.
	want := "default-scheduler: pods on 3 distinct node(s)\nbin-packer: pods on 1 distinct node(s)\n"
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
