// Package vectors holds the test vectors of docs/protocol.md as data, so
// that the package tests, the fuzz seed corpora and the conformance runner
// read one copy of each table, and the hostile input corpus (table "H",
// hostile.json) that the propagator and bridge tests run.
//
// Each table is a JSON file in data/:
//
//	{"table": "<table id>", "description": "...", "cases": [{"id": "<table id>-<row>", "description": "...", ...}]}
//
// Case ids are those of the protocol reference's vector tables: the table's id,
// a dash and the row number. Where a row groups several inputs, each input
// is a case of its own, numbered on from the row or lettered after it (row
// 32's inputs are 32a, 32b, ...).
//
// Strings in the files may use placeholders, expanded when a table loads:
// {T}, {S}, {A} and {K} stand for the notation ids below, and {x*n} for n
// copies of x (the reference's x{n}). {C}, the span id of a span a test starts,
// is left for the test to replace.
//
// The loaders panic on malformed data: the data is embedded, so that is a
// programming error, which this package's own test catches.
package vectors

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// The notation of docs/protocol.md#notation.
const (
	// T is the trace id of the vectors.
	T = "d4cda95b652f4a1592b449d5929fda1b"
	// S is the span id of the vectors.
	S = "6e0c63257de34c92"
	// A is the trace_id of the V-BP and V-E2E baggage.
	A = "771a43a4192642f0b136d5159a501700"
	// K is the public_key of the V-BP and V-E2E baggage.
	K = "49d0f7386ad645858ae85020e393bef3"
)

//go:embed data/*.json
var files embed.FS

// Case identifies a test case; every table's case type embeds it.
type Case struct {
	// ID is the case's vector id: its table's id, a dash, and its row
	// number, possibly lettered.
	ID string `json:"id"`
	// Description says in one line what the case checks.
	Description string `json:"description"`
}

func (c Case) meta() Case { return c }

// Decision is the decision of a continued trace.
type Decision string

// Decisions, as the vectors name them.
const (
	Sampled  Decision = "sampled"
	Negative Decision = "negative"
	Deferred Decision = "deferred"
)

// SentryTraceCase is a V-ST case: sentry-trace values read from a carrier.
type SentryTraceCase struct {
	Case
	// Values are the carrier's sentry-trace values, in order: one, except
	// where the case is about a ValuesGetter.
	Values []string `json:"values"`
	// Want is the continued trace, or nil for no incoming trace.
	Want *Continued `json:"want"`
}

// Continued is a trace continued from a valid sentry-trace.
type Continued struct {
	TraceID  string   `json:"trace_id"`
	SpanID   string   `json:"span_id"`
	Decision Decision `json:"decision"`
}

// SentryTrace returns the V-ST cases (sentrytrace.json).
func SentryTrace() []SentryTraceCase { return load[SentryTraceCase]("sentrytrace.json") }

// BaggageCase is a V-BP case: an incoming baggage, with the valid
// sentry-trace T-S-1, and the DSC it freezes.
type BaggageCase struct {
	Case
	// Values are the carrier's baggage values, in order.
	Values []string `json:"values"`
	// DSC is the frozen DSC, without the backfilled sample_rand. Empty
	// means frozen empty.
	DSC map[string]string `json:"dsc"`
}

// Baggage returns the V-BP cases (baggage.json).
func Baggage() []BaggageCase { return load[BaggageCase]("baggage.json") }

// DSCWriteCase is a V-BS case: a DSC written as baggage members, merged
// into the carrier's baggage.
type DSCWriteCase struct {
	Case
	// DSC is the DSC to write, decoded.
	DSC map[string]string `json:"dsc"`
	// Parse, if set, is a baggage whose Sentry members make up the DSC
	// instead.
	Parse string `json:"parse"`
	// Carrier holds the baggage values already in the carrier.
	Carrier []string `json:"carrier"`
	// Want are the members of the written header; empty means no header.
	Want []string `json:"want"`
	// Ordered reports that Want is the whole header in order, rather than
	// a set.
	Ordered bool `json:"ordered"`
}

// DSCWrite returns the V-BS cases (dscwrite.json).
func DSCWrite() []DSCWriteCase { return load[DSCWriteCase]("dscwrite.json") }

// IncomingCase is a V-IN case: incoming sentry-trace and baggage, and what
// an Inject for the trace then writes.
type IncomingCase struct {
	Case
	// SentryTrace and Baggage are the incoming headers ("" for absent).
	SentryTrace string `json:"sentry_trace"`
	Baggage     string `json:"baggage"`
	// CarrierBaggage is the outgoing carrier's baggage before Inject.
	CarrierBaggage string `json:"carrier_baggage"`
	// OrgID is the local org id ("" for none).
	OrgID string `json:"org_id"`
	// Continued reports whether the trace is continued. If not, Extract
	// returns its input and a new root writes a head DSC.
	Continued bool `json:"continued"`
	// Outgoing are the Sentry members written for a continued trace,
	// except sentry-sample_rand.
	Outgoing map[string]string `json:"outgoing"`
	// SampleRand is the interval [lo, hi) of the written sample_rand.
	SampleRand [2]float64 `json:"sample_rand"`
	// ThirdParty are the third-party members written, in order.
	ThirdParty []string `json:"third_party"`
}

// Incoming returns the V-IN cases (incoming.json).
func Incoming() []IncomingCase { return load[IncomingCase]("incoming.json") }

// SampleRandCase is a V-SR case. A case sets one group of fields:
// SentryTrace, Baggage and Interval for a backfill; SentryTrace, Baggage
// and Regenerated for an invalid incoming value; SentryTrace, Baggage,
// LocalRate, Want and Sampled for a value kept and used to decide; Step
// and Want for the formatting of a generated value.
type SampleRandCase struct {
	Case
	// SentryTrace and Baggage are the incoming headers.
	SentryTrace string `json:"sentry_trace"`
	Baggage     string `json:"baggage"`
	// LocalRate is the local traces sample rate, if any.
	LocalRate *float64 `json:"local_rate"`
	// Step is a generator output n in [0, 999999], written as 0.%06d.
	Step *uint64 `json:"step"`
	// Interval is [lo, hi) for a backfilled value.
	Interval *[2]float64 `json:"interval"`
	// Regenerated reports that the incoming sample_rand is invalid and is
	// replaced.
	Regenerated bool `json:"regenerated"`
	// Want is the sample_rand written, verbatim.
	Want string `json:"want"`
	// Sampled is the decision LocalRate makes with that sample_rand.
	Sampled *bool `json:"sampled"`
}

// SampleRand returns the V-SR cases (samplerand.json).
func SampleRand() []SampleRandCase { return load[SampleRandCase]("samplerand.json") }

// SamplingCase is a V-SM case: the decision for a local root span.
type SamplingCase struct {
	Case
	// SentryTrace and Baggage are the incoming headers ("" for none).
	SentryTrace string `json:"sentry_trace"`
	Baggage     string `json:"baggage"`
	// Rate is the local traces sample rate; nil means unset (TwP).
	Rate *float64 `json:"rate"`
	// Sampled reports RecordAndSample rather than Drop.
	Sampled bool `json:"sampled"`
	// OutgoingFlag is the flag suffix of the outgoing sentry-trace: "",
	// "-0" or "-1".
	OutgoingFlag string `json:"outgoing_flag"`
	// Continued reports that the span belongs to the incoming trace.
	Continued bool `json:"continued"`
}

// Sampling returns the V-SM cases (sampling.json).
func Sampling() []SamplingCase { return load[SamplingCase]("sampling.json") }

// StrictCase is a V-OR case: whether an incoming trace is continued under
// the org id rules.
type StrictCase struct {
	Case
	// SentryTrace and Baggage are the incoming headers.
	SentryTrace string `json:"sentry_trace"`
	Baggage     string `json:"baggage"`
	// Strict is the strict trace continuation option.
	Strict bool `json:"strict"`
	// DSN and OrgID configure the local org id ("" for unset).
	DSN   string `json:"dsn"`
	OrgID string `json:"org_id"`
	// Continued reports whether the trace is continued.
	Continued bool `json:"continued"`
}

// Strict returns the V-OR cases (strict.json).
func Strict() []StrictCase { return load[StrictCase]("strict.json") }

// TargetsCase is a V-TG case: whether requests to URLs get Sentry headers.
type TargetsCase struct {
	Case
	// Targets are the trace propagation targets: nil for no list, empty
	// for a non-nil empty list.
	Targets []Target `json:"targets"`
	// DSN is the configured DSN ("" for none).
	DSN string `json:"dsn"`
	// URLs are the request URLs; "" means no URL in the context.
	URLs []string `json:"urls"`
	// Propagate reports whether each URL gets the headers.
	Propagate bool `json:"propagate"`
}

// Target is a trace propagation target, encoded as {"substring": "..."}
// or {"regexp": "..."}.
type Target struct {
	// Value is the substring, or the regular expression.
	Value string
	// Regexp reports that Value is a regular expression.
	Regexp bool
}

// UnmarshalJSON reads a target object with exactly one of its two keys.
func (t *Target) UnmarshalJSON(b []byte) error {
	var raw struct {
		Substring *string `json:"substring"`
		Regexp    *string `json:"regexp"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	switch {
	case raw.Substring != nil && raw.Regexp == nil:
		*t = Target{Value: *raw.Substring}
	case raw.Regexp != nil && raw.Substring == nil:
		if _, err := regexp.Compile(*raw.Regexp); err != nil {
			return err
		}
		*t = Target{Value: *raw.Regexp, Regexp: true}
	default:
		return errors.New("a target needs one of substring and regexp")
	}
	return nil
}

// Targets returns the V-TG cases (targets.json).
func Targets() []TargetsCase { return load[TargetsCase]("targets.json") }

// MetaTagCase is a V-MT case. Either a trace is continued from
// SentryTrace and Baggage and a server span started under it, and its tags
// checked with the Want fields that are set; or Content is given to the
// tag writer as attribute Name, which writes Want.
type MetaTagCase struct {
	Case
	// SentryTrace and Baggage are the incoming headers.
	SentryTrace string `json:"sentry_trace"`
	Baggage     string `json:"baggage"`
	// WantSentryTrace is the sentry-trace tag's content; {C} is the
	// server span's id.
	WantSentryTrace string `json:"want_sentry_trace"`
	// WantBaggage are the baggage tag's members, as a set.
	WantBaggage map[string]string `json:"want_baggage"`
	// WantContains are strings the tags contain.
	WantContains []string `json:"want_contains"`
	// Name and Content are the attribute given to the tag writer.
	Name    string `json:"name"`
	Content string `json:"content"`
	// Want is the tag writer's output.
	Want string `json:"want"`
}

// MetaTags returns the V-MT cases (metatags.json).
func MetaTags() []MetaTagCase { return load[MetaTagCase]("metatags.json") }

// InteropCase is a V-IO case. The fields set say what it checks:
// SampleRand and RV: rv from sample_rand; Rate alone with TH: the
// threshold ("" for none); SampleRand, Rate and Sampled: the decision on
// both sides; WantRand: sample_rand from RV, or from SampleRand's rv.
type InteropCase struct {
	Case
	SampleRand string `json:"sample_rand"`
	Rate       string `json:"rate"`
	RV         string `json:"rv"`
	TH         string `json:"th"`
	Sampled    *bool  `json:"sampled"`
	WantRand   string `json:"want_rand"`
}

// Interop returns the V-IO cases (interop.json).
func Interop() []InteropCase { return load[InteropCase]("interop.json") }

// W3CCase is a V-W3C case. An Extract case gives the traceparent and
// tracestate lines of a request (nil for absent) and Want, the remote
// parent Composite reads from them (nil for none), with WantTraceparent
// the traceparent an Inject under it writes. An Inject case gives a span's
// trace state, InjectTracestate, with InsertSentry inserted into it when
// set, and WantTracestate, the tracestate line written for it.
type W3CCase struct {
	Case
	Traceparent      []string   `json:"traceparent"`
	Tracestate       []string   `json:"tracestate"`
	Want             *W3CParent `json:"want"`
	WantTraceparent  string     `json:"want_traceparent"`
	InjectTracestate string     `json:"inject_tracestate"`
	InsertSentry     string     `json:"insert_sentry"`
	WantTracestate   string     `json:"want_tracestate"`
}

// W3CParent is the remote parent of a V-W3C case.
type W3CParent struct {
	TraceID    string `json:"trace_id"`
	SpanID     string `json:"span_id"`
	Flags      byte   `json:"flags"`
	Tracestate string `json:"tracestate"`
	// Dropped counts the members that OpenTelemetry's trace state cannot
	// hold, left out alone.
	Dropped int `json:"dropped"`
}

// W3C returns the V-W3C cases (w3c.json).
func W3C() []W3CCase { return load[W3CCase]("w3c.json") }

// HostileCase is an H case: hostile input from the network or from
// configuration, and what must come of it (docs/protocol.md#bad-input).
// Strings may hold {0xHH} for one raw byte, which JSON cannot carry (an
// invalid UTF-8 byte), expanded after {x*n}.
type HostileCase struct {
	Case
	// Kind groups the cases: "sentry-trace", "baggage", "encoding",
	// "duplicate", "conflict", "org" or "config".
	Kind string `json:"kind"`
	// SentryTrace and Baggage are the incoming header lines, in order.
	SentryTrace []string `json:"sentry_trace"`
	Baggage     []string `json:"baggage"`
	// Carrier is the baggage already in the outgoing carrier before Inject.
	Carrier string `json:"carrier"`
	// OrgID and Strict configure strict trace continuation.
	OrgID  string `json:"org_id"`
	Strict bool   `json:"strict"`
	// Release and Environment configure the propagator; SpanName names the
	// local root span started under the extracted context.
	Release     string `json:"release"`
	Environment string `json:"environment"`
	SpanName    string `json:"span_name"`
	// Continued reports whether the trace is continued, as Decision, with
	// the ids T and S unless TraceID and SpanID say otherwise.
	Continued bool     `json:"continued"`
	Decision  Decision `json:"decision"`
	TraceID   string   `json:"trace_id"`
	SpanID    string   `json:"span_id"`
	// DSC is the DSC sent downstream, decoded, without sample_rand and,
	// for a trace started here, without trace_id: the frozen one read
	// from the extracted context, or the head DSC of the local root.
	DSC map[string]string `json:"dsc"`
}

// Hostile returns the H cases (hostile.json).
func Hostile() []HostileCase {
	cases := load[HostileCase]("hostile.json")
	for i := range cases {
		c := &cases[i]
		for _, s := range []*string{&c.Carrier, &c.OrgID, &c.Release, &c.Environment, &c.SpanName} {
			*s = rawBytes(*s)
		}
		for _, list := range [][]string{c.SentryTrace, c.Baggage} {
			for j := range list {
				list[j] = rawBytes(list[j])
			}
		}
		for k, v := range c.DSC {
			c.DSC[k] = rawBytes(v)
		}
	}
	return cases
}

// rawByte matches {0xHH}.
var rawByte = regexp.MustCompile(`\{0x([0-9a-f]{2})\}`)

func rawBytes(s string) string {
	return rawByte.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseUint(m[3:5], 16, 8)
		return string([]byte{byte(n)})
	})
}

// file is the layout of a data file.
type file[C any] struct {
	Table       string `json:"table"`
	Description string `json:"description"`
	Cases       []C    `json:"cases"`
}

func load[C any](name string) []C {
	f, err := decode[C](name, true)
	if err != nil {
		panic(err)
	}
	return f.Cases
}

func decode[C any](name string, strict bool) (file[C], error) {
	var f file[C]
	raw, err := files.ReadFile("data/" + name)
	if err != nil {
		return f, fmt.Errorf("vectors: %w", err)
	}
	raw, err = expand(raw)
	if err != nil {
		return f, fmt.Errorf("vectors: %s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields() // a misspelt field would silently test nothing
	}
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("vectors: %s: %w", name, err)
	}
	return f, nil
}

// placeholder matches {T}, {S}, {A}, {K} and {x*n}. A repeated x holds no
// quote or backslash, so expanding the JSON text keeps it valid.
var placeholder = regexp.MustCompile(`\{([TSAK])\}|\{([^{}*"\\]+)\*([0-9]+)\}`)

// maxRepeat bounds {x*n}; the largest vector needs about 9000 bytes.
const maxRepeat = 1 << 16

func expand(raw []byte) ([]byte, error) {
	ids := map[string]string{"T": T, "S": S, "A": A, "K": K}
	var err error
	out := placeholder.ReplaceAllFunc(raw, func(m []byte) []byte {
		sub := placeholder.FindSubmatch(m)
		if len(sub[1]) > 0 {
			return []byte(ids[string(sub[1])])
		}
		n, convErr := strconv.Atoi(string(sub[3]))
		if convErr != nil || n > maxRepeat {
			err = fmt.Errorf("bad repeat %s", m)
			return m
		}
		return bytes.Repeat(sub[2], n)
	})
	return out, err
}

// The headers of a sampled request from a Sentry SDK, which the
// benchmarks and the allocation and memory tests measure with:
// sentry-trace for T and S, and a baggage of 8 Sentry members (one of them
// percent-encoded) and one third-party member.
const (
	RequestSentryTrace = T + "-" + S + "-1"
	RequestBaggage     = "sentry-trace_id=" + T + "," +
		"sentry-public_key=" + K + "," +
		"sentry-sample_rate=0.25," +
		"sentry-sample_rand=0.123456," +
		"sentry-sampled=true," +
		"sentry-release=1.4.2," +
		"sentry-environment=production," +
		"sentry-transaction=GET%20%2Fusers," +
		"othervendor=t61rcWkgMzE"
)
