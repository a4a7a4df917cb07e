package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote/internal/wire"
)

// watchBuffer is the capacity of a client watch's channel.
const watchBuffer = 256

// clientWatch is a watch that survives dropped connections: it remembers
// how far it has delivered and reconnects from there.
//
// Position: rev is the revision of the last delivered event (or bookmark),
// sameRev how many events of revision rev were delivered (a transaction
// writes several objects at one revision). A reconnect watches from rev-1
// and skips the first sameRev events of revision rev, or from rev when
// sameRev is 0, so nothing is lost or repeated.
type clientWatch struct {
	c      *Client
	kind   string
	opts   store.WatchOptions
	ch     chan store.Event
	cancel context.CancelFunc
	done   chan struct{}

	rev     int64
	sameRev int

	mu  sync.Mutex
	err error
}

// Watch streams changes, reconnecting (to any of the servers) after a
// dropped connection and resuming from the last delivered revision. The
// channel closes when ctx ends or Stop is called (Err nil), when the
// history needed to resume was compacted (ErrCompacted; relist), when the
// server refuses the watch, or when no server could be reached for
// WatchRetryTimeout (ErrUnavailable). A consumer that does not read
// applies back-pressure to the connection; the server then drops it as too
// slow and the client resumes, so writers are never blocked.
func (c *Client) Watch(ctx context.Context, kind string, opts store.WatchOptions) (store.Watch, error) {
	info, err := c.lookup(kind)
	if err != nil {
		return nil, err
	}
	if opts.Revision < 0 {
		return nil, store.Errorf(store.ErrInvalid, "watch %s: negative revision", kind)
	}
	if info.Scope == api.ClusterScoped && opts.Namespace != "" {
		return nil, store.Errorf(store.ErrInvalid, "watch %s: kind is cluster-scoped, namespace must be empty", kind)
	}
	wctx, cancel := context.WithCancel(ctx)
	w := &clientWatch{c: c, kind: kind, opts: opts, ch: make(chan store.Event, watchBuffer), cancel: cancel, done: make(chan struct{}), rev: opts.Revision}
	resp, err := w.open(wctx)
	if err != nil {
		cancel()
		return nil, err
	}
	go w.run(wctx, resp)
	return w, nil
}

// Events returns the event channel.
func (w *clientWatch) Events() <-chan store.Event { return w.ch }

// Stop ends the watch and waits until its channel is closed.
func (w *clientWatch) Stop() {
	w.cancel()
	<-w.done
}

// Err says why the channel closed.
func (w *clientWatch) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// open starts a stream from the watch's current position.
func (w *clientWatch) open(ctx context.Context) (*http.Response, error) {
	info, _ := w.c.lookup(w.kind)
	from := w.rev
	if w.sameRev > 0 {
		from = w.rev - 1
		if from == 0 {
			// Revision 0 means "from now": the rest of revision 1 cannot
			// be replayed, so the caller must relist.
			return nil, store.Errorf(store.ErrCompacted, "watch %s: cannot resume inside revision 1", w.kind)
		}
	}
	q := url.Values{"watch": {"true"}, "allowWatchBookmarks": {"true"}}
	if from > 0 {
		q.Set("resourceVersion", strconv.FormatInt(from, 10))
	}
	setIf(q, "labelSelector", w.opts.LabelSelector)
	setIf(q, "fieldSelector", w.opts.FieldSelector)
	resp, err := w.c.do(ctx, request{method: http.MethodGet, path: wire.ResourcePath(info, w.opts.Namespace, "", ""), query: q, idempotent: true})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, w.c.responseError(resp)
	}
	if w.rev == 0 {
		start, err := strconv.ParseInt(resp.Header.Get(wire.HeaderWatchRevision), 10, 64)
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("%w: watch response without a valid %s header", store.ErrUnavailable, wire.HeaderWatchRevision)
		}
		w.rev = start
	}
	return resp, nil
}

func (w *clientWatch) finish(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	close(w.ch)
	close(w.done)
}

// resumable reports whether a stream that ended with err should be resumed.
func resumable(err error) bool {
	return !errors.Is(err, store.ErrCompacted) && !errors.Is(err, store.ErrInvalid) &&
		!errors.Is(err, store.ErrForbidden) && !errors.Is(err, store.ErrNotFound)
}

func (w *clientWatch) run(ctx context.Context, resp *http.Response) {
	var failingSince time.Time
	backoff := 50 * time.Millisecond
	for {
		var err error
		if resp != nil {
			err = w.stream(ctx, resp)
			failingSince = time.Time{}
			backoff = 50 * time.Millisecond
		}
		if ctx.Err() != nil {
			w.finish(nil)
			return
		}
		if err != nil && !resumable(err) {
			w.finish(err)
			return
		}
		resp, err = w.open(ctx)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			w.finish(nil)
			return
		}
		if !resumable(err) {
			w.finish(err)
			return
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
		}
		if time.Since(failingSince) > w.c.cfg.WatchRetryTimeout {
			w.finish(fmt.Errorf("%w: watch %s: reconnect failed for %s: %v", store.ErrUnavailable, w.kind, w.c.cfg.WatchRetryTimeout, err))
			return
		}
		w.c.cfg.Logger.Debug("remote: watch reconnect failed", "kind", w.kind, "revision", w.rev, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// stream delivers the events of one response until it ends.
func (w *clientWatch) stream(ctx context.Context, resp *http.Response) error {
	defer resp.Body.Close()
	// A stream silent for WatchIdleTimeout is presumed dead: closing the
	// body ends the read below, and the watch reconnects.
	idle := time.AfterFunc(w.c.cfg.WatchIdleTimeout, func() {
		w.c.cfg.Logger.Debug("remote: watch stream idle, reconnecting", "kind", w.kind, "revision", w.rev)
		_ = resp.Body.Close()
	})
	defer idle.Stop()
	f := wire.FormatJSON
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt == wire.MediaProtobuf {
		f = wire.FormatProtobuf
	}
	r := wire.NewEventReader(w.c.codec, f, resp.Body)
	skipRev, skip := w.rev, 0
	if w.sameRev > 0 {
		skip = w.sameRev
	}
	for {
		ev, err := r.Next()
		idle.Reset(w.c.cfg.WatchIdleTimeout)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
		if ev.Type == store.EventBookmark {
			if ev.Revision > w.rev || (ev.Revision == w.rev && skip == 0) {
				w.rev, w.sameRev, skip = ev.Revision, 0, 0
			} else {
				continue
			}
			if !w.opts.Bookmarks {
				continue
			}
		} else {
			if ev.Revision == skipRev && skip > 0 {
				skip--
				continue
			}
			skip = 0
			if ev.Revision < w.rev {
				continue
			}
			if ev.Revision == w.rev {
				w.sameRev++
			} else {
				w.rev, w.sameRev = ev.Revision, 1
			}
		}
		select {
		case w.ch <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
