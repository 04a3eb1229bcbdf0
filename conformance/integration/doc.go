// Package integration holds the integration tests of otelsentry's
// propagator, sampler and bridge with otelhttp: services on 127.0.0.1 that
// continue and pass on traces over real HTTP requests.
package integration
