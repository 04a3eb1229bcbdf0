// Package bench measures otelsentry's Sentry propagator beside the
// propagators a service could use instead, on equivalent headers of one
// sampled request, in an http.Header and a map carrier: Extract, Inject
// for a continued trace and for the head of a trace, and one request's
// Extract then Inject.
//
// The propagators, one sub-benchmark each (propagator=…):
//
//   - sentry: propagator.New, on sentry-trace and baggage;
//   - composite: propagator.Composite, on sentry-trace, traceparent and
//     baggage;
//   - w3c: propagation.TraceContext and propagation.Baggage, on
//     traceparent and the same baggage;
//   - b3: go.opentelemetry.io/contrib/propagators/b3 as b3.New configures
//     it, on the single b3 header, which carries the trace and span ids and
//     the sampled flag but no baggage;
//   - sentryotel: sentryotel.NewSentryPropagator of
//     github.com/getsentry/sentry-go/otel v0.44.1 (v0.49.0 and later no
//     longer have it), on sentry-trace and baggage; for the head of a trace
//     it needs the module's span processor and a sentry-go client, as it
//     finds a local span's sentry-trace and DSC only in the Sentry
//     transaction that processor starts.
//
// ExtractNoSentryTrace measures the Sentry propagator alone on a request
// that has traceparent and baggage but no sentry-trace.
//
// HTTP sends whole requests through otelhttp's client and server on
// 127.0.0.1 with no propagator (twice: the second is the control),
// TraceContext alone, B3, constant Sentry headers, the Sentry propagator,
// Composite and the three it replaces composed by hand, in an order
// shuffled anew every iteration, and reports each case's time per request
// and its excess over the case without propagation in percent.
// InjectTargets alternates Inject with and without a DSN and targets the
// same way and reports the difference.
//
// Every benchmark first checks, once, that the propagator continued the
// trace or wrote its headers, so a broken setup fails instead of reporting
// a fast number.
//
// Run them from the repository root with
//
//	make bench
//
// or from this module with
//
//	go test -run '^$' -bench . -benchmem -count 6 ./bench > bench.txt
//	benchstat -col /propagator bench.txt
package bench
