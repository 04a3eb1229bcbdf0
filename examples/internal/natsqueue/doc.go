// Package natsqueue is a job queue on NATS JetStream whose messages carry
// the trace in their headers, for the examples and the demo.
//
// NATS headers are case-sensitive: a consumer in another language looks
// for "sentry-trace" and "baggage" as written, and finds nothing under the
// "Sentry-Trace" that propagation.HeaderCarrier (an http.Header) would
// write. HeaderCarrier writes and reads nats.Header keys as the propagator
// names them; it also reads a key written in another case, as a producer
// that went through http.Header would have.
//
// StartServer runs an embedded nats-server with JetStream on 127.0.0.1,
// on a free port, storing in a temporary directory that Close removes.
// A Queue is a stream with one durable consumer: Publish starts a producer
// span and writes its trace into the message's headers; Process takes the
// next delivery, continues the trace from its headers in a consumer span,
// and acknowledges the message, or has it delivered again when the handler
// fails. A message delivered twice thus continues the same trace twice: two
// consumer spans under the one producer span.
//
//	srv, err := natsqueue.StartServer()
//	defer srv.Close()
//	q, err := natsqueue.Open(ctx, srv.URL(), "receipts")
//	defer q.Close()
//	err = q.Publish(ctx, []byte("order 42"))
//	err = q.Process(ctx, func(ctx context.Context, job natsqueue.Job) error { ... })
package natsqueue
