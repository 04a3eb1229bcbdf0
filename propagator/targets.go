package propagator

import "strings"

// Target matches the URLs of outgoing requests that may carry trace
// headers. *regexp.Regexp is a Target (unanchored unless its pattern
// anchors), and so is what Substring returns.
type Target interface {
	MatchString(url string) bool
}

// Substring returns a Target that matches URLs containing s,
// case-sensitively. s is never read as a pattern: Substring(".*") matches
// only URLs that contain ".*". The empty Substring matches nothing, so that
// a blank entry in a configured list does not open every URL.
func Substring(s string) Target { return substring(s) }

// substring is the Target that Substring returns.
type substring string

func (s substring) MatchString(url string) bool {
	return s != "" && strings.Contains(url, string(s))
}
