package vectors

import "strings"

// TB is the part of testing.TB that the helpers here use, so that this
// package, which tests import, does not import testing itself.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Members splits a written baggage value into its members, for comparing
// as a set. A member without '=' or a repeated key fails the test.
func Members(t TB, baggage string) map[string]string {
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
