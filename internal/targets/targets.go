// Package targets decides which outgoing requests may carry trace headers:
// the trace propagation targets, and never the DSN's own ingest. The
// Sentry propagator applies it to its own headers, and the composite to
// every header it writes.
package targets

import (
	"context"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"go.opentelemetry.io/otel/propagation"
)

// Matcher matches the URL of an outgoing request.
type Matcher interface {
	MatchString(url string) bool
}

// Matchers converts a list of a Matcher type, keeping a nil list nil:
// nil allows every URL and an empty list none.
func Matchers[M Matcher](ms []M) []Matcher {
	if ms == nil {
		return nil
	}
	out := make([]Matcher, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

type requestKey struct{}

// request is what a context tells Policy.Allows about the request it
// belongs to, under one key so that Allows looks it up once.
type request struct {
	url string
	// authority is url's, found when url is recorded rather than on every
	// Inject.
	authority authority
	// known reports that url was recorded.
	known bool
}

// requestOf returns the request recorded in ctx, which contexts share and
// nothing changes, or nil.
func requestOf(ctx context.Context) *request {
	r, _ := ctx.Value(requestKey{}).(*request)
	return r
}

// clone returns a copy of r to change, the zero request for nil.
func (r *request) clone() request {
	if r == nil {
		return request{}
	}
	return *r
}

// ContextWithURL records the URL of the outgoing request that ctx belongs to.
func ContextWithURL(ctx context.Context, rawURL string) context.Context {
	r := requestOf(ctx).clone()
	r.url, r.authority, r.known = rawURL, authorityOf(rawURL), true
	return context.WithValue(ctx, requestKey{}, &r)
}

// Ingest is the endpoint of a DSN: a request to the same host and port
// sends telemetry to Sentry and must not carry trace headers.
type Ingest struct {
	host string // lowercase, without brackets
	port string // explicit, or the scheme's default
	// asciiHost reports a host of ASCII bytes only, which the check before
	// parsing can look for byte by byte.
	asciiHost bool
}

// NewIngest returns the ingest endpoint of a DSN's scheme, host and port
// ("" for the scheme's default). An empty host gives the zero Ingest,
// which matches no request.
func NewIngest(scheme, host, port string) Ingest {
	if host == "" {
		return Ingest{}
	}
	if port == "" {
		port = defaultPort(scheme)
	}
	host = strings.ToLower(host)
	return Ingest{host: host, port: port, asciiHost: isASCII(host)}
}

// matches reports whether rawURL, whose authority is a, is an absolute URL
// on the ingest's host and port; host names compare case-insensitively and
// are not resolved.
func (in Ingest) matches(rawURL string, a authority) bool {
	return in.host != "" && in.mayBeIn(a) && in.parsedMatches(rawURL)
}

// parsedMatches is matches for a URL that might go to the ingest.
func (in Ingest) parsedMatches(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	return port == in.port && strings.EqualFold(u.Hostname(), in.host)
}

// authority is the part of a URL that url.Parse takes the host from:
// between the first "//" and the next '/', '?' or '#'. url.Parse decodes
// the host's %XX escapes, and host names compare with Unicode case
// folding, so only a literal authority (ASCII, no '%') holds its host as it
// is compared.
type authority struct {
	// text is the authority when literal is set; otherwise it ends before
	// its first '%' or byte beyond ASCII.
	text string
	// found reports a "//", without which there is no host; literal, that
	// the authority holds neither '%' nor bytes beyond ASCII.
	found, literal bool
}

// authorityOf returns the authority of rawURL, without parsing it.
func authorityOf(rawURL string) authority {
	start := strings.Index(rawURL, "//")
	if start < 0 {
		return authority{}
	}
	text := rawURL[start+2:]
	end := 0
	for end < len(text) && !authorityStops[text[end]] {
		end++
	}
	literal := end == len(text) || text[end] == '/' || text[end] == '?' || text[end] == '#'
	return authority{text: text[:end], found: true, literal: literal}
}

// mayBeIn reports whether a URL of authority a might name the ingest's
// host, so that Inject parses only URLs that might go to the ingest. An
// authority that is not literal, or a host with bytes beyond ASCII, might
// fold to the other and is always parsed.
func (in Ingest) mayBeIn(a authority) bool {
	if !a.found {
		return false
	}
	if !in.asciiHost || !a.literal {
		return true
	}
	host, text := in.host, a.text
	for i := 0; i+len(host) <= len(text); i++ {
		if lowerByte(text[i]) == host[0] && equalFoldASCII(text[i:i+len(host)], host) {
			return true
		}
	}
	return false
}

// authorityStops marks the bytes that end the check's scan of an
// authority: its terminators, and the first byte that makes it not
// literal.
var authorityStops = func() (t [256]bool) {
	t['/'], t['?'], t['#'], t['%'] = true, true, true, true
	for c := utf8.RuneSelf; c < len(t); c++ {
		t[c] = true
	}
	return t
}()

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// equalFoldASCII reports whether s, lowered, is lower.
func equalFoldASCII(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		if lowerByte(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// Policy is one propagator's rule for outgoing requests.
type Policy struct {
	matchers []Matcher
	// restricted is set for a non-nil list: only its matches propagate,
	// and an empty one blocks everything.
	restricted bool
	ingest     Ingest
	logger     *slog.Logger
	// warned records the one warning about HTTP requests whose URL is
	// unknown.
	warned atomic.Bool
}

// NewPolicy returns the policy for matchers (nil allows every URL; empty
// and non-nil allows none) and the DSN's ingest. Its debug messages and
// its warning go to logger, which may be nil. The first HTTP request whose
// URL is not in the context logs a warning, once.
func NewPolicy(matchers []Matcher, ingest Ingest, logger *slog.Logger) *Policy {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Policy{restricted: matchers != nil, ingest: ingest, logger: logger}
	for _, m := range matchers {
		if usable(m) {
			p.matchers = append(p.matchers, m)
		}
	}
	return p
}

// usable reports whether m can match: a nil matcher, or the nil
// *regexp.Regexp that an ignored compile error leaves, matches nothing.
func usable(m Matcher) bool {
	re, isRegexp := m.(*regexp.Regexp)
	return m != nil && !(isRegexp && re == nil)
}

// Allows reports whether the request that ctx belongs to may carry trace
// headers. The URL comes from the context only, never from a span, so the
// outcome does not depend on the sampling decision. A carrier that is not
// an HTTP request's headers (message metadata, environment variables) is
// a request only when a URL was recorded for it; an HTTP request whose URL
// is unknown is allowed unless the list of targets is empty.
func (p *Policy) Allows(ctx context.Context, carrier propagation.TextMapCarrier) bool {
	if p == nil || !p.restricted && p.ingest.host == "" {
		return true
	}
	r := requestOf(ctx)
	if r == nil || !r.known {
		if _, isHTTP := carrier.(propagation.HeaderCarrier); !isHTTP {
			return true
		}
		if p.restricted && len(p.matchers) == 0 {
			p.withheld(ctx, "", "the trace propagation targets are empty")
			return false
		}
		p.warnUnknownURL(ctx)
		return true
	}
	rawURL := r.url
	if p.ingest.matches(rawURL, r.authority) {
		p.withheld(ctx, rawURL, "the request goes to the DSN's ingest")
		return false
	}
	if !p.restricted {
		return true
	}
	for _, m := range p.matchers {
		if m.MatchString(rawURL) {
			return true
		}
	}
	p.withheld(ctx, rawURL, "the URL matches no trace propagation target")
	return false
}

func (p *Policy) withheld(ctx context.Context, rawURL, why string) {
	if p.logger.Enabled(ctx, slog.LevelDebug) {
		p.logger.LogAttrs(ctx, slog.LevelDebug, "trace headers withheld: "+why, slog.String("url", rawURL))
	}
}

// warnUnknownURL warns once that HTTP requests reach Inject without their
// URL, so the targets and the ingest rule cannot apply to them.
func (p *Policy) warnUnknownURL(ctx context.Context) {
	// Load first: after the warning, a read of a shared line costs less
	// than a write on every Inject.
	if p.warned.Load() || p.warned.Swap(true) {
		return
	}
	p.logger.LogAttrs(ctx, slog.LevelWarn,
		"an HTTP request reached Inject without its URL in the context, so the trace propagation targets "+
			"and the DSN rule cannot apply to it: wrap the client's transport with bridge.NewTransport "+
			"(outside otelhttp.NewTransport), or set the URL with propagator.ContextWithURL")
}
