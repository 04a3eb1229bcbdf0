package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/conformance/browser"
	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
)

func TestRun(t *testing.T) {
	var out strings.Builder
	err := run(&out)
	if errors.Is(err, browser.ErrUnavailable) && os.Getenv("CI") == "" {
		t.Skipf("browser example skipped: %v", err)
	}
	if err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	lines := exampleutil.ParseLines(out.String())
	web := lines.Get(t, "service name=web").Get("url")
	pre := lines.Get(t, "preflight service=api")
	if pre.Get("origin") != web || pre.Get("allow-origin") != web || pre.Get("allow-methods") != "GET" ||
		pre.Get("allow-headers") != "sentry-trace, baggage, traceparent" ||
		!strings.Contains(pre.Get("request-headers"), "sentry-trace") || !strings.Contains(pre.Get("request-headers"), "baggage") {
		t.Errorf("preflight %v", pre)
	}
	if f := lines.Get(t, "fetch"); f.Get("status") != "200" {
		t.Errorf("the browser's fetch of the api: %v", f)
	}
	chain := lines.Chain(t, `span service=web kind=server name="GET /shop" parent=none`,
		"span service=browser kind=pageload sampled=true")
	api := lines.Get(t, "span service=api kind=server")
	received := lines.Get(t, "headers service=api")
	if want := api.Get("trace") + "-" + api.Get("parent") + "-1"; received.Get("sentry-trace") != want || api.Get("trace") != chain[1].Get("trace") {
		t.Errorf("the api's span %v did not continue the sentry-trace it received, %q", api, received.Get("sentry-trace"))
	}
	if api.Get("parent") == chain[1].Get("id") || api.Get("sampled") != "true" {
		t.Errorf("the api's parent should be the browser's fetch span, a child of the pageload: %v", api)
	}
	for _, m := range []string{"sentry-release=shop%401.0.0", "sentry-public_key=publickey", "sentry-transaction=GET%20%2Fshop"} {
		if !strings.Contains(","+received.Get("baggage")+",", ","+m+",") {
			t.Errorf("the api's baggage %q lacks the page's %s", received.Get("baggage"), m)
		}
	}
	env := lines.Get(t, "envelope")
	if env.Get("trace_id") != chain[0].Get("trace") || env.Get("release") != "shop@1.0.0" || env.Get("public_key") != "publickey" {
		t.Errorf("the SDK's envelope header is not the page's DSC: %v", env)
	}
}
