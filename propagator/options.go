package propagator

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/otelsentry/otelsentry/dsn"
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
	logger      *slog.Logger
	// policy applies targets and the DSN's ingest to outgoing requests.
	policy *targets.Policy
}

func newConfig(opts []Option) config {
	c := config{environment: "production", logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.orgID == "" {
		c.orgID = c.dsn.OrgID()
	}
	c.policy = targets.NewPolicy(targets.Matchers(c.targets), targets.NewIngest(c.dsn.Scheme, c.dsn.Host, c.dsn.Port), c.logger, true)
	return c
}

// WithDSN sets the DSN of the project this service reports to. Its public
// key goes into the head-of-trace DSC, its organization id is the local org
// id unless WithOrgID sets one, and requests to its ingest (the same host,
// compared case-insensitively, and the same port, a missing one read as the
// scheme's default) never carry trace headers. Another port on the same
// host is another service and gets them. An invalid DSN is reported
// through otel.Handle by New and ignored; an empty one is ignored silently.
func WithDSN(s string) Option {
	return optionFunc(func(c *config) {
		c.dsn, c.dsnErr = dsn.DSN{}, nil
		if s == "" {
			return
		}
		d, err := dsn.Parse(s)
		if err != nil {
			c.dsnErr = fmt.Errorf("propagator: WithDSN: %w", err)
			return
		}
		c.dsn = d
	})
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

// WithTracePropagationTargets limits Inject to outgoing requests whose URL
// matches one of targets. A nil slice, the default, allows every URL; an
// empty, non-nil slice allows none, even where the URL is unknown. The
// URL is the one ContextWithURL put in the context (bridge.NewTransport
// does so); a request whose URL is unknown is allowed, and the first such
// HTTP request is logged as a warning. The DSN's ingest never gets
// headers, whatever targets say. Each request withheld is logged at debug
// level with its URL.
func WithTracePropagationTargets(targets []Target) Option {
	return optionFunc(func(c *config) { c.targets = slices.Clone(targets) })
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
