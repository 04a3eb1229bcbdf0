package main

import (
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
	"go.opentelemetry.io/collector/otelcol/otelcoltest"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/probabilisticsamplerprocessor"
)

// TestRecommendedConfig loads the shipped configuration with this
// distribution's components and checks the settings the documentation
// promises: the DSN's endpoint and key in the exporter, proportional mode
// at full precision, fail closed.
func TestRecommendedConfig(t *testing.T) {
	t.Setenv("SENTRY_OTLP_ENDPOINT", "https://o1.ingest.us.sentry.io/api/42/integration/otlp")
	t.Setenv("SENTRY_PUBLIC_KEY", "public")
	t.Setenv("SENTRY_COLLECTOR_SAMPLING_PERCENTAGE", "10")
	factories, err := components()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := otelcoltest.LoadConfigAndValidate("../../config.yaml", factories)
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := cfg.Exporters[component.MustNewIDWithName("otlp_http", "sentry")].(*otlphttpexporter.Config)
	if !ok {
		t.Fatalf("exporters %v", cfg.Exporters)
	}
	if exp.ClientConfig.Endpoint != "https://o1.ingest.us.sentry.io/api/42/integration/otlp" {
		t.Errorf("endpoint %q", exp.ClientConfig.Endpoint)
	}
	if v, _ := exp.ClientConfig.Headers.Get("x-sentry-auth"); v != "sentry sentry_key=public" {
		t.Errorf("x-sentry-auth %q", v)
	}
	if exp.ClientConfig.Compression != "gzip" || exp.Encoding != otlphttpexporter.EncodingProto {
		t.Errorf("compression %q, encoding %q", exp.ClientConfig.Compression, exp.Encoding)
	}
	ps, ok := cfg.Processors[component.MustNewID("probabilistic_sampler")].(*probabilisticsamplerprocessor.Config)
	if !ok {
		t.Fatalf("processors %v", cfg.Processors)
	}
	if ps.Mode != "proportional" || ps.SamplingPrecision != 14 || !ps.FailClosed || ps.SamplingPercentage != 10 {
		t.Errorf("sampler %+v", ps)
	}
}
