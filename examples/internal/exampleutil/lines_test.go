package exampleutil

import (
	"fmt"
	"strings"
	"testing"
)

func TestPrintParse(t *testing.T) {
	var out strings.Builder
	if err := PrintLine(&out, "span", "name", "GET /work", "empty", "", "baggage", "a=1,b=2", "quoted", `say "hi"`); err != nil {
		t.Fatal(err)
	}
	out.WriteString("\nheading without fields\n")
	want := Line{Label: "span", Fields: map[string]string{"name": "GET /work", "empty": "", "baggage": "a=1,b=2", "quoted": `say "hi"`}}
	lines := ParseLines(out.String())
	if len(lines) != 2 || fmt.Sprint(lines[0]) != fmt.Sprint(want) || lines[1].Label != "heading" {
		t.Errorf("ParseLines(%q) = %v, want %v and a heading", out.String(), lines, want)
	}
}

// fakeT records a fatal failure instead of stopping the test.
type fakeT struct{ failed string }

func (*fakeT) Helper()                             {}
func (f *fakeT) Errorf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }
func (f *fakeT) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestChain(t *testing.T) {
	lines := ParseLines(`span service=a id=1 trace=t parent=none
span service=b id=2 trace=t parent=1
span service=c id=3 trace=u parent=2
span service=c id=4 trace=t parent=2
`)
	for _, tc := range []struct {
		selectors []string
		fails     bool
	}{
		{[]string{"span service=a", "span service=b", "span id=4"}, false},
		{[]string{"span service=a", "span service=b", "span id=3"}, true}, // another trace
		{[]string{"span service=a", "span id=4"}, true},                   // another parent
		{[]string{"span service=c"}, true},                                // two lines
		{[]string{"span service=d"}, true},                                // none
	} {
		f := &fakeT{}
		lines.Chain(f, tc.selectors...)
		if (f.failed != "") != tc.fails {
			t.Errorf("Chain(%q): failure %q, want failure: %v", tc.selectors, f.failed, tc.fails)
		}
	}
}

func TestCarried(t *testing.T) {
	lines := ParseLines(`span service=a id=b7ad6b7169203331 trace=0af7651916cd43dd8448eb211c80319c sampled=true
headers service=b sentry-trace=0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1 baggage=sentry-release=x,sentry-sampled=true
headers service=c sentry-trace=0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0 baggage=sentry-release=x
`)
	sender := lines.Get(t, "span service=a")
	for _, tc := range []struct {
		selector string
		members  []string
		fails    bool
	}{
		{"headers service=b", []string{"sentry-release=x", "sentry-sampled=true"}, false},
		{"headers service=b", []string{"sentry-release=y"}, true},
		{"headers service=b", []string{"sentry-release"}, true}, // members are whole
		{"headers service=c", nil, true},                        // flag -0
	} {
		f := &fakeT{}
		lines.Carried(f, tc.selector, sender, tc.members...)
		if (f.failed != "") != tc.fails {
			t.Errorf("Carried(%q, %q): failure %q, want failure: %v", tc.selector, tc.members, f.failed, tc.fails)
		}
	}
}
