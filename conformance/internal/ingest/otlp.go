package ingest

import (
	"encoding/hex"
	"fmt"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// OTLPSpan is what the tests read of a span in an OTLP trace export.
type OTLPSpan struct {
	TraceID, SpanID, ParentSpanID string // lowercase hex
	Name                          string
	// Service is the resource's service.name.
	Service string
	// TraceState is the span's W3C trace state.
	TraceState string
	// ClientSampleRate is the sentry.client_sample_rate attribute, 0 when
	// absent.
	ClientSampleRate float64
}

// Spans decodes the spans of trace exports; other signals are skipped.
func Spans(reqs []OTLPRequest) ([]OTLPSpan, error) {
	var out []OTLPSpan
	for _, r := range reqs {
		if r.Signal != "traces" {
			continue
		}
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(r.Body, &req); err != nil {
			return nil, fmt.Errorf("ingest: decode OTLP traces: %w", err)
		}
		for _, rs := range req.GetResourceSpans() {
			var service string
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					span := OTLPSpan{
						TraceID:      hex.EncodeToString(s.GetTraceId()),
						SpanID:       hex.EncodeToString(s.GetSpanId()),
						ParentSpanID: hex.EncodeToString(s.GetParentSpanId()),
						Name:         s.GetName(),
						Service:      service,
						TraceState:   s.GetTraceState(),
					}
					for _, kv := range s.GetAttributes() {
						if kv.GetKey() == "sentry.client_sample_rate" {
							span.ClientSampleRate = kv.GetValue().GetDoubleValue()
						}
					}
					out = append(out, span)
				}
			}
		}
	}
	return out, nil
}
