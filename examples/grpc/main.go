// Command grpc continues a trace over gRPC: a client calls the standard
// health service through otelgrpc stats handlers, with propagator.Composite
// as the global propagator, so the call's metadata carries sentry-trace and
// baggage. In the output, the server received them, and its server span has
// the client's trace id, the client span as parent, and sampled=true,
// although only the client sets a sample rate.
package main

import (
	"context"
	"io"
	"net"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

func main() { exampleutil.Main("grpc", run) }

func run(w io.Writer) error {
	otel.SetTextMapPropagator(propagator.Composite(propagator.WithRelease("checkout@1.0.0")))

	serverTracing := exampleutil.NewTracing(sampling.New())
	keep, received := keepMetadata()
	srv := grpc.NewServer(grpc.WaitForHandlers(true), grpc.UnaryInterceptor(keep),
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(serverTracing.Provider))))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ctx, cancel := context.WithTimeout(context.Background(), exampleutil.Timeout)
	defer cancel()
	defer srv.Stop()                         // on early returns
	defer context.AfterFunc(ctx, srv.Stop)() // should GracefulStop hang

	clientTracing := exampleutil.NewTracing(sampling.New(sampling.WithSampleRate(1)))
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(clientTracing.Provider))))
	if err != nil {
		return err
	}
	defer conn.Close()
	callCtx, span := clientTracing.Tracer().Start(ctx, "checkout")
	resp, err := healthpb.NewHealthClient(conn).Check(callCtx, &healthpb.HealthCheckRequest{})
	span.End()
	if err != nil {
		return err
	}
	if err := conn.Close(); err != nil {
		return err
	}
	srv.GracefulStop() // waits for the handler, so the server span has ended
	if err := <-served; err != nil {
		return err
	}

	md := <-received
	if err := exampleutil.PrintLine(w, "response", "status", resp.GetStatus().String()); err != nil {
		return err
	}
	err = exampleutil.PrintHeaders(w, "server", func(key string) string { return firstOf(md.Get(key)) })
	if err != nil {
		return err
	}
	if err := exampleutil.PrintSpans(w, "client", clientTracing.Spans()); err != nil {
		return err
	}
	return exampleutil.PrintSpans(w, "server", serverTracing.Spans())
}

// keepMetadata returns a server interceptor that sends the metadata of the
// first call it sees to the channel.
func keepMetadata() (grpc.UnaryServerInterceptor, <-chan metadata.MD) {
	received := make(chan metadata.MD, 1)
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		select {
		case received <- md:
		default:
		}
		return h(ctx, req)
	}, received
}

func firstOf(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}
