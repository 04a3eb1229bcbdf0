// Package protocol is the Sentry tracing protocol that the propagator,
// sampling and bridge packages and the nested modules share: the
// sentry-trace header, the Dynamic Sampling Context in baggage, the
// "sentry" trace state member, OpenTelemetry consistent-sampling interop,
// rates and sample_rand, and the incoming state that Extract keeps in a
// context. It parses untrusted input in linear time, without panicking.
package protocol
