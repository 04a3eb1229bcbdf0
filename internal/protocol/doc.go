// Package protocol is the Sentry tracing protocol that the propagator,
// sampling and bridge packages and the nested modules share. It parses
// untrusted input in linear time, without panicking.
//
// Its files go from the top of a request down to bytes; a call never goes
// back up:
//
//	context.go      the Sentry state a context holds for a trace
//	dsc.go          the Dynamic Sampling Context: continued or started here
//	sentrytrace.go  the sentry-trace header
//	tracecontext.go the W3C traceparent and tracestate headers
//	tracestate.go   the "sentry" trace state member
//	samplerand.go   sample_rand and sample rates
//	consistent.go   the "ot" trace state member of OTel consistent sampling
//	baggage.go      the W3C baggage lexer and writer
//	decision.go     the sampling decision
//	transaction.go  the transaction source of a local root span
//	bytes.go        byte classes, hex, percent escapes, whitespace
package protocol
