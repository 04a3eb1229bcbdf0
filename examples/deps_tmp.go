package examples

import (
	_ "github.com/otelsentry/otelsentry/sentryautoprop"
	_ "github.com/otelsentry/otelsentry/sentryotlp"
	_ "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	_ "google.golang.org/grpc"
	_ "google.golang.org/grpc/health/grpc_health_v1"
)
