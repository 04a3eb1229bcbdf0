package propagator

import (
	"log/slog"
	"slices"
	"strings"

	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/targets"
)

// Option configures the propagator. A nil Option is ignored.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	dsn         dsn.DSN
	dsnErr      error
	orgID       string
	release     string
	environment string
	strict      bool
	targets     []Target
	w3cBaggage  bool
	logger      *slog.Logger
	// policy applies targets and the DSN's ingest to outgoing requests.
	policy *targets.Policy
	// head builds the DSC of the traces this process starts.
	head *protocol.Head
}

func newConfig(opts []Option) *config {
	c := &config{environment: "production", w3cBaggage: true, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if c.orgID == "" {
		c.orgID = c.dsn.OrgID()
	}
	c.policy = targets.NewPolicy(targets.Matchers(c.targets), targets.NewIngest(c.dsn.Scheme, c.dsn.Host, c.dsn.Port), c.logger)
	c.head = &protocol.Head{PublicKey: c.dsn.PublicKey, Release: c.release, Environment: c.environment, OrgID: c.orgID}
	return c
}

// dsnOption is WithDSN's option. It parses the DSN once, when the option
// is made, so that code that builds a propagator from a DSN reads the
// result instead of parsing it again.
type dsnOption struct {
	dsn dsn.DSN
	err error
}

func (o dsnOption) apply(c *config) { c.dsn, c.dsnErr = o.dsn, o.err }

// ParsedDSN returns the DSN the option sets, and the error it was given
// instead of a valid one.
func (o dsnOption) ParsedDSN() (dsn.DSN, error) { return o.dsn, o.err }

// WithDSN sets the DSN of the project this service reports to. Its public
// key goes into the head-of-trace DSC, its organization id is the local org
// id unless WithOrgID sets one, and requests to its ingest (the same host,
// compared case-insensitively, and the same port, a missing one read as the
// scheme's default) never carry trace headers. Another port on the same
// host is another service and gets them. An invalid DSN is reported
// through otel.Handle by New and ignored; an empty one is ignored silently.
func WithDSN(s string) Option {
	if s == "" {
		return dsnOption{}
	}
	d, err := dsn.Parse(s)
	return dsnOption{dsn: d, err: err}
}

// WithOrgID sets the local organization id, taking precedence over the one
// in the DSN. Org ids are compared as strings, so "0123" is not "123".
func WithOrgID(id string) Option {
	return optionFunc(func(c *config) { c.orgID = strings.Trim(id, " \t") })
}

// WithRelease sets the release named in a head-of-trace DSC.
func WithRelease(release string) Option {
	return optionFunc(func(c *config) { c.release = release })
}

// WithEnvironment sets the environment named in a head-of-trace DSC. The
// default is "production"; an empty value keeps it.
func WithEnvironment(env string) Option {
	return optionFunc(func(c *config) {
		if env != "" {
			c.environment = env
		}
	})
}

// WithStrictTraceContinuation makes Extract continue a trace only when the
// incoming and local org ids are equal or both absent. Traces with two
// different org ids are never continued, strict or not.
func WithStrictTraceContinuation(on bool) Option {
	return optionFunc(func(c *config) { c.strict = on })
}

// WithTracePropagationTargets limits the outgoing requests that get trace
// headers to those whose URL matches one of targets. A nil slice, the
// default, allows every URL; an empty, non-nil slice allows none, and then
// blocks every HTTP request, even one whose URL is unknown. The URL is the
// one ContextWithURL put in the context (bridge.NewTransport does so); an
// HTTP request whose URL is unknown is otherwise allowed, and the first
// such request is logged as a warning. Carriers that are not HTTP
// requests, such as message metadata, are not filtered. The DSN's ingest
// never gets headers, whatever targets say. Each request withheld is
// logged at debug level with its URL.
//
// New withholds only its own headers; Composite withholds every header it
// writes, traceparent, tracestate and OpenTelemetry baggage included.
func WithTracePropagationTargets(targets []Target) Option {
	return optionFunc(func(c *config) { c.targets = slices.Clone(targets) })
}

// WithW3CBaggage(false) leaves the W3C baggage propagator
// (propagation.Baggage) out of Composite: OpenTelemetry baggage is then
// neither read from incoming requests nor written to outgoing ones, so
// incoming members of other vendors are not forwarded either, as Sentry
// SDKs do not forward them. By default Composite includes it and forwards
// them, as OpenTelemetry does. New never reads or writes OpenTelemetry
// baggage, so the option does not change it.
func WithW3CBaggage(on bool) Option {
	return optionFunc(func(c *config) { c.w3cBaggage = on })
}

// WithLogger sets the logger for debug messages about rejected or
// inconsistent input and withheld requests, and for the one warning about
// HTTP requests whose URL is unknown. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}
