package fake

import (
	"context"
	"io"
	"sync"

	"github.com/coxswain-io/coxswain/runtime"
)

// logBuf is a container's stdout and stderr in memory.
type logBuf struct {
	mu      sync.Mutex
	data    [2][]byte // 0: stdout, 1: stderr
	closed  bool
	changed chan struct{} // closed and replaced on every write or close
}

func newLogBuf() *logBuf { return &logBuf{changed: make(chan struct{})} }

func (l *logBuf) write(stream int, s string) {
	if s == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.data[stream] = append(l.data[stream], s...)
	close(l.changed)
	l.changed = make(chan struct{})
}

// close marks the end of the log (the process exited).
func (l *logBuf) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *logBuf) copyTo(ctx context.Context, opts runtime.LogOptions, w io.Writer) error {
	var streams []int
	switch opts.Stream {
	case runtime.LogStdout:
		streams = []int{0}
	case runtime.LogStderr:
		streams = []int{1}
	default:
		streams = []int{0, 1}
	}
	var off [2]int
	for {
		l.mu.Lock()
		var chunks [][]byte
		for _, s := range streams {
			if n := len(l.data[s]); n > off[s] {
				chunks = append(chunks, l.data[s][off[s]:n])
				off[s] = n
			}
		}
		closed, changed := l.closed, l.changed
		l.mu.Unlock()
		for _, c := range chunks {
			if _, err := w.Write(c); err != nil {
				return err
			}
		}
		if !opts.Follow || (closed && len(chunks) == 0) {
			return nil
		}
		if len(chunks) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}
