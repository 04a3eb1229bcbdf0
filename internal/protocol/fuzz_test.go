package protocol

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
)

// fuzzSeedCarrierBaggages returns baggages already in an outgoing
// carrier: those of the vectors (V-IN-9, V-BS-10..12), and those of
// V-PR-12..14 and V-BS-9, which are tested in code.
func fuzzSeedCarrierBaggages() []vectors.FuzzBaggage {
	seeds := []vectors.FuzzBaggage{
		{},
		{Head: "foo=bar,other=yes"},
		{Head: "foo=bar,other=yes", Tail: "other2=no"},
		{Head: "foo=bar,other=yes,sentry-release=9.9.9,sentry-other=yes"},
		{Head: "b=x,a=", Pad: 8184}, // 8190 bytes
	}
	for _, c := range vectors.Incoming() {
		if c.CarrierBaggage != "" {
			seeds = append(seeds, vectors.SeedBaggage([]string{c.CarrierBaggage}))
		}
	}
	for _, c := range vectors.DSCWrite() {
		if len(c.Carrier) > 0 {
			seeds = append(seeds, vectors.SeedBaggage(c.Carrier))
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
			if v := c.DSC[k]; v != "" && len(v) < vectors.MinRun && !slices.Contains(names, v) {
				names = append(names, v)
			}
		}
	}
	return names
}

// fuzzValidSentryTrace is the ST-4 grammar, after ST-3 trimming.
var fuzzValidSentryTrace = regexp.MustCompile(`^[0-9a-f]{32}-[0-9a-f]{16}(-[01]?)?$`)

func fuzzCheckSentryTrace(t *testing.T, in string) {
	t.Helper()
	tid, sid, d, ok := ParseSentryTrace(in)
	trimmed := strings.Trim(in, " \t")
	zeroIDs := len(trimmed) >= 49 &&
		(trimmed[:32] == strings.Repeat("0", 32) || trimmed[33:49] == strings.Repeat("0", 16))
	if want := fuzzValidSentryTrace.MatchString(trimmed) && !zeroIDs; ok != want {
		t.Fatalf("ParseSentryTrace(%q) ok = %v, want %v", in, ok, want)
	}
	if !ok {
		return
	}
	if tid.String() != trimmed[:32] || sid.String() != trimmed[33:49] {
		t.Fatalf("ParseSentryTrace(%q) = %s, %s", in, tid, sid)
	}
	wantD := Deferred
	switch trimmed[49:] {
	case "-1":
		wantD = Sampled
	case "-0":
		wantD = NotSampled
	}
	if d != wantD {
		t.Fatalf("ParseSentryTrace(%q) decision = %v, want %v", in, d, wantD)
	}
	out := string(AppendSentryTrace(nil, tid, sid, d))
	if want := strings.TrimSuffix(trimmed, "-"); out != want {
		t.Fatalf("appendSentryTrace after parsing %q = %q, want %q", in, out, want)
	}
	tid2, sid2, d2, ok2 := ParseSentryTrace(out)
	if !ok2 || tid2 != tid || sid2 != sid || d2 != d {
		t.Fatalf("round trip of %q: %q parses to %s, %s, %v, %v", in, out, tid2, sid2, d2, ok2)
	}
}

func FuzzParseSentryTrace(f *testing.F) {
	for _, c := range vectors.SentryTrace() {
		first, second := vectors.SeedSentryTrace(c.Values)
		f.Add(first, second)
	}
	f.Fuzz(func(t *testing.T, first, second string) {
		fuzzCheckSentryTrace(t, first)
		values := []string{first}
		if second != "" {
			values = append(values, second)
		}
		candidate := FirstSentryTrace(values)
		if want := vectors.FirstPart(values); candidate != want {
			t.Fatalf("FirstSentryTrace(%q) = %q, want %q", values, candidate, want)
		}
		if candidate != "" {
			fuzzCheckSentryTrace(t, candidate)
		}
	})
}

// fuzzMember is a baggage member as an independent reading of BG-4, BG-6
// and BG-8 finds it.
type fuzzMember struct{ key, value string }

// fuzzIsValue is W3C baggage-octets with '%' only as the start of a
// two-digit hex escape.
func fuzzIsValue(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 >= len(s) || !vectors.IsHex(s[i+1], false) || !vectors.IsHex(s[i+2], false) {
				return false
			}
			i += 2
		case c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\':
			return false
		}
	}
	return true
}

func fuzzRefMembers(capped string) []fuzzMember {
	var ms []fuzzMember
	for _, elem := range fuzzElements(capped) {
		key, value, ok := strings.Cut(elem, "=")
		if !ok {
			continue
		}
		key = strings.TrimRight(key, " \t")
		value, _, _ = strings.Cut(value, ";")
		value = strings.Trim(value, " \t")
		if vectors.IsToken(key) && fuzzIsValue(value) {
			ms = append(ms, fuzzMember{key, value})
		}
	}
	return ms
}

// fuzzElements returns the first 64 non-empty elements of capped, trimmed
// of spaces and tabs: the ones a reader examines.
func fuzzElements(capped string) []string {
	var out []string
	for _, raw := range strings.Split(capped, ",") {
		if elem := strings.Trim(raw, " \t"); elem != "" && len(out) < maxBaggageMembers {
			out = append(out, elem)
		}
	}
	return out
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

// fuzzIsWritten reports whether a valid value is in the form Inject writes,
// by writing its decoded bytes that way: unreserved bytes as they are,
// uppercase escapes for the others.
func fuzzIsWritten(t *testing.T, v string) bool {
	t.Helper()
	var b strings.Builder
	for _, c := range []byte(fuzzDecode(t, v)) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String() == v
}

func FuzzBaggage(f *testing.F) {
	var none, in vectors.FuzzBaggage
	for _, c := range vectors.Baggage() {
		b := vectors.SeedBaggage(c.Values)
		f.Add(b.Head, b.Pad, b.Tail, none.Head, none.Pad, none.Tail, "")
		if c.ID == "V-BP-2" {
			in = b // Sentry and third-party members, to merge into carriers
		}
	}
	for _, c := range fuzzSeedCarrierBaggages() {
		f.Add("sentry-release=2.1.0,sentry-environment=myEnv", uint16(0), "", c.Head, c.Pad, c.Tail, "")
		f.Add(in.Head, in.Pad, in.Tail, c.Head, c.Pad, c.Tail, "GET /users")
	}
	for _, n := range fuzzSeedNames() {
		f.Add("sentry-transaction=x,sentry-release=my%20app%401.0%2Bbuild", uint16(0), "", "", uint16(0), "", n)
	}
	f.Fuzz(func(t *testing.T, in1 string, inPad uint16, in2, ex1 string, exPad uint16, ex2, name string) {
		incoming := vectors.Padded(in1, inPad, in2)
		full := strings.Join(incoming, ",")
		capped := joinValues(incoming)
		if other := joinValues([]string{full}); capped != other {
			t.Fatalf("joinValues(%q) = %q, joinValues of the full join = %q", incoming, capped, other)
		}
		fuzzCheckCap(t, full, capped)

		// baggageReader against the reference reading: its Sentry members
		// with a non-empty value, keyed without the prefix.
		var want []fuzzMember
		for _, m := range fuzzRefMembers(capped) {
			if k, ok := strings.CutPrefix(m.key, sentryPrefix); ok && k != "" && m.value != "" {
				want = append(want, fuzzMember{k, m.value})
			}
		}
		var got []fuzzMember
		r := baggageReader{s: capped}
		for {
			key, value, ok := r.next()
			if !ok {
				break
			}
			if !IsToken(key) || !strings.Contains(capped, sentryPrefix+key) {
				t.Fatalf("baggageReader key %q is not a token of the input", key)
			}
			if want := fuzzIsWritten(t, value); r.written != want {
				t.Fatalf("baggageReader says %q is written %v, want %v", value, r.written, want)
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
			usable = true
			last[m.key] = fuzzDecode(t, m.value)
		}
		ctx, member, orgID, contradicted := Continue(context.Background(), trace.TraceID{1}, Sampled, incoming)
		dsc := ContinuedFromContext(ctx, trace.TraceID{1})
		wantRand := last[keySampleRand]
		if _, ok := ParseSampleRand(wantRand); !ok {
			wantRand = ""
		}
		wantRate, wantRateOK := ParseRate(last[keySampleRate])
		gotRate, gotRateOK := dsc.UpstreamRate()
		// Without a valid sample_rand, the backfill follows the upstream
		// sample_rate (IN-7a, SM-11).
		if backfill := "s:1;r:" + string(backfillSampleRand(nil, trace.TraceID{1}, Sampled, wantRate, wantRateOK)); wantRand == "" && member != backfill {
			t.Fatalf("Continue(%q): member %q, want the backfill %q", capped, member, backfill)
		}
		if wantRand != "" && dsc.SampleRand() != wantRand || member != "s:1;r:"+dsc.SampleRand() ||
			gotRateOK != wantRateOK || gotRate != wantRate ||
			orgID != strings.Trim(last[keyOrgID], " \t") || contradicted != (last[keySampled] == "false") {
			t.Fatalf("Continue(%q): sample_rand %q, member %q, rate %v (%v), org id %q, contradicted %v; reference DSC %q",
				capped, dsc.SampleRand(), member, gotRate, gotRateOK, orgID, contradicted, last)
		}

		// The DSC Extract keeps holds the Sentry members alone, each
		// "sentry-key=value" with its value as it came, and they read back
		// as the same DSC.
		var kept []string
		for _, m := range want {
			kept = append(kept, sentryPrefix+m.key+"="+m.value)
		}
		if kept := strings.Join(kept, ","); dsc.frozen != kept || (dsc.count > 0) != usable {
			t.Fatalf("kept elements %q, want %q", dsc.frozen, kept)
		}
		fuzzCheckKept(t, dsc.frozen)
		if kept := DecodeDSC(dsc.frozen); !maps.Equal(kept, last) {
			t.Fatalf("kept members %q decode to %q, want %q", dsc.frozen, kept, last)
		}
		// Forwarded as they came, they are what decoding and writing them
		// again gives.
		rebuilt := dsc.members(nil, "")
		rebuilt.sort()
		if got, want := encodedMembers(dsc, ""), rebuilt.write(); got != want {
			t.Fatalf("frozen DSC of %q written as %q, written again %q", capped, got, want)
		}

		// mergeBaggage: the frozen DSC as Inject writes it, plus raw values.
		var backing [maxBaggageMembers]dscMember
		ms := dscMembers(backing[:0]).addIncoming(capped)
		sampleRand := dsc.SampleRand()
		ms = ms.set(keySampleRand, sampleRand, false)
		last[keySampleRand] = sampleRand
		if name != "" {
			ms = ms.set(keyTransaction, name, false)
			last[keyTransaction] = name
		}
		existing := vectors.Padded(ex1, exPad, ex2)
		merged := writeMembers(existing, slices.Clone(ms))
		if again := writeMembers(existing, slices.Clone(ms)); again != merged {
			t.Fatalf("mergeBaggage is not deterministic: %q, then %q", merged, again)
		}
		fuzzCheckMerged(t, existing, merged, last)
	})
}

// fuzzCheckKept checks that the members Extract keeps are Sentry members
// alone.
func fuzzCheckKept(t *testing.T, kept string) {
	t.Helper()
	if kept == "" {
		return
	}
	for _, elem := range strings.Split(kept, ",") {
		if !strings.HasPrefix(elem, sentryPrefix) {
			t.Fatalf("kept members %q hold %q", kept, elem)
		}
	}
}

// fuzzCheckCap checks BG-8's byte bound: a prefix, cut after a comma, and
// nothing cut when the value fits.
func fuzzCheckCap(t *testing.T, full, capped string) {
	t.Helper()
	switch {
	case len(full) <= maxBaggageBytes:
		if capped != full {
			t.Fatalf("joinValues cut a value of %d bytes to %d", len(full), len(capped))
		}
	case len(capped) > maxBaggageBytes || !strings.HasPrefix(full, capped):
		t.Fatalf("joinValues returned %d bytes that are not a prefix within the limit", len(capped))
	case len(capped) == maxBaggageBytes && full[maxBaggageBytes] == ',':
		// The boundary falls on a comma: nothing is cut.
	default:
		if capped != "" && !strings.HasSuffix(capped, ",") ||
			strings.Contains(full[len(capped):maxBaggageBytes], ",") {
			t.Fatalf("joinValues dropped more than the member cut by the boundary (kept %d bytes)", len(capped))
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
		if !vectors.IsWritten(m) {
			t.Fatalf("written Sentry member %q is not encoded per BG-12", m)
		}
		r := baggageReader{s: m}
		k, value, ok := r.next()
		if !ok || !r.exact || !strings.HasPrefix(m, sentryPrefix) {
			t.Fatalf("written Sentry member %q does not parse", m)
		}
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

// FuzzTraceStateMember checks the sentry trace state member's parser and
// writer: a parsed member written again parses to the same fields.
func FuzzTraceStateMember(f *testing.F) {
	for _, s := range []string{"s:1;r:0.123456;t:0.25;h:1;n:GET%20/users/{id}", "s:d;r:0.5", "s:0", "s:2", "", ";;", "n:%ZZ;s:1", "s:1;x:y;r:1e-7"} {
		f.Add(s)
	}
	for _, s := range []string{"h:1;h", "sx:1;s:0", "s", ":1;s:1", "s:1;;r:0.5;", "t:;s:d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, ok := parseTraceStateValue(v)
		if ref, refOK := referenceTraceStateValue(v); m != ref || ok != refOK {
			t.Fatalf("%q: %+v %v, reference %+v %v", v, m, ok, ref, refOK)
		}
		if !ok {
			return
		}
		written, cut := memberValue(m)
		back, ok := parseTraceStateValue(written)
		if !ok {
			t.Fatalf("%q parsed as %+v, written as %q, which does not parse", v, m, written)
		}
		if back.Decision != m.Decision || back.SampleRand != m.SampleRand || back.Rate != m.Rate || back.Head != m.Head {
			t.Fatalf("%q: %+v, then %+v", v, m, back)
		}
		// A name too long for the member is cut, never dropped or changed.
		if cut != (back.Transaction != m.Transaction) || !strings.HasPrefix(m.Transaction, back.Transaction) ||
			m.Transaction != "" && back.Transaction == "" && len(written)+len(";n:")+3 < maxTraceStateValue {
			t.Fatalf("%q: name %q, then %q (cut %v)", v, m.Transaction, back.Transaction, cut)
		}
		if len(written) > maxTraceStateValue {
			t.Fatalf("%q: member of %d bytes", v, len(written))
		}
	})
}

// referenceTraceStateValue reads a sentry trace state member the plain way:
// split into fields at ';', each into key and value at the first ':'.
func referenceTraceStateValue(v string) (m TraceStateMember, ok bool) {
	decisions := map[string]Decision{"1": Sampled, "0": NotSampled, "d": Deferred}
	for _, field := range strings.Split(v, ";") {
		key, val, _ := strings.Cut(field, ":")
		switch key {
		case "s":
			if d, valid := decisions[val]; valid {
				m.Decision, ok = d, true
			}
		case "r":
			if validSampleRand(val) {
				m.SampleRand = val
			}
		case "t":
			if _, valid := ParseRate(val); valid {
				m.Rate = val
			}
		case "h":
			m.Head = val == "1"
		case "n":
			if name, valid := percentDecode(val); valid {
				m.Transaction = name
			}
		}
	}
	return m, ok
}
