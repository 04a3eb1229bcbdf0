package propagator

import "github.com/otelsentry/otelsentry/internal/protocol"

// Decision is a Sentry sampling decision for a trace: Sampled, NotSampled
// or Deferred. Its String method returns "sampled", "not sampled" or
// "deferred".
type Decision = protocol.Decision

// The three decisions.
const (
	// Deferred means nobody has decided yet; the next service decides.
	Deferred = protocol.Deferred
	// Sampled means the trace is recorded.
	Sampled = protocol.Sampled
	// NotSampled means the trace is not recorded.
	NotSampled = protocol.NotSampled
)
