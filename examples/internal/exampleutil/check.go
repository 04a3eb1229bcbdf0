package exampleutil

import (
	"io"
	"strings"
)

// T is the part of a *testing.T that the test helpers use.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// RunTest runs an example's run function, failing the test if it fails,
// and returns its parsed output.
func RunTest(t T, run func(io.Writer) error) Lines {
	t.Helper()
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	return ParseLines(out.String())
}

// Get returns the one line that selector, written as the line itself with
// only some of its fields (`span service=api kind=server`), selects; it
// fails the test when there is none or more than one.
func (ls Lines) Get(t T, selector string) Line {
	t.Helper()
	sel := ParseLines(selector)
	var kv []string
	for k, v := range sel[0].Fields {
		kv = append(kv, k, v)
	}
	l, err := ls.Find(sel[0].Label, kv...)
	if err != nil {
		t.Fatalf("%s: %v", selector, err)
	}
	return l
}

// Chain returns the span lines that selectors select (see Get), failing
// the test unless each is a child of the one before it (see ChildOf).
func (ls Lines) Chain(t T, selectors ...string) []Line {
	t.Helper()
	chain := make([]Line, len(selectors))
	for i, sel := range selectors {
		chain[i] = ls.Get(t, sel)
		if i == 0 {
			continue
		}
		if err := ChildOf(chain[i], chain[i-1]); err != nil {
			t.Fatalf("%s, %s: %v", selectors[i-1], sel, err)
		}
	}
	return chain
}

// Carried returns the "headers" line that selector selects, failing the
// test unless its sentry-trace names the span line sender (see
// Line.SentryTrace) and its baggage holds each of members.
func (ls Lines) Carried(t T, selector string, sender Line, members ...string) Line {
	t.Helper()
	h := ls.Get(t, selector)
	if h.Get("sentry-trace") != sender.SentryTrace() {
		t.Errorf("%s: sentry-trace %q, want %q", selector, h.Get("sentry-trace"), sender.SentryTrace())
	}
	for _, m := range members {
		if !strings.Contains(","+h.Get("baggage")+",", ","+m+",") {
			t.Errorf("%s: baggage %q lacks %q", selector, h.Get("baggage"), m)
		}
	}
	return h
}
