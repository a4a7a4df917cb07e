package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"testing"
	"time"
)

func TestRequestString(t *testing.T) {
	tests := []struct {
		req  Request
		want string
	}{
		{Request{Namespace: "default", Name: "web"}, "default/web"},
		{Request{Name: "node-1"}, "node-1"},
	}
	for _, tt := range tests {
		if got := tt.req.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.req, got, tt.want)
		}
	}
}

func TestTerminal(t *testing.T) {
	base := fmt.Errorf("open config: %w", fs.ErrNotExist)
	tests := []struct {
		name         string
		err          error
		wantTerminal bool
	}{
		{"nil", nil, false},
		{"plain", base, false},
		{"terminal", Terminal(base), true},
		{"wrapped terminal", fmt.Errorf("reconcile: %w", Terminal(base)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTerminal(tt.err); got != tt.wantTerminal {
				t.Fatalf("IsTerminal = %v, want %v", got, tt.wantTerminal)
			}
			if tt.err != nil && !errors.Is(tt.err, fs.ErrNotExist) {
				t.Fatalf("wrapped cause lost: %v", tt.err)
			}
		})
	}
	if Terminal(nil) != nil {
		t.Fatal("Terminal(nil) != nil")
	}
}

func TestFuncAndResult(t *testing.T) {
	var got Request
	r := Func(func(_ context.Context, req Request) (Result, error) {
		got = req
		return Result{RequeueAfter: time.Second}, nil
	})
	res, err := r.Reconcile(context.Background(), Request{Namespace: "a", Name: "b"})
	if err != nil || res.RequeueAfter != time.Second || res.IsZero() {
		t.Fatalf("Reconcile = %+v, %v", res, err)
	}
	if got != (Request{Namespace: "a", Name: "b"}) {
		t.Fatalf("reconciler saw %v", got)
	}
	if !(Result{}).IsZero() {
		t.Fatal("zero Result is not IsZero")
	}
}

func TestLoggerFromContext(t *testing.T) {
	if Logger(context.Background()) != slog.Default() {
		t.Fatal("Logger without one in ctx is not slog.Default")
	}
	l := slog.New(slog.DiscardHandler)
	if Logger(WithLogger(context.Background(), l)) != l {
		t.Fatal("Logger did not return the ctx logger")
	}
}
