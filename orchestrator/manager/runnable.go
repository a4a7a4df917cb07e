package manager

import "context"

// Runnable is anything the manager runs: it works until ctx ends and then
// returns nil, or returns an error that stops the whole manager.
type Runnable interface {
	Start(ctx context.Context) error
}

// RunnableFunc adapts a function to a Runnable.
type RunnableFunc func(ctx context.Context) error

var _ Runnable = RunnableFunc(nil)

// Start calls f.
func (f RunnableFunc) Start(ctx context.Context) error { return f(ctx) }

// LeaderElectionRunnable is implemented by runnables that say whether they
// must run only on the elected leader. Runnables that do not implement it
// are leader-only. A leader-only runnable's Start is called each time this
// manager becomes leader, and its ctx ends when leadership is lost.
type LeaderElectionRunnable interface {
	NeedLeaderElection() bool
}

// Everywhere wraps r so that it runs on every replica, leader or not.
func Everywhere(r Runnable) Runnable { return everywhere{r} }

type everywhere struct{ Runnable }

func (everywhere) NeedLeaderElection() bool { return false }

func needsLeader(r Runnable) bool {
	if le, ok := r.(LeaderElectionRunnable); ok {
		return le.NeedLeaderElection()
	}
	return true
}
