// Package propagator carries Sentry distributed traces on OpenTelemetry.
//
// New returns a propagation.TextMapPropagator for the two headers Sentry
// SDKs send between services:
//
//	sentry-trace: <32 hex trace id>-<16 hex span id>[-<0|1>]
//	baggage: sentry-trace_id=...,sentry-sample_rate=0.25,sentry-sample_rand=0.0812,...
//
// The flag is 1 for a sampled trace, 0 for a trace that is not, and absent
// while nobody has decided (deferred). The "sentry-" members of baggage are
// the Dynamic Sampling Context (DSC) that Sentry's ingest samples by.
//
// Extract continues the trace in sentry-trace: the remote SpanContext gets
// its trace and span ids, FlagsSampled for "-1", and a trace state member
// "sentry=s:<1|0|d>;r:<sample_rand>" that keeps "not sampled" and
// "deferred" apart for any sampler and any goroutine. The incoming DSC is
// frozen: it is kept, unchanged, in the context. Baggage without a valid
// sentry-trace is ignored, and third-party members are never forwarded. A
// "sentry" member that arrives in tracestate, from a W3C hop, keeps only
// its decision and sample_rand: the rest describes the process that wrote
// it.
//
// Inject writes sentry-trace for the current span and merges the DSC into
// the carrier's baggage: the frozen one of a continued trace, or, for a
// trace this process started, one built from the options. Other vendors'
// members already in the carrier stay; stale Sentry members go.
//
// Composite is the propagator to install: W3C trace context, W3C baggage
// and the Sentry propagator, in one pass, as bridge.Setup installs it:
//
//	otel.SetTextMapPropagator(propagator.Composite(
//		propagator.WithDSN(os.Getenv("SENTRY_DSN")),
//	))
//
// With Composite, the "sentry" trace state member also reaches W3C peers in
// tracestate; the DSC never does. A deferred trace reaches them as an
// unsampled traceparent, which their parent-based samplers drop. New, the
// Sentry propagator alone, is for composites built elsewhere: put it after
// propagation.TraceContext and propagation.Baggage, so that Baggage's
// Inject does not overwrite the Sentry members and a valid sentry-trace
// takes precedence over traceparent.
//
// Two accessors read a context's Sentry state, for logs, error reports and
// decisions in handlers:
//
//	propagator.DecisionFromContext(ctx) // Sampled, NotSampled or Deferred
//	propagator.DSCFromContext(ctx, nil) // the DSC sent downstream, decoded;
//	                                    // "sample_rand" is the trace's
//
// # Outgoing requests
//
// WithTracePropagationTargets limits the requests that get the headers, by
// the URL that ContextWithURL records; requests to the DSN's ingest never
// get them, and SuppressInject turns Inject off for one context. Composite
// then writes no trace header at all, W3C ones included; New withholds its
// own two.
//
// # Bad input
//
// Malformed input never fails a request: an invalid sentry-trace is
// ignored, so the service starts its own trace; a malformed baggage member
// is skipped and the rest kept; only the first 8192 bytes and 64 members of
// baggage are read. Options that are nil are ignored.
package propagator
