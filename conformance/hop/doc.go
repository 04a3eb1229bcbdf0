// Package hop holds the Go side of the hop contract (the conformance README): the report a
// hop service answers with, the four trace headers it reports, and a handler
// that the Go hop services share, so that each of them supplies only what is
// specific to its SDK: the server middleware, the instrumented client and
// how to read the current span.
//
// A hop serves three routes:
//
//	GET  /health            200 once ready
//	POST /flush             200 once everything buffered for Sentry was sent
//	GET  /hop[?next=<url>]  continue the trace, call next, answer a Report
//
// The headers in a Report's Sent are the ones the client actually wrote,
// captured by a CaptureTransport placed innermost, below the SDK's
// instrumentation:
//
//	client := &http.Client{Transport: sdkTransport(&hop.CaptureTransport{})}
//	h := hop.NewHandler(hop.Peer{
//		Name:       "api",
//		Client:     client,
//		Instrument: sdkMiddleware,
//		Current:    currentSpan,
//		Flush:      flush,
//	})
//
// Chain builds the URL that sends one request through several hops, and
// Fetch calls a hop and decodes its Report.
package hop
