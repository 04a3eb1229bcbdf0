// Package sampling is an OpenTelemetry SDK sampler with Sentry's sampling
// semantics.
//
// Sentry decides once per trace, and every service must agree, or traces
// break into pieces. Each trace has one random number, sample_rand in
// [0,1), that travels in baggage; a service that decides samples the trace
// exactly when sample_rand < rate. New returns a sampler that follows those
// rules for each local root span (a span with no parent or a remote one):
//
//  1. the traces sampler (WithTracesSampler), if any, returns a rate;
//  2. else a sampled or negative parent decision is inherited;
//  3. else the traces sample rate (WithSampleRate) applies;
//  4. else the decision stays deferred ("tracing without performance"):
//     nothing is recorded here, and the next service decides.
//
// Spans with a local parent copy its decision. The sample_rand is the one
// that came in (kept by the propagator package's Extract), or, at the head
// of a trace, OTel's consistent-sampling randomness when the parent carries
// one, else one derived from the trace id, which Inject derives too. It is
// never drawn again for a decision; propagator.DSCFromContext reads it, and
// propagator.DecisionFromContext the decision.
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(0.25))),
//		sdktrace.WithBatcher(exporter),
//	)
//	otel.SetTracerProvider(tp)
//	otel.SetTextMapPropagator(propagator.Composite())
//
// The sampler records its decision in the span's "sentry" trace state
// member: the decision, sample_rand, the rate it applied, whether this
// process is the head of the trace, and, there, the transaction name. So
// every child span, even in a goroutine that only holds the SpanContext,
// injects the same sentry-trace flag and Dynamic Sampling Context.
//
// A traces sampler sees the parent's decision as a propagator.Decision, and
// keeps upstream decisions with Inherit:
//
//	sampling.New(sampling.WithTracesSampler(func(c sampling.SamplingContext) float64 {
//		if c.Name == "GET /healthz" {
//			return 0
//		}
//		return c.Inherit(0.1) // the parent's rate or decision, else 10%
//	}))
//
// # Transaction names
//
// The head of a trace names its transaction after the local root span, as
// the sampler sees it when the span starts: the only moment OpenTelemetry
// shows a sampler a span's name. A name whose source is a raw URL is left
// out, as Sentry does. otelhttp.NewHandler wrapped around a whole mux
// starts its span before routing, as "GET" without http.route; wrap each
// route's handler inside the mux instead, so the route is known at start:
//
//	mux.Handle("GET /users/{id}", otelhttp.NewHandler(usersHandler, "GET /users/{id}"))
//
// # Beside other samplers
//
// New replaces sdktrace.ParentBased: it already honours remote and local
// parents. Used as the root sampler of ParentBased(sampling.New(...)), it
// decides local roots without a parent, and ParentBased's own defaults
// decide the rest: remote sampled parents are kept, and remote parents
// without FlagsSampled are dropped, deferred ones included, which then
// stay deferred downstream because the "sentry" member is carried on. A
// plain ParentBased(AlwaysSample()) behaves the same way for a deferred
// Sentry parent: the span is dropped and the trace stays deferred.
//
// # OpenTelemetry consistent probability sampling
//
// WithConsistentSampling(true) also maintains the "ot" trace state member
// (rv, the randomness derived from sample_rand, and th, the threshold of the
// rate a span was sampled at), so that OTel consistent probability samplers
// downstream decide as Sentry did.
package sampling
