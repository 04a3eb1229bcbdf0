package propagator

import "strings"

// Target matches the URLs of outgoing requests that may carry trace
// headers. *regexp.Regexp is a Target (unanchored unless its pattern
// anchors), and so is Substring.
type Target interface {
	MatchString(url string) bool
}

// Substring is a Target that matches URLs containing it, case-sensitively.
// It is never read as a pattern: Substring(".*") matches only URLs that
// contain ".*". The empty Substring matches nothing, so that a blank entry
// in a configured list does not open every URL.
type Substring string

// MatchString reports whether url contains s.
func (s Substring) MatchString(url string) bool {
	return s != "" && strings.Contains(url, string(s))
}
