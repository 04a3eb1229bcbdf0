package sentrylink

import "net/http"

// Middleware returns a handler that binds each request's context (see Bind)
// before calling next, so that handlers, sentry.GetHubFromContext,
// sentry.NewLogger and sentry-go's slog handler see a hub on the request's
// trace. It must run inside the OpenTelemetry server span, as under
// otelhttp.NewHandler; where the request has no span it only calls next.
// Behind sentryhttp's handler it binds the hub that sentryhttp put on the
// request, which keeps the request's data.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ctx := Bind(r.Context()); ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}
