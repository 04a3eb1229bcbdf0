package propagator

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
)

// fuzzSeedSentryTrace returns a V-ST case's carrier values as the fuzz
// targets' two sentry-trace arguments.
func fuzzSeedSentryTrace(values []string) (first, second string) {
	switch len(values) {
	case 0:
		return "", ""
	case 1:
		return values[0], ""
	}
	return values[0], strings.Join(values[1:], ",")
}

// fuzzBaggage is a baggage as up to two carrier values: head followed by
// pad bytes 'a', then tail as a second value. Padding keeps inputs at the
// 8192-byte bound small for the fuzzing engine, which minimizes them.
type fuzzBaggage struct {
	head string
	pad  uint16
	tail string
}

// fuzzMaxPad bounds the padding: enough to cross every limit.
const fuzzMaxPad = 1 << 14

func fuzzPadded(head string, pad uint16, tail string) []string {
	return fuzzValues(head+strings.Repeat("a", int(pad)%fuzzMaxPad), tail)
}

// fuzzMinRun is the shortest run of one byte that a seed turns into
// padding.
const fuzzMinRun = 256

// fuzzSeedBaggage returns baggage values as the fuzz targets' arguments:
// the first value, then the rest joined as the second. The first run of
// fuzzMinRun or more equal bytes that ends the value or a member becomes
// padding, so that the limit vectors stay small seeds; the run's byte
// becomes 'a', which makes no difference to a value.
func fuzzSeedBaggage(values []string) fuzzBaggage {
	if len(values) == 0 {
		return fuzzBaggage{}
	}
	head, tail := values[0], strings.Join(values[1:], ",")
	for i := 0; i+fuzzMinRun <= len(head); i++ {
		run := len(head[i:]) - len(strings.TrimLeft(head[i:], head[i:i+1]))
		if run < fuzzMinRun {
			i += run - 1
			continue
		}
		rest := head[i+run:]
		if run >= fuzzMaxPad || tail != "" || rest != "" && rest[0] != ',' {
			break
		}
		return fuzzBaggage{head: head[:i], pad: uint16(run), tail: strings.TrimPrefix(rest, ",")}
	}
	return fuzzBaggage{head: head, tail: tail}
}

// fuzzSeedCarrierBaggages returns baggages already in an outgoing
// carrier: those of the vectors (V-IN-9, V-BS-10..12), and those of
// V-PR-12..14 and V-BS-9, which are tested in code.
func fuzzSeedCarrierBaggages() []fuzzBaggage {
	seeds := []fuzzBaggage{
		{},
		{head: "foo=bar,other=yes"},
		{head: "foo=bar,other=yes", tail: "other2=no"},
		{head: "foo=bar,other=yes,sentry-release=9.9.9,sentry-other=yes"},
		{head: "b=x,a=", pad: 8184}, // 8190 bytes
	}
	for _, c := range vectors.Incoming() {
		if c.CarrierBaggage != "" {
			seeds = append(seeds, fuzzSeedBaggage([]string{c.CarrierBaggage}))
		}
	}
	for _, c := range vectors.DSCWrite() {
		if len(c.Carrier) > 0 {
			seeds = append(seeds, fuzzSeedBaggage(c.Carrier))
		}
	}
	return seeds
}

// fuzzSeedNames returns DSC values to write raw: those of V-BS, except
// the long ones, which only fill the limits, and the root name of V-BS-13.
func fuzzSeedNames() []string {
	names := []string{"", "Head SDK tx"}
	for _, c := range vectors.DSCWrite() {
		for _, k := range slices.Sorted(maps.Keys(c.DSC)) {
			if v := c.DSC[k]; v != "" && len(v) < fuzzMinRun && !slices.Contains(names, v) {
				names = append(names, v)
			}
		}
	}
	return names
}

// fuzzValidSentryTrace is the ST-4 grammar, after ST-3 trimming.
var fuzzValidSentryTrace = regexp.MustCompile(`^[0-9a-f]{32}-[0-9a-f]{16}(-[01]?)?$`)

// fuzzFirstPart is an independent reading of ST-8.
func fuzzFirstPart(values []string) string {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if p := strings.Trim(part, " \t"); p != "" {
				return p
			}
		}
	}
	return ""
}

func fuzzCheckSentryTrace(t *testing.T, in string) {
	t.Helper()
	tid, sid, d, ok := parseSentryTrace(in)
	trimmed := strings.Trim(in, " \t")
	zeroIDs := len(trimmed) >= 49 &&
		(trimmed[:32] == strings.Repeat("0", 32) || trimmed[33:49] == strings.Repeat("0", 16))
	if want := fuzzValidSentryTrace.MatchString(trimmed) && !zeroIDs; ok != want {
		t.Fatalf("parseSentryTrace(%q) ok = %v, want %v", in, ok, want)
	}
	if !ok {
		return
	}
	if tid.String() != trimmed[:32] || sid.String() != trimmed[33:49] {
		t.Fatalf("parseSentryTrace(%q) = %s, %s", in, tid, sid)
	}
	wantD := Deferred
	switch trimmed[49:] {
	case "-1":
		wantD = Sampled
	case "-0":
		wantD = NotSampled
	}
	if d != wantD {
		t.Fatalf("parseSentryTrace(%q) decision = %v, want %v", in, d, wantD)
	}
	out := string(appendSentryTrace(nil, tid, sid, d))
	if want := strings.TrimSuffix(trimmed, "-"); out != want {
		t.Fatalf("appendSentryTrace after parsing %q = %q, want %q", in, out, want)
	}
	tid2, sid2, d2, ok2 := parseSentryTrace(out)
	if !ok2 || tid2 != tid || sid2 != sid || d2 != d {
		t.Fatalf("round trip of %q: %q parses to %s, %s, %v, %v", in, out, tid2, sid2, d2, ok2)
	}
}

func FuzzParseSentryTrace(f *testing.F) {
	for _, c := range vectors.SentryTrace() {
		first, second := fuzzSeedSentryTrace(c.Values)
		f.Add(first, second)
	}
	f.Fuzz(func(t *testing.T, first, second string) {
		fuzzCheckSentryTrace(t, first)
		values := []string{first}
		if second != "" {
			values = append(values, second)
		}
		candidate := firstSentryTrace(values)
		if want := fuzzFirstPart(values); candidate != want {
			t.Fatalf("firstSentryTrace(%q) = %q, want %q", values, candidate, want)
		}
		if candidate != "" {
			fuzzCheckSentryTrace(t, candidate)
		}
	})
}

// fuzzMember is a baggage member as an independent reading of BG-4, BG-6
// and BG-8 finds it.
type fuzzMember struct{ key, value string }

// fuzzIsToken is RFC 7230 token, written out independently of isToken.
func fuzzIsToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

func fuzzIsHex(c byte, upperOnly bool) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' || !upperOnly && 'a' <= c && c <= 'f'
}

// fuzzIsValue is W3C baggage-octets with '%' only as the start of a
// two-digit hex escape.
func fuzzIsValue(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 >= len(s) || !fuzzIsHex(s[i+1], false) || !fuzzIsHex(s[i+2], false) {
				return false
			}
			i += 2
		case c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\':
			return false
		}
	}
	return true
}

// fuzzIsWritten reports a Sentry member as BG-12 writes it: a token key
// with the prefix, and a non-empty value of RFC 3986 unreserved bytes and
// uppercase %XX escapes.
func fuzzIsWritten(m string) bool {
	key, value, ok := strings.Cut(m, "=")
	if !ok || !strings.HasPrefix(key, sentryPrefix) || !fuzzIsToken(key[len(sentryPrefix):]) || value == "" {
		return false
	}
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case c == '%':
			if i+2 >= len(value) || !fuzzIsHex(value[i+1], true) || !fuzzIsHex(value[i+2], true) {
				return false
			}
			i += 2
		case !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'):
			return false
		}
	}
	return true
}

func fuzzRefMembers(capped string) []fuzzMember {
	var ms []fuzzMember
	examined := 0
	for _, raw := range strings.Split(capped, ",") {
		elem := strings.Trim(raw, " \t")
		if elem == "" {
			continue
		}
		if examined == maxBaggageMembers {
			break
		}
		examined++
		key, value, ok := strings.Cut(elem, "=")
		if !ok {
			continue
		}
		key = strings.TrimRight(key, " \t")
		value, _, _ = strings.Cut(value, ";")
		value = strings.Trim(value, " \t")
		if fuzzIsToken(key) && fuzzIsValue(value) {
			ms = append(ms, fuzzMember{key, value})
		}
	}
	return ms
}

// fuzzDecode is an independent percent-decoder ('+' stays a plus sign).
func fuzzDecode(t *testing.T, v string) string {
	t.Helper()
	d, err := url.PathUnescape(v)
	if err != nil {
		t.Fatalf("valid value %q does not decode: %v", v, err)
	}
	return d
}

func fuzzValues(a, b string) []string {
	switch {
	case b != "":
		return []string{a, b}
	case a != "":
		return []string{a}
	}
	return nil
}

func FuzzBaggage(f *testing.F) {
	var none, in fuzzBaggage
	for _, c := range vectors.Baggage() {
		b := fuzzSeedBaggage(c.Values)
		f.Add(b.head, b.pad, b.tail, none.head, none.pad, none.tail, "")
		if c.ID == "V-BP-2" {
			in = b // Sentry and third-party members, to merge into carriers
		}
	}
	for _, c := range fuzzSeedCarrierBaggages() {
		f.Add("sentry-release=2.1.0,sentry-environment=myEnv", uint16(0), "", c.head, c.pad, c.tail, "")
		f.Add(in.head, in.pad, in.tail, c.head, c.pad, c.tail, "GET /users")
	}
	for _, n := range fuzzSeedNames() {
		f.Add("sentry-transaction=x,sentry-release=my%20app%401.0%2Bbuild", uint16(0), "", "", uint16(0), "", n)
	}
	f.Fuzz(func(t *testing.T, in1 string, inPad uint16, in2, ex1 string, exPad uint16, ex2, name string) {
		incoming := fuzzPadded(in1, inPad, in2)
		joined := joinValues(incoming)
		full := strings.Join(incoming, ",")
		if !strings.HasPrefix(full, joined) {
			t.Fatalf("joinValues(%q) = %q, not a prefix of the joined values", incoming, joined)
		}
		capped := capBaggage(joined)
		if other := capBaggage(full); capped != other {
			t.Fatalf("capBaggage(joinValues) = %q, capBaggage(full join) = %q", capped, other)
		}
		fuzzCheckCap(t, full, capped)

		// baggageReader against the reference reading.
		want := fuzzRefMembers(capped)
		var got []fuzzMember
		r := baggageReader{rest: capped}
		for {
			key, value, ok := r.next()
			if !ok {
				break
			}
			if !isToken(key) || !strings.Contains(capped, key) {
				t.Fatalf("baggageReader key %q is not a token of the input", key)
			}
			got = append(got, fuzzMember{key, value})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("baggageReader(%q) = %q, want %q", capped, got, want)
		}

		// scanDSC against the reference: last non-empty value wins (BG-9,
		// BG-10).
		last := map[string]string{}
		usable := false
		for _, m := range want {
			if k, ok := strings.CutPrefix(m.key, sentryPrefix); ok && k != "" && m.value != "" {
				usable = true
				last[k] = fuzzDecode(t, m.value)
			}
		}
		dsc := scanDSC(capped)
		wantRand := last[keySampleRand]
		if _, ok := ParseSampleRand(wantRand); !ok {
			wantRand = ""
		}
		if dsc.usable != usable || dsc.sampleRand != wantRand || dsc.sampleRate != last[keySampleRate] ||
			dsc.orgID != strings.Trim(last[keyOrgID], " \t") || dsc.sampled != last[keySampled] {
			t.Fatalf("scanDSC(%q) = %+v; reference DSC %q", capped, dsc, last)
		}

		// mergeBaggage: the frozen DSC as Inject writes it, plus raw values.
		var backing [maxBaggageMembers]dscEntry
		entries := dscEntries(backing[:0])
		entries = entries.addFrozen(capped)
		sampleRand := dsc.sampleRand
		if sampleRand == "" {
			sampleRand = "0.123456"
		}
		entries = entries.set(keySampleRand, sampleRand, false)
		last[keySampleRand] = sampleRand
		if name != "" {
			entries = entries.set(keyTransaction, name, false)
			last[keyTransaction] = name
		}
		existing := fuzzPadded(ex1, exPad, ex2)
		merged := mergeBaggage(existing, slices.Clone(entries))
		if again := mergeBaggage(existing, slices.Clone(entries)); again != merged {
			t.Fatalf("mergeBaggage is not deterministic: %q, then %q", merged, again)
		}
		fuzzCheckMerged(t, existing, merged, last)
	})
}

// fuzzCheckCap checks BG-8's byte bound: a prefix, cut after a comma, and
// nothing cut when the value fits.
func fuzzCheckCap(t *testing.T, full, capped string) {
	t.Helper()
	switch {
	case len(full) <= maxBaggageBytes:
		if capped != full {
			t.Fatalf("capBaggage cut a value of %d bytes to %d", len(full), len(capped))
		}
	case len(capped) > maxBaggageBytes || !strings.HasPrefix(full, capped):
		t.Fatalf("capBaggage returned %d bytes that are not a prefix within the limit", len(capped))
	case len(capped) == maxBaggageBytes && full[maxBaggageBytes] == ',':
		// The boundary falls on a comma: nothing is cut.
	default:
		if capped != "" && !strings.HasSuffix(capped, ",") ||
			strings.Contains(full[len(capped):maxBaggageBytes], ",") {
			t.Fatalf("capBaggage dropped more than the member cut by the boundary (kept %d bytes)", len(capped))
		}
	}
}

// fuzzCheckMerged checks BG-12..18 on a merged baggage: the carrier's
// third-party elements first and untouched, then Sentry members in BG-15
// order within the limits, decoding back to the DSC.
func fuzzCheckMerged(t *testing.T, existing []string, merged string, dsc map[string]string) {
	t.Helper()
	var third []string
	for _, v := range existing {
		for _, e := range strings.Split(v, ",") {
			e = strings.Trim(e, " \t")
			key, _, _ := strings.Cut(e, "=")
			if e != "" && !strings.HasPrefix(strings.Trim(key, " \t"), sentryPrefix) {
				third = append(third, e)
			}
		}
	}
	prefix := strings.Join(third, ",")
	if !strings.HasPrefix(merged, prefix) {
		t.Fatalf("merged baggage %q does not start with the third-party elements %q", merged, prefix)
	}
	rest := merged[len(prefix):]
	if prefix != "" && rest != "" {
		if rest[0] != ',' {
			t.Fatalf("merged baggage %q does not separate the Sentry members", merged)
		}
		rest = rest[1:]
	}
	if len(prefix) > maxBaggageBytes || len(third) >= maxBaggageMembers {
		if rest != "" {
			t.Fatalf("Sentry members %q added to third-party elements over a limit", rest)
		}
		return
	}
	if len(merged) > maxBaggageBytes {
		t.Fatalf("merged baggage has %d bytes", len(merged))
	}
	var sentry []string
	if rest != "" {
		sentry = strings.Split(rest, ",")
	}
	if len(third)+len(sentry) > maxBaggageMembers {
		t.Fatalf("merged baggage has %d members", len(third)+len(sentry))
	}
	for i := 0; i < len(merged); i++ {
		if c := merged[i]; (c < 0x20 || c > 0x7e) && strings.IndexByte(prefix, c) < 0 {
			t.Fatalf("merged baggage has byte %#x not in a third-party element", c)
		}
	}
	seen := map[string]bool{}
	prev := ""
	for _, m := range sentry {
		if !fuzzIsWritten(m) {
			t.Fatalf("written Sentry member %q is not encoded per BG-12", m)
		}
		key, value, ok := parseMember(m)
		if !ok {
			t.Fatalf("written Sentry member %q does not parse", m)
		}
		k, _ := sentryKey(key)
		if seen[k] {
			t.Fatalf("Sentry key %q written twice in %q", k, rest)
		}
		seen[k] = true
		want, ok := dsc[k]
		if !ok {
			t.Fatalf("written Sentry key %q is not in the DSC %q", k, dsc)
		}
		if got := fuzzDecode(t, value); got != want {
			t.Fatalf("sentry-%s decodes to %q, want %q", k, got, want)
		}
		if prev != "" && (keyRank(prev) > keyRank(k) || keyRank(prev) == keyRank(k) && prev > k) {
			t.Fatalf("Sentry members out of BG-15 order: %q before %q", prev, k)
		}
		prev = k
	}
	// When everything fits, nothing is left out.
	size, count := len(prefix), len(third)
	for k, v := range dsc {
		if size > 0 {
			size++
		}
		size += len(sentryPrefix) + len(k) + 1 + 3*len(v) // at most 3 bytes a byte
		count++
	}
	if size <= maxBaggageBytes && count <= maxBaggageMembers && len(seen) != len(dsc) {
		var missing []string
		for k := range dsc {
			if !seen[k] {
				missing = append(missing, k)
			}
		}
		slices.Sort(missing)
		t.Fatalf("merged baggage %q left out DSC keys %q that fit (DSC %q)", merged, missing, dsc)
	}
}

func FuzzExtract(f *testing.F) {
	for _, c := range vectors.SentryTrace() {
		first, second := fuzzSeedSentryTrace(c.Values)
		baggage := "sentry-release=1.0,othervendor=bla"
		if second != "" {
			baggage = ""
		}
		f.Add(first, second, baggage, uint16(0), "")
	}
	for _, c := range vectors.Baggage() {
		b := fuzzSeedBaggage(c.Values)
		f.Add(vectors.T+"-"+vectors.S+"-1", "", b.head, b.pad, b.tail)
		f.Add(vectors.T+"-"+vectors.S, "", b.head, b.pad, b.tail)
	}
	f.Fuzz(func(t *testing.T, st1, st2, bg1 string, bgPad uint16, bg2 string) {
		stValues, bgValues := fuzzValues(st1, st2), fuzzPadded(bg1, bgPad, bg2)
		mc, hc := propagation.MapCarrier{}, propagation.HeaderCarrier(http.Header{})
		if stValues != nil {
			mc["sentry-trace"] = strings.Join(stValues, ",")
			hc["Sentry-Trace"] = stValues
		}
		if bgValues != nil {
			mc["baggage"] = strings.Join(bgValues, ",")
			hc["Baggage"] = bgValues
		}
		tid, sid, d, continued := parseSentryTrace(fuzzFirstPart(stValues))

		p := New()
		ctx := context.Background()
		var outs [2]struct{ sentryTrace, baggage string }
		var dscs [2]DSC
		for i, in := range []propagation.TextMapCarrier{mc, hc} {
			got := p.Extract(ctx, in)
			if !continued {
				if got != ctx {
					t.Fatalf("Extract(%T) changed the context for sentry-trace %q", in, stValues)
				}
				continue
			}
			sc := trace.SpanContextFromContext(got)
			if sc.TraceID() != tid || sc.SpanID() != sid || !sc.IsRemote() || DecisionOf(sc) != d {
				t.Fatalf("Extract(%T) of %q = %v, decision %v; want %s-%s, %v",
					in, stValues, sc, DecisionOf(sc), tid, sid, d)
			}
			incoming, ok := IncomingFromContext(got, tid)
			if !ok {
				t.Fatalf("Extract(%T) stored no Sentry state", in)
			}
			dscs[i] = incoming.DSC()

			var out propagation.TextMapCarrier = propagation.MapCarrier{}
			if i == 1 {
				out = propagation.HeaderCarrier(http.Header{})
			}
			p.Inject(got, out)
			outs[i].sentryTrace, outs[i].baggage = out.Get("sentry-trace"), out.Get("baggage")
			fuzzCheckInjected(t, outs[i].sentryTrace, outs[i].baggage, tid, sid, d)
		}
		if outs[0] != outs[1] {
			t.Fatalf("MapCarrier and HeaderCarrier disagree: %q, %q", outs[0], outs[1])
		}
		if !fuzzSameDSC(dscs[0], dscs[1]) {
			t.Fatalf("MapCarrier and HeaderCarrier DSCs disagree: %q, %q", dscs[0], dscs[1])
		}
	})
}

func fuzzSameDSC(a, b DSC) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func fuzzCheckInjected(t *testing.T, sentryTrace, bag string, tid trace.TraceID, sid trace.SpanID, d Decision) {
	t.Helper()
	gotTID, gotSID, gotD, ok := parseSentryTrace(sentryTrace)
	if !ok || gotTID != tid || gotSID != sid || gotD != d {
		t.Fatalf("injected sentry-trace %q, want %s-%s with %v", sentryTrace, tid, sid, d)
	}
	if strings.ContainsAny(bag, "\r\n\x00") {
		t.Fatalf("injected baggage %q contains CR, LF or NUL", bag)
	}
	if len(bag) > maxBaggageBytes {
		t.Fatalf("injected baggage has %d bytes", len(bag))
	}
	members := strings.Split(bag, ",")
	if len(members) > maxBaggageMembers {
		t.Fatalf("injected baggage has %d members", len(members))
	}
	seen := map[string]bool{}
	for _, m := range members {
		if !fuzzIsWritten(m) {
			t.Fatalf("injected member %q is not a Sentry member encoded per BG-12", m)
		}
		key, _, _ := strings.Cut(m, "=")
		if seen[key] {
			t.Fatalf("injected baggage %q repeats %s", bag, key)
		}
		seen[key] = true
	}
}

// FuzzTraceStateMember checks the sentry trace state member's parser and
// writer: a parsed member written again parses to the same fields.
func FuzzTraceStateMember(f *testing.F) {
	for _, s := range []string{"s:1;r:0.123456;t:0.25;h:1;n:GET%20/users/{id}", "s:d;r:0.5", "s:0", "s:2", "", ";;", "n:%ZZ;s:1", "s:1;x:y;r:1e-7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, ok := parseTraceStateValue(v)
		if !ok {
			return
		}
		back, ok := parseTraceStateValue(m.String())
		if !ok {
			t.Fatalf("%q parsed as %+v, written as %q, which does not parse", v, m, m.String())
		}
		if m.Transaction != "" && len(m.String()) <= maxTraceStateValue && back.Transaction == "" {
			return // a name too long for the member is left out
		}
		if back.Decision != m.Decision || back.SampleRand != m.SampleRand || back.Rate != m.Rate || back.Head != m.Head {
			t.Fatalf("%q: %+v, then %+v", v, m, back)
		}
		if back.Transaction != "" && back.Transaction != m.Transaction {
			t.Fatalf("%q: name %q, then %q", v, m.Transaction, back.Transaction)
		}
		if len(m.String()) > maxTraceStateValue && m.Transaction == "" {
			t.Fatalf("%q: member of %d bytes", v, len(m.String()))
		}
	})
}
