package vectors

import (
	"strings"
	"testing"
)

// Members splits a written baggage value into its members, for comparing
// as a set. A member without '=' or a repeated key fails the test.
func Members(t testing.TB, baggage string) map[string]string {
	t.Helper()
	m := map[string]string{}
	if baggage == "" {
		return m
	}
	for _, elem := range strings.Split(baggage, ",") {
		k, v, ok := strings.Cut(elem, "=")
		if !ok {
			t.Fatalf("member without '=' in %q", baggage)
		}
		if _, dup := m[k]; dup {
			t.Fatalf("duplicate member %q in %q", k, baggage)
		}
		m[k] = v
	}
	return m
}
