package bench_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/propagator"
)

// BenchmarkInjectTargets is Inject for a continued trace with the URL in
// the context, by a propagator without a DSN or targets and by one with
// both, which must not parse the URL on every call.
func BenchmarkInjectTargets(b *testing.B) {
	plain := propagator.New(propagator.WithRelease(release))
	targeted := propagator.New(propagator.WithDSN(dsn), propagator.WithRelease(release),
		propagator.WithTracePropagationTargets([]propagator.Target{
			propagator.Substring("https://api.example.com"), propagator.Substring("http://localhost"),
		}))
	for _, tt := range []struct {
		name string
		p    propagation.TextMapPropagator
	}{{"plain", plain}, {"dsn+targets", targeted}} {
		b.Run("config="+tt.name, func(b *testing.B) {
			in := propagation.HeaderCarrier(http.Header{"Sentry-Trace": {sentryTrace}, "Baggage": {baggage}})
			ctx := propagator.ContextWithURL(tt.p.Extract(context.Background(), in), "https://api.example.com/v1/users/42?expand=orders")
			mustContinue(b, ctx)
			out := propagation.HeaderCarrier(http.Header{})
			tt.p.Inject(ctx, out)
			mustWrite(b, out, []string{"sentry-trace", "baggage"})
			b.ReportAllocs()
			for b.Loop() {
				clear(out)
				tt.p.Inject(ctx, out)
			}
		})
	}
}

// BenchmarkRequestSize is BenchmarkRequest for the Sentry propagator in an
// http.Header, with baggage of growing size: up to the 8192-byte and
// 64-member cap the cost grows with the header, beyond it it must not.
func BenchmarkRequestSize(b *testing.B) {
	p := contenders()[0].p
	member := func(i int) string { return "vendor" + strconv.Itoa(i) + "=" + strings.Repeat("v", 8) }
	sized := func(n int) string {
		var sb strings.Builder
		sb.WriteString(baggage)
		for i := 0; sb.Len() < n; i++ {
			sb.WriteString("," + member(i))
		}
		return sb.String()
	}
	members := func(n int) string {
		parts := strings.Split(baggage, ",")
		for i := 0; len(parts) < n; i++ {
			parts = append(parts, member(i))
		}
		return strings.Join(parts[:n], ",")
	}
	cases := []struct{ name, baggage string }{
		{"members=1", "sentry-sample_rand=0.123456"},
		{"members=9", baggage},
		{"members=32", members(32)},
		{"members=64", members(64)},
		{"bytes=8K", sized(8192)},
		{"bytes=16K", sized(16 << 10)},
		{"bytes=1M", sized(1 << 20)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			in := propagation.HeaderCarrier(http.Header{"Sentry-Trace": {sentryTrace}, "Baggage": {tc.baggage}})
			out := propagation.HeaderCarrier(http.Header{})
			ctx := p.Extract(context.Background(), in)
			mustContinue(b, ctx)
			b.ReportAllocs()
			for b.Loop() {
				clear(out)
				p.Inject(p.Extract(context.Background(), in), out)
			}
		})
	}
}

// fixedHeaders writes constant sentry-trace and baggage headers of about
// the size that sentry's Inject writes for BenchmarkHTTP's client span,
// and reads nothing.
type fixedHeaders struct{}

func (fixedHeaders) Inject(_ context.Context, c propagation.TextMapCarrier) {
	c.Set("sentry-trace", sentryTrace)
	c.Set("baggage", "sentry-trace_id="+T+",sentry-public_key="+K+
		",sentry-sample_rand=0.123456,sentry-sampled=true,sentry-release="+release)
}

func (fixedHeaders) Extract(ctx context.Context, _ propagation.TextMapCarrier) context.Context {
	return ctx
}

func (fixedHeaders) Fields() []string { return []string{"sentry-trace", "baggage"} }

// processCPU returns the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// BenchmarkHTTP is one whole request through otelhttp on 127.0.0.1: a
// client span injects, the server extracts and starts its span. With
// propagator=none nothing is propagated; with propagator=sentry the Sentry
// propagator alone does it. Run each case in its own process, interleaved
// (see BENCHMARKS.md), to compare them within a few percent.
func BenchmarkHTTP(b *testing.B) {
	for _, tt := range []struct {
		name string
		p    propagation.TextMapPropagator
	}{
		{"none", propagation.NewCompositeTextMapPropagator()},
		// The headers that sentry writes, as constants: what carrying
		// them costs without any propagation work.
		{"headers", fixedHeaders{}},
		{"sentry", propagator.New(propagator.WithDSN(dsn), propagator.WithRelease(release))},
	} {
		b.Run("propagator="+tt.name, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
			b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			opts := []otelhttp.Option{otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(tt.p)}
			srv := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "ok")
			}), "server", opts...))
			b.Cleanup(srv.Close)
			client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, opts...)}
			ctx, span := tp.Tracer("bench").Start(context.Background(), "GET /users/{id}")
			b.Cleanup(func() { span.End() })
			get := func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/users/42", nil)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			get()
			b.ReportAllocs()
			start := processCPU(b)
			for b.Loop() {
				get()
			}
			// CPU time varies less than wall time on loopback, where the
			// scheduler's wake-ups dominate the spread.
			b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
