package browser

import (
	"net/http"
	"slices"
	"strings"
)

// TraceHeaders are the request headers that the Sentry browser SDK adds to
// a fetch inside its tracePropagationTargets: sentry-trace and baggage, and
// traceparent when its propagateTraceparent option is on.
var TraceHeaders = []string{"sentry-trace", "baggage", "traceparent"}

// preflightMaxAge is how long, in seconds, a browser may reuse a preflight's
// answer.
const preflightMaxAge = "600"

// AllowTraceHeaders wraps an API so that pages of origins (such as
// "https://shop.example", scheme, host and port) may call it with the trace
// headers of the Sentry browser SDK. Wrap it around otelhttp's handler:
//
//	http.ListenAndServe(addr, browser.AllowTraceHeaders(otelhttp.NewHandler(mux, "api"), "https://shop.example"))
//
// A fetch to another origin that carries headers other than a few simple
// ones, as sentry-trace and baggage are, is preceded by a preflight: an
// OPTIONS request naming them in Access-Control-Request-Headers. The
// browser sends the fetch only if the answer allows the page's origin and
// every header named; otherwise the fetch fails, trace headers or not. For
// an allowed origin AllowTraceHeaders answers a preflight itself, with no
// span (it carries no trace), as:
//
//	204 No Content
//	Access-Control-Allow-Origin: <the page's origin>
//	Access-Control-Allow-Methods: <the method asked for>
//	Access-Control-Allow-Headers: sentry-trace, baggage, traceparent
//	Access-Control-Max-Age: 600
//	Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers
//
// and adds Access-Control-Allow-Origin and Vary: Origin to the API's own
// responses, without which the page cannot read them. A preflight from
// another origin gets the same 204 without the Access-Control headers; a
// browser then sends no fetch, as it does when a preflight asks for a
// header that is not allowed. Requests that are not preflights always
// reach the API.
func AllowTraceHeaders(api http.Handler, origins ...string) http.Handler {
	allowed := slices.Clone(origins)
	allowHeaders := strings.Join(TraceHeaders, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		ok := origin != "" && slices.Contains(allowed, origin)
		h := w.Header()
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
			if ok {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
				h.Set("Access-Control-Allow-Headers", allowHeaders)
				h.Set("Access-Control-Max-Age", preflightMaxAge)
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Add("Vary", "Origin")
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		api.ServeHTTP(w, r)
	})
}
