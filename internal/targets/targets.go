// Package targets decides which outgoing requests may carry trace headers:
// the trace propagation targets, and never the DSN's own ingest. It is
// shared by the propagator and by the bridge's composite, which gates the
// W3C propagators with the same rule.
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
	// known reports that url was recorded; untargeted, that the context
	// belongs to no request at all.
	known, untargeted bool
}

func requestFromContext(ctx context.Context) request {
	r, _ := ctx.Value(requestKey{}).(*request)
	if r == nil {
		return request{}
	}
	return *r
}

// WithoutTargets marks ctx as belonging to no request: Policy.Allows then
// lets every Inject through. The helpers that return header values (for a
// page, a message, a subprocess) use it, since the targets are about
// requests to URLs.
func WithoutTargets(ctx context.Context) context.Context {
	r := requestFromContext(ctx)
	r.untargeted = true
	return context.WithValue(ctx, requestKey{}, &r)
}

// Holder is what has a Policy: the Sentry propagator, so that a composite
// around it can gate its other members with the same rule.
type Holder interface {
	TargetPolicy() *Policy
}

// PolicyOf returns the policy of p, or nil (which allows everything) when p
// holds none.
func PolicyOf(p any) *Policy {
	if h, ok := p.(Holder); ok {
		return h.TargetPolicy()
	}
	return nil
}

// ContextWithURL records the URL of the outgoing request that ctx belongs to.
func ContextWithURL(ctx context.Context, rawURL string) context.Context {
	r := requestFromContext(ctx)
	r.url, r.known = rawURL, true
	return context.WithValue(ctx, requestKey{}, &r)
}

// Ingest is the endpoint of a DSN: a request to the same host and port
// sends telemetry to Sentry and must not carry trace headers.
type Ingest struct {
	host string // lowercase, without brackets
	port string // explicit, or the scheme's default
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
	return Ingest{host: strings.ToLower(host), port: port}
}

// matches reports whether rawURL is an absolute URL on the ingest's host
// and port; host names compare case-insensitively and are not resolved.
func (in Ingest) matches(rawURL string) bool {
	return in.host != "" && mayContainHost(rawURL, in.host) && in.parsedMatches(rawURL)
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

// mayContainHost reports whether rawURL might name host, lowercase, so that
// Inject parses only URLs that might go to the ingest. url.Parse takes the
// host from between the first "//" and the next '/' (after cutting '?' and
// '#'), and decodes no ASCII byte of it, so the host of an ASCII authority
// is a part of it; an authority or host with other bytes might fold to the
// other and is always parsed.
func mayContainHost(rawURL, host string) bool {
	start := strings.Index(rawURL, "//")
	if start < 0 {
		return false
	}
	authority := rawURL[start+2:]
	ascii := true
	for i := 0; i < len(authority); i++ {
		if c := authority[i]; c == '/' || c == '?' || c == '#' {
			authority = authority[:i]
			break
		} else if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if !ascii || !isASCII(host) {
		return true
	}
	for i := 0; i+len(host) <= len(authority); i++ {
		if lowerByte(authority[i]) == host[0] && equalFoldASCII(authority[i:i+len(host)], host) {
			return true
		}
	}
	return false
}

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
	// warnNoURL asks for the one warning about HTTP requests whose URL is
	// unknown; warned records that it was given.
	warnNoURL bool
	warned    atomic.Bool
}

// NewPolicy returns the policy for matchers (nil allows every URL; empty
// and non-nil allows none) and the DSN's ingest. Its debug messages and
// its warning go to logger, which may be nil. With warnNoURL, the first
// HTTP request whose URL is not in the context logs a warning, once.
func NewPolicy(matchers []Matcher, ingest Ingest, logger *slog.Logger, warnNoURL bool) *Policy {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Policy{restricted: matchers != nil, ingest: ingest, logger: logger, warnNoURL: warnNoURL}
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
// outcome does not depend on the sampling decision. An unknown URL is
// allowed unless the list is empty.
func (p *Policy) Allows(ctx context.Context, carrier propagation.TextMapCarrier) bool {
	if p == nil || !p.restricted && p.ingest.host == "" {
		return true
	}
	r := requestFromContext(ctx)
	if r.untargeted {
		return true
	}
	rawURL := r.url
	if !r.known {
		if p.restricted && len(p.matchers) == 0 {
			p.withheld(ctx, "", "the trace propagation targets are empty")
			return false
		}
		p.warnUnknownURL(ctx, carrier)
		return true
	}
	if p.ingest.matches(rawURL) {
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
func (p *Policy) warnUnknownURL(ctx context.Context, carrier propagation.TextMapCarrier) {
	if !p.warnNoURL {
		return
	}
	if _, isHTTP := carrier.(propagation.HeaderCarrier); !isHTTP || p.warned.Swap(true) {
		return
	}
	p.logger.LogAttrs(ctx, slog.LevelWarn,
		"an HTTP request reached Inject without its URL in the context, so the trace propagation targets "+
			"and the DSN rule cannot apply to it: wrap the client's transport with bridge.NewTransport "+
			"(outside otelhttp.NewTransport), or set the URL with propagator.ContextWithURL")
}
