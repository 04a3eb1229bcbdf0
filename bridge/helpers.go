package bridge

import (
	"context"
	"html/template"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
)

// The helpers below work with the global propagator, the one Setup
// installs (or any composite holding the Sentry propagator, installed with
// otel.SetTextMapPropagator), as it is at the time of each call.

// The environment variables that carry the Sentry trace headers to a
// subprocess.
const (
	envSentryTrace   = "SENTRY_TRACE"
	envSentryBaggage = "SENTRY_BAGGAGE"
)

// ContinueTrace continues the trace in a sentry-trace and a baggage value,
// as Sentry SDKs' continueTrace does: the returned context carries the
// remote parent and the frozen DSC, and the next span started from it
// joins the trace. It starts no span. Without an acceptable trace (missing
// or invalid sentry-trace, another organization), the returned context has
// no span at all, so the next span starts a new trace.
func ContinueTrace(ctx context.Context, sentryTrace, baggage string) context.Context {
	return ContinueTraceFromCarrier(ctx, propagation.MapCarrier{protocol.HeaderSentryTrace: sentryTrace, protocol.HeaderBaggage: baggage})
}

// ContinueTraceFromCarrier is ContinueTrace for any carrier: an incoming
// request's headers (propagation.HeaderCarrier), a job's metadata
// (propagation.MapCarrier, under the exact keys "sentry-trace" and
// "baggage"), a MessageCarrier. A nil carrier holds no trace.
func ContinueTraceFromCarrier(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	// Extract starts from a context without a trace, so that the one the
	// caller is in never survives an unacceptable incoming one.
	ctx = protocol.WithoutTrace(ctx)
	if carrier == nil {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, carrier)
}

// ContinueTraceFromEnv is ContinueTrace for the SENTRY_TRACE and
// SENTRY_BAGGAGE environment variables of this process, as a parent
// process set them with InjectEnv.
func ContinueTraceFromEnv(ctx context.Context) context.Context {
	return ContinueTrace(ctx, os.Getenv(envSentryTrace), os.Getenv(envSentryBaggage))
}

// InjectEnv returns env with the trace headers for ctx set, SENTRY_TRACE
// and SENTRY_BAGGAGE among them (see EnvCarrier), replacing earlier
// entries, for a subprocess's exec.Cmd.Env. The process's own environment
// is not touched.
func InjectEnv(ctx context.Context, env []string) []string {
	env = removeEnv(env, envSentryTrace, envSentryBaggage)
	otel.GetTextMapPropagator().Inject(ctx, NewEnvCarrier(&env))
	return env
}

// Traceparent returns the sentry-trace value for ctx's span, the header
// Sentry SDKs call the traceparent, or "" without a valid span or in a
// context from propagator.SuppressInject.
func Traceparent(ctx context.Context) string {
	if !hasTrace(ctx) {
		return ""
	}
	return protocol.SentryTrace(trace.SpanContextFromContext(ctx))
}

// Baggage returns the Sentry baggage members for ctx's trace, serialised,
// or "". For a continued trace it is its frozen DSC; for a trace started
// here, the DSC this service sends, which does not change afterwards.
func Baggage(ctx context.Context) string {
	if !hasTrace(ctx) {
		return ""
	}
	return protocol.WrittenMembers(ctx, otel.GetTextMapPropagator())
}

// hasTrace reports whether the helpers write anything for ctx: a valid
// span, outside a context from propagator.SuppressInject.
func hasTrace(ctx context.Context) bool {
	return !protocol.InjectSuppressed(ctx) && trace.SpanContextFromContext(ctx).IsValid()
}

// MetaTags returns the HTML meta tags through which the Sentry browser SDK
// continues a trace rendered on the server: sentry-trace, a newline, and
// baggage, with escaped contents. It returns "" without a valid span and
// leaves out the baggage tag when there is no baggage.
func MetaTags(ctx context.Context) template.HTML {
	sentryTrace := Traceparent(ctx)
	if sentryTrace == "" {
		return ""
	}
	var s strings.Builder
	writeMetaTag(&s, protocol.HeaderSentryTrace, sentryTrace)
	if baggage := Baggage(ctx); baggage != "" {
		s.WriteByte('\n')
		writeMetaTag(&s, protocol.HeaderBaggage, baggage)
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
// and baggage, or "" without a valid span. The Sentry browser SDK continues
// the trace from it when the page has no meta tags, for pages that cannot
// carry them:
//
//	w.Header().Set("Server-Timing", bridge.ServerTiming(ctx))
func ServerTiming(ctx context.Context) string {
	sentryTrace := Traceparent(ctx)
	if sentryTrace == "" {
		return ""
	}
	v := protocol.HeaderSentryTrace + ";desc=" + quote(sentryTrace)
	if baggage := Baggage(ctx); baggage != "" {
		v += ", " + protocol.HeaderBaggage + ";desc=" + quote(baggage)
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
