// Package fleet holds the tests of a fleet behind an OpenTelemetry
// Collector: three otelsentry services in a chain export OTLP to real
// Collectors (the collector module's build, with the configuration it
// ships for Sentry), which downsample and forward to a fake Sentry
// ingest. They check that every trace a Collector keeps arrives whole,
// that the kept traces are those a Sentry SDK keeps at the effective rate,
// and what happens to traces without OTel randomness or with a malformed
// "ot" member.
package fleet
