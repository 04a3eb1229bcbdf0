// Command metatags renders a page with html/template and bridge.MetaTags,
// reads the sentry-trace and baggage meta tags back as the Sentry browser
// SDK does, and calls an API with them as headers. In its output, the meta
// tags name the page's server span and its DSC (release shop@1.0.0), and
// the api's server span has the page's trace id, the page span as parent,
// and sampled=true although the api sets no rate of its own.
package main

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"regexp"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/sampling"
)

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html>
<head>
{{.SentryMetaTags}}
<title>Shop</title>
</head>
<body>Welcome</body>
</html>
`))

// metaTag matches the meta tags MetaTags writes.
var metaTag = regexp.MustCompile(`<meta name="(sentry-trace|baggage)" content="([^"]*)">`)

func main() { exampleutil.Main("metatags", run) }

func run(w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), exampleutil.Timeout)
	defer cancel()
	// Setup installs the global propagator and, for the page service, the
	// global tracer provider, which samples every trace it starts.
	rec := tracetest.NewSpanRecorder()
	shutdown, err := bridge.Setup(ctx, bridge.WithRelease("shop@1.0.0"), bridge.WithSampleRate(1), bridge.WithSpanProcessor(rec))
	if err != nil {
		return err
	}
	defer shutdown(context.Background())

	pageTracing := &exampleutil.Tracing{Provider: otel.GetTracerProvider(), Recorder: rec}
	web, err := exampleutil.StartServer("web", pageTracing, "GET /shop", func(w http.ResponseWriter, r *http.Request) {
		data := struct{ SentryMetaTags template.HTML }{bridge.MetaTags(r.Context())}
		if err := page.Execute(w, data); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	if err != nil {
		return err
	}
	defer web.Close()
	// The api has no sample rate: it follows the decision that comes in.
	api, err := exampleutil.StartServer("api", exampleutil.NewTracing(sampling.New()), "GET /api/cart",
		func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"items":2}`) })
	if err != nil {
		return err
	}
	defer api.Close()

	// The browser: load the page, read its meta tags, call the api.
	body, err := exampleutil.Get(ctx, http.DefaultClient, web.Endpoint(), nil)
	if err != nil {
		return err
	}
	h := http.Header{}
	for _, m := range metaTag.FindAllStringSubmatch(body, -1) {
		name, content := m[1], html.UnescapeString(m[2])
		h.Set(name, content)
		if err := exampleutil.PrintLine(w, "meta", "name", name, "content", content); err != nil {
			return err
		}
	}
	if _, err := exampleutil.Get(ctx, http.DefaultClient, api.Endpoint(), h); err != nil {
		return err
	}
	if err := web.Report(w); err != nil {
		return err
	}
	return api.Report(w)
}
