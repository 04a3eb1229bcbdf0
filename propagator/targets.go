package propagator

import (
	"context"
	"net/url"
	"regexp"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Target matches the URLs of outgoing requests that may carry trace
// headers. *regexp.Regexp is a Target (unanchored unless its pattern
// anchors), and so is Substring.
type Target interface {
	MatchString(url string) bool
}

// Substring is a Target that matches URLs containing it, case-sensitively.
// It is never read as a pattern: Substring(".*") matches only URLs that
// contain ".*".
type Substring string

// MatchString reports whether url contains s.
func (s Substring) MatchString(url string) bool { return strings.Contains(url, string(s)) }

// AllowsPropagation reports whether the outgoing request that ctx belongs
// to may carry trace headers (TG-2..5): its URL, from ContextWithURL or
// else the current recording span's url.full, must match one of targets
// and must not be on the DSN's ingest host. nil targets allow every URL;
// empty, non-nil targets allow none. An unknown URL is allowed unless the
// targets are empty.
func AllowsPropagation(ctx context.Context, targets []Target, ingestHost string) bool {
	if targets == nil && ingestHost == "" {
		return true
	}
	if targets != nil && len(targets) == 0 {
		return false
	}
	requestURL, ok := URLFromContext(ctx)
	if !ok {
		requestURL, ok = spanURL(trace.SpanFromContext(ctx))
	}
	if !ok {
		return true
	}
	if ingestHost != "" && strings.EqualFold(hostOf(requestURL), ingestHost) {
		return false
	}
	if targets == nil {
		return true
	}
	for _, t := range targets {
		if usable(t) && t.MatchString(requestURL) {
			return true
		}
	}
	return false
}

// usable reports whether t can match; a nil *regexp.Regexp, as an ignored
// regexp.Compile error leaves, matches nothing.
func usable(t Target) bool {
	re, isRegexp := t.(*regexp.Regexp)
	return t != nil && !(isRegexp && re == nil)
}

// attributeReader is the part of a recording SDK span that exposes its
// attributes.
type attributeReader interface {
	Attributes() []attribute.KeyValue
}

// spanURL returns the url.full (or legacy http.url) attribute of a
// recording span, the URL that otelhttp's client span records.
func spanURL(span trace.Span) (string, bool) {
	r, ok := span.(attributeReader)
	if !ok || !span.IsRecording() {
		return "", false
	}
	var legacy string
	for _, kv := range r.Attributes() {
		switch kv.Key {
		case "url.full":
			return kv.Value.AsString(), true
		case "http.url":
			legacy = kv.Value.AsString()
		}
	}
	return legacy, legacy != ""
}

// hostOf returns the host name of an absolute URL, or "".
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
