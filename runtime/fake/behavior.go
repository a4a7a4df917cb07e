package fake

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// commandName is argv[0] of a command built by Command.
const commandName = "/fake/behave"

// Behavior is what a fake process does.
type Behavior struct {
	// Stdout and Stderr are written when the process starts.
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	// Exit makes the process exit by itself after RunFor with ExitCode.
	// Without it the process runs until it is signalled.
	Exit     bool          `json:"exit,omitempty"`
	RunFor   time.Duration `json:"runFor,omitempty"`
	ExitCode int           `json:"exitCode,omitempty"`
	// IgnoreTERM makes SIGTERM do nothing (only SIGKILL ends the process).
	// TrapTERM makes SIGTERM end it with TermExitCode. Otherwise SIGTERM
	// ends it with 143 (128+SIGTERM).
	IgnoreTERM   bool `json:"ignoreTerm,omitempty"`
	TrapTERM     bool `json:"trapTerm,omitempty"`
	TermExitCode int  `json:"termExitCode,omitempty"`
	// EchoStdin copies an exec's stdin to its stdout (exec only).
	EchoStdin bool `json:"echoStdin,omitempty"`
	// MemoryBytes is the reported memory working set (default 1 MiB).
	MemoryBytes uint64 `json:"memoryBytes,omitempty"`
}

// Command returns an argv that makes a fake container (or exec) behave as b.
func Command(b Behavior) []string {
	data, err := json.Marshal(b)
	if err != nil {
		// A Behavior always marshals; keep the signature simple.
		panic(err)
	}
	return []string{commandName, base64.RawURLEncoding.EncodeToString(data)}
}

// parseCommand decodes a command built by Command.
func parseCommand(argv []string) (Behavior, bool) {
	if len(argv) != 2 || argv[0] != commandName {
		return Behavior{}, false
	}
	data, err := base64.RawURLEncoding.DecodeString(argv[1])
	if err != nil {
		return Behavior{}, false
	}
	var b Behavior
	if err := json.Unmarshal(data, &b); err != nil {
		return Behavior{}, false
	}
	return b, true
}
