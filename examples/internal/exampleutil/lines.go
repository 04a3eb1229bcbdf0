package exampleutil

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The examples print one fact a line: a label, then key=value fields. A
// value that is empty or holds a space or a quote is printed Go-quoted:
//
//	span service=api kind=server name="GET /work" trace=4bf9... id=00f0... parent=b7ad... sampled=true

// None is printed for a span without parent.
const None = "none"

// PrintLine writes one line: label and the key/value pairs kv.
func PrintLine(w io.Writer, label string, kv ...string) error {
	var b strings.Builder
	b.WriteString(label)
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString(" " + kv[i] + "=" + quote(kv[i+1]))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

func quote(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\"") {
		return strconv.Quote(v)
	}
	return v
}

// PrintSpans writes a "span" line for each span of service: kind, name,
// trace id, span id, parent span id (None for a root), sampled flag and,
// for a client span, the URL it requested.
func PrintSpans(w io.Writer, service string, spans []sdktrace.ReadOnlySpan) error {
	for _, s := range spans {
		sc := s.SpanContext()
		parent := None
		if s.Parent().IsValid() {
			parent = s.Parent().SpanID().String()
		}
		kv := []string{"service", service, "kind", s.SpanKind().String(), "name", s.Name(),
			"trace", sc.TraceID().String(), "id", sc.SpanID().String(), "parent", parent,
			"sampled", strconv.FormatBool(sc.IsSampled())}
		for _, a := range s.Attributes() {
			if a.Key == "url.full" {
				kv = append(kv, "url", a.Value.String())
			}
		}
		if err := PrintLine(w, "span", kv...); err != nil {
			return err
		}
	}
	return nil
}

// PrintHeaders writes a "headers" line with the TraceHeaders that get
// returns for what service received ("" for a missing one).
func PrintHeaders(w io.Writer, service string, get func(key string) string) error {
	kv := []string{"service", service}
	for _, key := range TraceHeaders {
		kv = append(kv, key, get(key))
	}
	return PrintLine(w, "headers", kv...)
}

// PrintReceived writes a "headers" line for each request s received.
func (s *Server) PrintReceived(w io.Writer) error {
	for _, h := range s.Received() {
		if err := PrintHeaders(w, s.Name, http.Header(h).Get); err != nil {
			return err
		}
	}
	return nil
}

// Report closes s, so that its spans have ended, and writes a "service"
// line with its name and URL, what it received and its spans.
func (s *Server) Report(w io.Writer) error {
	if err := s.Close(); err != nil {
		return err
	}
	if err := PrintLine(w, "service", "name", s.Name, "url", s.URL); err != nil {
		return err
	}
	if err := s.PrintReceived(w); err != nil {
		return err
	}
	return PrintSpans(w, s.Name, s.Tracing.Spans())
}

// Line is one parsed output line.
type Line struct {
	Label  string
	Fields map[string]string
}

// Get returns the value of field key, or "".
func (l Line) Get(key string) string { return l.Fields[key] }

// String returns the line as printed.
func (l Line) String() string { return fmt.Sprint(l.Label, " ", l.Fields) }

// Lines are the parsed lines of an example's output.
type Lines []Line

// ParseLines parses what PrintLine wrote. Text that is not key=value, such
// as a heading, is skipped.
func ParseLines(out string) Lines {
	var lines Lines
	for _, text := range strings.Split(out, "\n") {
		label, rest, _ := strings.Cut(text, " ")
		if label == "" {
			continue
		}
		l := Line{Label: label, Fields: map[string]string{}}
		for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
			key, after, ok := strings.Cut(rest, "=")
			if !ok {
				break
			}
			value, n := after, len(after)
			if q, err := strconv.QuotedPrefix(after); err == nil {
				value, _ = strconv.Unquote(q)
				n = len(q)
			} else if i := strings.IndexByte(after, ' '); i >= 0 {
				value, n = after[:i], i
			}
			l.Fields[key] = value
			rest = after[n:]
		}
		lines = append(lines, l)
	}
	return lines
}

// All returns the lines with label whose fields include the key/value
// pairs kv.
func (ls Lines) All(label string, kv ...string) Lines {
	var out Lines
	for _, l := range ls {
		if l.Label == label && l.matches(kv) {
			out = append(out, l)
		}
	}
	return out
}

// Find returns the one line with label and the fields kv; it is an error
// when there is none or more than one.
func (ls Lines) Find(label string, kv ...string) (Line, error) {
	all := ls.All(label, kv...)
	if len(all) != 1 {
		return Line{}, fmt.Errorf("%d lines %q %q, want 1", len(all), label, kv)
	}
	return all[0], nil
}

func (l Line) matches(kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if v, ok := l.Fields[kv[i]]; !ok || v != kv[i+1] {
			return false
		}
	}
	return true
}

// ChildOf reports an error unless the span line child is in the trace of
// the span line parent and has it as parent.
func ChildOf(child, parent Line) error {
	if child.Get("trace") != parent.Get("trace") || child.Get("parent") != parent.Get("id") {
		return fmt.Errorf("%v is not a child of %v", child, parent)
	}
	return nil
}

// SentryTrace returns the sentry-trace value of the span line l:
// "<trace>-<id>-1" when sampled, "-0" otherwise.
func (l Line) SentryTrace() string {
	flag := "-0"
	if l.Get("sampled") == "true" {
		flag = "-1"
	}
	return l.Get("trace") + "-" + l.Get("id") + flag
}
