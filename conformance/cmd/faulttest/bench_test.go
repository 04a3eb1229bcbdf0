package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/conformance/internal/fleet"
	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
	"github.com/otelsentry/otelsentry/sentryotlp"
)

// BenchmarkRequest measures one request through the chain, every span
// sampled and exported straight to the ingest, while the ingest is
// healthy and while it fails each way: a request must not wait on export,
// so every case should cost the same. Compare the cases with benchstat
// -col /fault.
func BenchmarkRequest(b *testing.B) {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) // the drops are expected
	cases := []fault{{Name: "none", Key: "none", start: func(*rig) (func() error, error) { return nil, nil }}}
	for _, f := range defaultFaults() {
		// The long 503 is the 503 again, and the restart needs a Collector.
		if f.Path == "" {
			cases = append(cases, f)
		}
	}
	for _, bc := range cases {
		b.Run("fault="+bc.Key, func(b *testing.B) {
			in := ingest.New(b)
			dsn := in.DSN("public", "42")
			chain, err := fleet.Start(fleet.Config{Rate: 1, Consistent: true, Exporters: func(int) ([]sdktrace.SpanExporter, error) {
				exp, err := sentryotlp.New(context.Background(), dsn)
				return []sdktrace.SpanExporter{exp}, err
			}, Batch: []sdktrace.BatchSpanProcessorOption{sdktrace.WithBatchTimeout(100 * time.Millisecond)}})
			if err != nil {
				b.Fatal(err)
			}
			client := &http.Client{Timeout: 30 * time.Second}
			ctx := context.Background()
			if _, err := bc.start(&rig{ingest: in}); err != nil {
				b.Fatal(err)
			}
			// The exporters meet the fault before the timing starts.
			for range 100 {
				if _, err := fleet.Get(ctx, client, chain.URL, nil); err != nil {
					b.Fatal(err)
				}
			}
			time.Sleep(200 * time.Millisecond)
			b.ResetTimer()
			for b.Loop() {
				tr, err := fleet.Get(ctx, client, chain.URL, nil)
				if err != nil || !tr.Sampled {
					b.Fatalf("%+v, %v", tr, err)
				}
			}
			b.StopTimer()
			client.CloseIdleConnections()
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			_ = chain.Shutdown(sctx) // during a fault, what is held is not sent
		})
	}
}
