package protocol

// Decision is a Sentry sampling decision for a trace.
type Decision uint8

const (
	// Deferred means nobody has decided yet; the next service decides.
	Deferred Decision = iota
	// Sampled means the trace is recorded.
	Sampled
	// NotSampled means the trace is not recorded.
	NotSampled
)

// String returns "deferred", "sampled" or "not sampled".
func (d Decision) String() string {
	switch d {
	case Sampled:
		return "sampled"
	case NotSampled:
		return "not sampled"
	}
	return "deferred"
}

// char returns the decision's character in the sentry trace state member.
func (d Decision) char() byte {
	switch d {
	case Sampled:
		return '1'
	case NotSampled:
		return '0'
	}
	return 'd'
}
