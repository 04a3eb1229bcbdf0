package protocol

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
)

func membersOf(kv ...string) dscMembers {
	var ms dscMembers
	for i := 0; i < len(kv); i += 2 {
		ms = ms.set(kv[i], kv[i+1], false)
	}
	return ms
}

// writeMembers merges ms into the carrier's baggage values as Inject does.
func writeMembers(carrier []string, ms dscMembers) string {
	ms.sort()
	return mergeBaggage(carrier, ms.write(), len(ms))
}

// continued returns the DSC that Extract keeps for an incoming trace
// traceID with decision d and the baggage values, and the trace state
// member it writes.
func continued(t testing.TB, traceID trace.TraceID, d Decision, values ...string) (*DSC, string) {
	t.Helper()
	ctx, member, _, _ := Continue(context.Background(), traceID, d, values)
	dsc := ContinuedFromContext(ctx, traceID)
	if dsc == nil {
		t.Fatal("Continue stored no DSC")
	}
	return dsc, member
}

func splitMembers(b string) []string {
	if b == "" {
		return nil
	}
	return strings.Split(b, ",")
}

func memberSet(b string) map[string]bool {
	set := map[string]bool{}
	for _, m := range splitMembers(b) {
		set[m] = true
	}
	return set
}

// membersOfMap returns the members of m in key order, so that a test
// does not depend on map iteration.
func membersOfMap(m map[string]string) dscMembers {
	var ms dscMembers
	for _, k := range slices.Sorted(maps.Keys(m)) {
		ms = ms.set(k, m[k], false)
	}
	return ms
}

func TestWriteDSC(t *testing.T) { // V-BS
	for _, tt := range vectors.DSCWrite() {
		t.Run(tt.ID, func(t *testing.T) {
			ms := membersOfMap(tt.DSC)
			if tt.Parse != "" {
				ms = dscMembers(nil).addIncoming(tt.Parse)
			}
			got := writeMembers(tt.Carrier, ms)
			if tt.Ordered {
				if got != strings.Join(tt.Want, ",") {
					t.Errorf("got %q (%d bytes), want %q", got, len(got), tt.Want)
				}
				return
			}
			if len(tt.Want) == 0 {
				if got != "" {
					t.Errorf("got %q, want no header", got)
				}
				return
			}
			set := memberSet(got)
			if len(set) != len(tt.Want) {
				t.Errorf("got %q, want %q", got, tt.Want)
			}
			for _, w := range tt.Want {
				if !set[w] {
					t.Errorf("got %q, missing %q", got, w)
				}
			}
		})
	}
}

func TestWriteLimits(t *testing.T) { // V-BS-8, V-BS-9 (generated fixtures), BG-14..17
	known := []string{"trace_id", strings.Repeat("a", 32), "public_key", "k", "sample_rate", "0.5",
		"sample_rand", "0.1", "sampled", "true", "release", "r", "environment", "e", "transaction", "t", "org_id", "1"}
	t.Run("V-BS-8", func(t *testing.T) {
		dsc := membersOf(known...)
		for i := 0; i <= 764; i++ {
			dsc = dsc.set(fmt.Sprintf("foo%d", i), strconv.Itoa(i), false)
		}
		got := writeMembers(nil, dsc)
		ms := splitMembers(got)
		if len(ms) > maxBaggageMembers || len(got) > maxBaggageBytes {
			t.Fatalf("%d members, %d bytes", len(ms), len(got))
		}
		set := memberSet(got)
		for i := 0; i < len(known); i += 2 {
			if !set["sentry-"+known[i]+"="+known[i+1]] {
				t.Errorf("known key %s dropped", known[i])
			}
		}
		for _, m := range ms {
			k, v, _ := strings.Cut(m, "=")
			if n, ok := strings.CutPrefix(k, "sentry-foo"); ok && n != v {
				t.Errorf("member %q truncated", m)
			}
		}
	})
	t.Run("V-BS-9", func(t *testing.T) {
		var third []string
		for size := 0; size < 8190; {
			m := fmt.Sprintf("k%d=%s", len(third), strings.Repeat("v", 90))
			if size > 0 {
				size++
			}
			if size+len(m) > 8190 {
				m = m[:8190-size]
			}
			size += len(m)
			third = append(third, m)
		}
		existing := strings.Join(third, ",")
		if len(existing) != 8190 {
			t.Fatalf("fixture is %d bytes", len(existing))
		}
		if got := writeMembers([]string{existing}, membersOf(known...)); got != existing {
			t.Errorf("carrier changed: %d bytes", len(got))
		}
	})
}

func TestSampleRand(t *testing.T) { // V-SR, SM-10..13
	for _, tt := range vectors.SampleRand() {
		t.Run(tt.ID, func(t *testing.T) {
			switch {
			case tt.Step != nil:
				if got := string(appendSampleRand(nil, *tt.Step)); got != tt.Want {
					t.Errorf("step %d: %q, want %q", *tt.Step, got, tt.Want)
				}
			case tt.Interval != nil:
				tid, _, d, ok := ParseSentryTrace(tt.SentryTrace)
				if !ok {
					t.Fatalf("sentry-trace %q does not parse", tt.SentryTrace)
				}
				dsc, _ := continued(t, tid, d, tt.Baggage)
				r, rateOK := dsc.UpstreamRate()
				v := string(backfillSampleRand(nil, tid, d, r, rateOK))
				x, valid := ParseSampleRand(v)
				if !valid || len(v) != sampleRandLen {
					t.Fatalf("backfill %q is not a 6-decimal sample_rand", v)
				}
				if lo, hi := tt.Interval[0], tt.Interval[1]; x < lo || x >= hi {
					t.Errorf("%v not in [%v,%v)", x, lo, hi)
				}
			case tt.Regenerated:
				if _, valid := ParseSampleRand(rawMember(tt.Baggage, "sample_rand")); valid {
					t.Error("incoming sample_rand accepted")
				}
				tid, _, d, ok := ParseSentryTrace(tt.SentryTrace)
				if !ok {
					t.Fatalf("sentry-trace %q does not parse", tt.SentryTrace)
				}
				dsc, _ := continued(t, tid, d, tt.Baggage)
				if v := dsc.SampleRand(); len(v) != sampleRandLen {
					t.Errorf("sample_rand %q, want a regenerated 6-decimal value", v)
				}
			default: // kept verbatim; the sampling tests check the decision
				if _, valid := ParseSampleRand(tt.Want); !valid {
					t.Errorf("%q not valid", tt.Want)
				}
				dsc, _ := continued(t, trace.TraceID{1}, Sampled, tt.Baggage)
				if got := dsc.SampleRand(); got != tt.Want {
					t.Errorf("sample_rand %q, want %q verbatim", got, tt.Want)
				}
			}
		})
	}

	tid := trace.TraceID{0xd4, 0xcd, 0xa9, 0x5b, 0x65, 0x2f, 0x4a, 0x15, 0x92, 0xb4, 0x49, 0xd5, 0x92, 0x9f, 0xda, 0x1b}
	// SM-11: for every trace the boundary rates hold after formatting.
	for i := range 2000 {
		id := tid
		id[0], id[1] = byte(i), byte(i>>8)
		for _, rate := range []float64{0.000001, 0.25, 0.5, 0.999999, 1e-7} {
			v, _ := ParseSampleRand(string(backfillSampleRand(nil, id, Sampled, rate, true)))
			if v >= rate {
				t.Fatalf("sampled backfill %v >= rate %v", v, rate)
			}
			v, _ = ParseSampleRand(string(backfillSampleRand(nil, id, NotSampled, rate, true)))
			if v < rate {
				t.Fatalf("negative backfill %v < rate %v", v, rate)
			}
		}
	}
	if a, b := string(backfillSampleRand(nil, tid, Sampled, 0.5, true)), string(backfillSampleRand(nil, tid, Sampled, 0.5, true)); a != b {
		t.Errorf("backfill not deterministic: %s, %s", a, b)
	}

	// SM-10 beyond the vectors.
	for in, want := range map[string]bool{
		"0": true, "0.5": true, "0.999999": true, "5E-1": true,
		"1.0": false, "": false, "00.5": false,
		".5": false, "0.": false, "1e400": false, "0.1 ": false, "+0.1": false, strings.Repeat("0", 33): false,
		"0." + strings.Repeat("1", 30): true, "0." + strings.Repeat("1", 31): false,
	} {
		if _, got := ParseSampleRand(in); got != want {
			t.Errorf("ParseSampleRand(%q) valid = %v, want %v", in, got, want)
		}
	}
}

// rawMember returns the raw value of the last Sentry member of baggage
// whose DSC key is key.
func rawMember(baggage, key string) string {
	var v string
	r := baggageReader{s: baggage}
	for {
		k, value, ok := r.next()
		if !ok {
			return v
		}
		if k == key {
			v = value
		}
	}
}

func TestHeadSampleRandSpreads(t *testing.T) { // SM-9: trace ids that differ in one byte spread over [0,1)
	var buckets [10]int
	for i := range 10000 {
		var id trace.TraceID
		id[15], id[14] = byte(i), byte(i>>8)
		x, ok := ParseSampleRand(HeadSampleRand(id, trace.TraceState{}))
		if !ok {
			t.Fatal("invalid derived sample_rand")
		}
		buckets[int(x*10)]++
	}
	for i, n := range buckets {
		if n < 800 || n > 1200 {
			t.Errorf("bucket %d holds %d of 10000", i, n)
		}
	}
}

// memberValue returns m's wire form and whether its name was cut.
func memberValue(m TraceStateMember) (string, bool) {
	v, cut := m.appendTo(nil)
	return string(v), cut
}

func TestTraceStateMember(t *testing.T) { // OT-4
	m := TraceStateMember{Decision: Sampled, SampleRand: "0.123456", Rate: "0.25", Head: true, Transaction: "GET /users/{id}"}
	if got, cut := memberValue(m); got != "s:1;r:0.123456;t:0.25;h:1;n:GET%20/users/{id}" || cut {
		t.Errorf("value %q (name cut: %v)", got, cut)
	}
	ts, err := trace.ParseTraceState("a=1,b=2")
	if err != nil {
		t.Fatal(err)
	}
	ts, _, err = m.Insert(ts)
	if err != nil {
		t.Fatal(err)
	}
	if ts.Get("a") != "1" || ts.Get("b") != "2" {
		t.Errorf("other members lost: %q", ts.String())
	}
	back, ok := ParseTraceState(ts)
	if !ok || back != m {
		t.Errorf("round trip %+v, want %+v", back, m)
	}
	for _, v := range []string{"", "r:0.1", "s:2;r:0.1", "s:;r:0.1"} {
		if _, ok := parseTraceStateValue(v); ok {
			t.Errorf("%q accepted as a member", v)
		}
	}
	if got, ok := parseTraceStateValue("s:d;r:1.5;t:2;x:y;h:0"); !ok || got.SampleRand != "" || got.Rate != "" || got.Head {
		t.Errorf("invalid fields kept: %+v", got)
	}
}

// A name too long for the member is cut to what fits, at a character,
// never dropped and never cut inside an escape.
func TestTraceStateMemberCutsName(t *testing.T) {
	for _, name := range []string{
		strings.Repeat("x;", 200),
		strings.Repeat("é", 150),
		strings.Repeat("a", 230) + "€€€",
		"GET /" + strings.Repeat("ab", 120),
	} {
		m := TraceStateMember{Decision: Sampled, SampleRand: "0.123456", Rate: "0.25", Head: true, Transaction: name}
		got, cut := memberValue(m)
		if !cut || len(got) > maxTraceStateValue || !strings.Contains(got, ";n:") {
			t.Errorf("%.20q...: value %q (%d bytes), cut %v", name, got, len(got), cut)
			continue
		}
		ts, _, err := m.Insert(trace.TraceState{})
		if err != nil {
			t.Fatalf("%.20q...: %v", name, err)
		}
		back, ok := ParseTraceState(ts)
		if !ok || back.Transaction == "" || !strings.HasPrefix(name, back.Transaction) || !utf8.ValidString(back.Transaction) {
			t.Errorf("%.20q...: read back %q", name, back.Transaction)
		}
		// Nothing more of the name would have fitted.
		next, _ := utf8.DecodeRuneInString(name[len(back.Transaction):])
		if _, cut := memberValue(TraceStateMember{Decision: Sampled, SampleRand: "0.123456", Rate: "0.25", Head: true,
			Transaction: back.Transaction + string(next)}); !cut {
			t.Errorf("%.20q...: cut at %d bytes, one more character fits", name, len(back.Transaction))
		}
	}
}

func TestCutTransaction(t *testing.T) {
	for _, tt := range []struct {
		name string
		want string
		cut  bool
	}{
		{"", "", false},
		{"GET /users/{id}", "GET /users/{id}", false},
		{strings.Repeat("a", 200), strings.Repeat("a", 200), false},
		{strings.Repeat("a", 201), strings.Repeat("a", 200), true},
		{strings.Repeat("日", 250), strings.Repeat("日", 200), true},
	} {
		if got, cut := CutTransaction(tt.name); got != tt.want || cut != tt.cut {
			t.Errorf("CutTransaction(%.10q... %d bytes) = %d bytes, %v; want %d bytes, %v", tt.name, len(tt.name), len(got), cut, len(tt.want), tt.cut)
		}
	}
}
