package propagator

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/otelsentry/otelsentry/dsn"
)

// DefaultEnvironment is the environment a head-of-trace DSC names when none
// is configured.
const DefaultEnvironment = "production"

// Option configures the propagator.
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
}

func newConfig(opts []Option) config {
	c := config{environment: DefaultEnvironment, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o.apply(&c)
	}
	if c.orgID == "" {
		c.orgID = c.dsn.OrgID()
	}
	return c
}

// WithDSN sets the DSN of the project this service reports to. Its public
// key goes into the head-of-trace DSC, its organization id is the local org
// id unless WithOrgID sets one (OR-1), and its host never receives trace
// headers (TG-5). An invalid DSN is reported through otel.Handle by New and
// ignored; an empty one is ignored silently.
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
// in the DSN. Org ids are compared as strings (OR-3).
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
// incoming and local org ids are equal or both absent (OR-5). Traces with
// two different org ids are never continued, strict or not (OR-4).
func WithStrictTraceContinuation(on bool) Option {
	return optionFunc(func(c *config) { c.strict = on })
}

// WithTracePropagationTargets limits Inject to outgoing requests whose URL
// matches one of targets (TG-1..5). A nil slice, the default, allows every
// URL; an empty, non-nil slice allows none. The DSN's host never gets
// headers, whatever targets say.
func WithTracePropagationTargets(targets []Target) Option {
	return optionFunc(func(c *config) { c.targets = slices.Clone(targets) })
}

// WithLogger sets the logger for debug messages about rejected or
// inconsistent input. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}
