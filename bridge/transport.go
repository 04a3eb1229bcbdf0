package bridge

import (
	"net/http"

	"github.com/otelsentry/otelsentry/propagator"
)

// NewTransport returns a RoundTripper that records each request's URL in
// its context before base runs, so that the trace propagation targets
// apply to it even when its span is not recording. Put it outside
// otelhttp's transport:
//
//	client := &http.Client{Transport: bridge.NewTransport(otelhttp.NewTransport(http.DefaultTransport))}
//
// A nil base means http.DefaultTransport.
func NewTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return urlTransport{base: base}
}

type urlTransport struct {
	base http.RoundTripper
}

func (t urlTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := propagator.ContextWithURL(req.Context(), req.URL.String())
	return t.base.RoundTrip(req.WithContext(ctx))
}
