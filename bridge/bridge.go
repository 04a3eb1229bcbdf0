package bridge

import (
	"context"
	"html/template"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/targets"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// Header and environment variable names of the Sentry trace headers.
const (
	HeaderSentryTrace = "sentry-trace"
	HeaderBaggage     = "baggage"
	EnvSentryTrace    = "SENTRY_TRACE"
	EnvSentryBaggage  = "SENTRY_BAGGAGE"
)

// Bridge is one Sentry configuration on OpenTelemetry: its propagators, its
// sampler and the Sentry SDK's trace helpers as methods. New builds one and
// installs nothing; Setup builds one and installs it.
type Bridge struct {
	cfg config
	// sentry is the Sentry propagator, gated by the targets; untargeted is
	// the same without targets, for carriers that have no URL (TG-6) and
	// for the helper strings.
	sentry, untargeted propagation.TextMapPropagator
	composite          propagation.TextMapPropagator
	sampler            sdktrace.Sampler
}

// New returns the configuration that opts and the SENTRY_* environment
// variables describe, without installing anything. It fails with an error
// wrapping ErrInvalidDSN or ErrInvalidSampleRate for invalid settings.
func New(opts ...Option) (*Bridge, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	b := &Bridge{
		cfg:        cfg,
		untargeted: propagator.New(cfg.propagatorOptions()...),
		sentry:     propagator.New(append(cfg.propagatorOptions(), propagator.WithTracePropagationTargets(cfg.targets))...),
		sampler:    sampling.New(cfg.samplingOptions()...),
	}
	members := []propagation.TextMapPropagator{propagation.TraceContext{}}
	if !cfg.noBaggage {
		members = append(members, propagation.Baggage{})
	}
	b.composite = gate{
		TextMapPropagator: propagation.NewCompositeTextMapPropagator(append(members, b.sentry)...),
		// The Sentry member warns about unknown URLs; the gate need not.
		policy: targets.NewPolicy(targets.Matchers(cfg.targets), cfg.ingest, cfg.logger, false),
	}
	return b, nil
}

// Propagator returns the composite to install as the global propagator: W3C
// trace context, W3C baggage (unless WithoutBaggagePropagator) and Sentry,
// in that order. For a request outside the trace propagation targets, or
// in a context from SuppressInject, none of them injects anything.
func (b *Bridge) Propagator() propagation.TextMapPropagator { return b.composite }

// SentryPropagator returns the Sentry propagator alone, for composites
// built elsewhere (OTEL_PROPAGATORS).
func (b *Bridge) SentryPropagator() propagation.TextMapPropagator { return b.sentry }

// Sampler returns the Sentry sampler of the configuration.
func (b *Bridge) Sampler() sdktrace.Sampler { return b.sampler }

// ContinueTrace continues the trace in a sentry-trace and a baggage value,
// as Sentry SDKs' continueTrace does: the returned context carries the
// remote parent and the frozen DSC, and the next span started from it
// joins the trace. It starts no span. Without an acceptable trace (missing
// or invalid sentry-trace, another organization), the returned context has
// no span at all, so the next span starts a new trace.
func (b *Bridge) ContinueTrace(ctx context.Context, sentryTrace, baggage string) context.Context {
	return b.ContinueTraceFromCarrier(ctx, propagation.MapCarrier{HeaderSentryTrace: sentryTrace, HeaderBaggage: baggage})
}

// ContinueTraceFromHeaders is ContinueTrace for an incoming request's
// headers, all their values included.
func (b *Bridge) ContinueTraceFromHeaders(ctx context.Context, h http.Header) context.Context {
	return b.ContinueTraceFromCarrier(ctx, propagation.HeaderCarrier(h))
}

// ContinueTraceFromMetadata is ContinueTrace for a job's or message's
// metadata, under the exact keys "sentry-trace" and "baggage".
func (b *Bridge) ContinueTraceFromMetadata(ctx context.Context, metadata map[string]string) context.Context {
	return b.ContinueTraceFromCarrier(ctx, propagation.MapCarrier(metadata))
}

// ContinueTraceFromEnv is ContinueTrace for the SENTRY_TRACE and
// SENTRY_BAGGAGE environment variables of this process, as a parent
// process set them with InjectEnv.
func (b *Bridge) ContinueTraceFromEnv(ctx context.Context) context.Context {
	return b.ContinueTrace(ctx, b.cfg.getenv(EnvSentryTrace), b.cfg.getenv(EnvSentryBaggage))
}

// ContinueTraceFromCarrier is ContinueTrace for any carrier.
func (b *Bridge) ContinueTraceFromCarrier(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	// Extract starts from a context without a trace, so that one the
	// caller is in never survives an unacceptable incoming one.
	return b.sentry.Extract(protocol.WithoutTrace(ctx), carrier)
}

// Inject writes sentry-trace and the Sentry baggage members for ctx into a
// carrier that is not an HTTP request (message metadata, environment
// variables): the trace propagation targets do not apply.
func (b *Bridge) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	b.untargeted.Inject(ctx, carrier)
}

// InjectEnv returns env with SENTRY_TRACE and SENTRY_BAGGAGE set for ctx,
// replacing earlier entries, for a subprocess's exec.Cmd.Env. The process's
// own environment is not touched.
func (b *Bridge) InjectEnv(ctx context.Context, env []string) []string {
	env = removeEnv(env, EnvSentryTrace, EnvSentryBaggage)
	c := NewEnvCarrier(&env)
	b.Inject(ctx, c)
	return env
}

// Traceparent returns the sentry-trace value for ctx's span, the header
// Sentry SDKs call the traceparent, or "" without a valid span.
func (b *Bridge) Traceparent(ctx context.Context) string {
	return protocol.SentryTrace(trace.SpanContextFromContext(ctx))
}

// Baggage returns the Sentry baggage members for ctx's trace, serialised,
// or "". For a trace started here it is the head's DSC, which, under the
// sampling package's sampler, does not change afterwards.
func (b *Bridge) Baggage(ctx context.Context) string {
	c := propagation.MapCarrier{}
	b.untargeted.Inject(ctx, c)
	return c[HeaderBaggage]
}

// MetaTags returns the HTML meta tags through which the Sentry browser SDK
// continues a trace rendered on the server: sentry-trace, a newline, and
// baggage, with escaped contents. It returns "" without a valid span and
// leaves out the baggage tag when there is no baggage.
func (b *Bridge) MetaTags(ctx context.Context) template.HTML {
	sentryTrace := b.Traceparent(ctx)
	if sentryTrace == "" {
		return ""
	}
	var s strings.Builder
	writeMetaTag(&s, HeaderSentryTrace, sentryTrace)
	if baggage := b.Baggage(ctx); baggage != "" {
		s.WriteByte('\n')
		writeMetaTag(&s, HeaderBaggage, baggage)
	}
	return template.HTML(s.String()) // writeMetaTag escaped every value
}

func writeMetaTag(s *strings.Builder, name, content string) {
	s.WriteString(`<meta name="`)
	s.WriteString(template.HTMLEscapeString(name))
	s.WriteString(`" content="`)
	s.WriteString(template.HTMLEscapeString(content))
	s.WriteString(`">`)
}

// ServerTiming returns a Server-Timing header value carrying sentry-trace
// and baggage, which the Sentry browser SDK reads when a page cannot carry
// meta tags, or "" without a valid span.
func (b *Bridge) ServerTiming(ctx context.Context) string {
	sentryTrace := b.Traceparent(ctx)
	if sentryTrace == "" {
		return ""
	}
	v := HeaderSentryTrace + ";desc=" + quote(sentryTrace)
	if baggage := b.Baggage(ctx); baggage != "" {
		v += ", " + HeaderBaggage + ";desc=" + quote(baggage)
	}
	return v
}

// quote writes s as an HTTP quoted-string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// gate skips every member's Inject for a request outside the targets, to
// the DSN's ingest, or in a suppressed context.
type gate struct {
	propagation.TextMapPropagator
	policy *targets.Policy
}

func (g gate) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if protocol.InjectSuppressed(ctx) || !g.policy.Allows(ctx, carrier) {
		return
	}
	g.TextMapPropagator.Inject(ctx, carrier)
}
