package bridge

import (
	"slices"
	"strings"

	"go.opentelemetry.io/otel/propagation"

	"github.com/otelsentry/otelsentry/internal/protocol"
)

// EnvCarrier is a propagation.TextMapCarrier over a list of environment
// entries ("NAME=value"), such as exec.Cmd.Env. sentry-trace maps to
// SENTRY_TRACE, baggage to SENTRY_BAGGAGE, and other keys to their
// uppercase form with every other character than a letter or digit
// replaced by '_' (traceparent to TRACEPARENT).
type EnvCarrier struct {
	env *[]string
}

var _ propagation.TextMapCarrier = EnvCarrier{}

// NewEnvCarrier returns a carrier that reads and writes *env.
func NewEnvCarrier(env *[]string) EnvCarrier { return EnvCarrier{env: env} }

// Get returns the value of the last entry for key, as exec does.
func (c EnvCarrier) Get(key string) string {
	name, env := envName(key), c.entries()
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// Set replaces every entry for key with one entry. The zero EnvCarrier has
// no list to write to and ignores it.
func (c EnvCarrier) Set(key, value string) {
	if c.env != nil {
		name := envName(key)
		*c.env = append(removeEnv(*c.env, name), name+"="+value)
	}
}

// Keys returns the names of the entries.
func (c EnvCarrier) Keys() []string {
	keys := make([]string, 0, len(c.entries()))
	for _, e := range c.entries() {
		k, _, _ := strings.Cut(e, "=")
		keys = append(keys, k)
	}
	return keys
}

func (c EnvCarrier) entries() []string {
	if c.env == nil {
		return nil
	}
	return *c.env
}

// envName maps a propagation key to an environment variable name.
func envName(key string) string {
	switch key {
	case protocol.HeaderSentryTrace:
		return envSentryTrace
	case protocol.HeaderBaggage:
		return envSentryBaggage
	}
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return r
		}
		return '_'
	}, key)
}

// removeEnv returns env without the entries for names, in a new slice so
// that the caller's (os.Environ's, say) is not changed.
func removeEnv(env []string, names ...string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(e string) bool {
		k, _, _ := strings.Cut(e, "=")
		return slices.Contains(names, k)
	})
}

// MessageHeader is a message header as Kafka clients represent one.
type MessageHeader struct {
	Key   string
	Value []byte
}

// MessageCarrier is a propagation.TextMapCarrier over a message's headers.
// Keys are exact and case-sensitive.
type MessageCarrier struct {
	headers *[]MessageHeader
}

var (
	_ propagation.TextMapCarrier = MessageCarrier{}
	_ propagation.ValuesGetter   = MessageCarrier{}
)

// NewMessageCarrier returns a carrier that reads and writes *headers.
func NewMessageCarrier(headers *[]MessageHeader) MessageCarrier {
	return MessageCarrier{headers: headers}
}

// Get returns the first value for key.
func (c MessageCarrier) Get(key string) string {
	for _, h := range c.list() {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// Values returns every value for key, in order.
func (c MessageCarrier) Values(key string) []string {
	var values []string
	for _, h := range c.list() {
		if h.Key == key {
			values = append(values, string(h.Value))
		}
	}
	return values
}

// Set replaces every header for key with one header. The zero
// MessageCarrier has no list to write to and ignores it.
func (c MessageCarrier) Set(key, value string) {
	if c.headers != nil {
		*c.headers = append(slices.DeleteFunc(*c.headers, func(h MessageHeader) bool { return h.Key == key }),
			MessageHeader{Key: key, Value: []byte(value)})
	}
}

// Keys returns the header keys.
func (c MessageCarrier) Keys() []string {
	keys := make([]string, 0, len(c.list()))
	for _, h := range c.list() {
		keys = append(keys, h.Key)
	}
	return keys
}

func (c MessageCarrier) list() []MessageHeader {
	if c.headers == nil {
		return nil
	}
	return *c.headers
}
