package natsqueue

import (
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
)

// HeaderCarrier is a propagation.TextMapCarrier, and ValuesGetter, over
// the headers of a NATS message. It keeps keys as the propagator writes
// them: sentry-trace, baggage, traceparent.
type HeaderCarrier nats.Header

var (
	_ propagation.TextMapCarrier = HeaderCarrier(nil)
	_ propagation.ValuesGetter   = HeaderCarrier(nil)
)

// Get returns the first value of key, or of the first key (in byte order)
// that equals it regardless of case, or "".
func (c HeaderCarrier) Get(key string) string {
	if v := c.Values(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns the values of key, or of the first key (in byte order)
// that equals it regardless of case.
func (c HeaderCarrier) Values(key string) []string {
	if v, ok := c[key]; ok {
		return v
	}
	var found string
	for k := range c {
		if strings.EqualFold(k, key) && (found == "" || k < found) {
			found = k
		}
	}
	if found == "" {
		return nil
	}
	return c[found]
}

// Set sets key to value, as written, and removes the key in any other
// case, so that a reader finds one value whichever case it looks for.
// A nil carrier is left alone.
func (c HeaderCarrier) Set(key, value string) {
	if c == nil {
		return
	}
	for k := range c {
		if k != key && strings.EqualFold(k, key) {
			delete(c, k)
		}
	}
	c[key] = []string{value}
}

// Keys returns the keys, as written, in byte order.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
