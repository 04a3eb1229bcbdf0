package protocol

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
)

func entriesOf(kv ...string) dscEntries {
	var e dscEntries
	for i := 0; i < len(kv); i += 2 {
		e = e.set(kv[i], kv[i+1], false)
	}
	return e
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

// entriesOfMap returns the entries of m in key order, so that a test
// does not depend on map iteration.
func entriesOfMap(m map[string]string) dscEntries {
	var e dscEntries
	for _, k := range slices.Sorted(maps.Keys(m)) {
		e = e.set(k, m[k], false)
	}
	return e
}

func TestWriteDSC(t *testing.T) { // V-BS
	for _, tt := range vectors.DSCWrite() {
		t.Run(tt.ID, func(t *testing.T) {
			entries := entriesOfMap(tt.DSC)
			if tt.Parse != "" {
				entries = dscEntries(nil).addFrozen(tt.Parse)
			}
			got := mergeBaggage(tt.Carrier, entries)
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
		e := entriesOf(known...)
		for i := 0; i <= 764; i++ {
			e = e.set(fmt.Sprintf("foo%d", i), strconv.Itoa(i), false)
		}
		got := mergeBaggage(nil, e)
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
		if got := mergeBaggage([]string{existing}, entriesOf(known...)); got != existing {
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
				r, rateOK := ParseRate(ScanDSC([]string{tt.Baggage}).SampleRate)
				v := string(backfillSampleRand(nil, tid, d, r, rateOK))
				x, valid := ParseSampleRand(v)
				if !valid || len(v) != sampleRandLen {
					t.Fatalf("backfill %q is not a 6-decimal sample_rand", v)
				}
				if lo, hi := tt.Interval[0], tt.Interval[1]; x < lo || x >= hi {
					t.Errorf("%v not in [%v,%v)", x, lo, hi)
				}
			case tt.Regenerated:
				if _, valid := ParseSampleRand(rawMember(tt.Baggage, "sentry-sample_rand")); valid {
					t.Error("incoming sample_rand accepted")
				}
				tid, _, d, ok := ParseSentryTrace(tt.SentryTrace)
				if !ok {
					t.Fatalf("sentry-trace %q does not parse", tt.SentryTrace)
				}
				in, _ := NewIncoming(tid, d, ScanDSC([]string{tt.Baggage}))
				if v := in.SampleRand(); len(v) != sampleRandLen {
					t.Errorf("sample_rand %q, want a regenerated 6-decimal value", v)
				}
			default: // kept verbatim; the sampling tests check the decision
				if _, valid := ParseSampleRand(tt.Want); !valid {
					t.Errorf("%q not valid", tt.Want)
				}
				if got := ScanDSC([]string{tt.Baggage}).SampleRand; got != tt.Want {
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

// rawMember returns the raw value of the last member key in baggage.
func rawMember(baggage, key string) string {
	var v string
	r := baggageReader{rest: baggage}
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

func TestTraceStateMember(t *testing.T) { // OT-4
	m := TraceStateMember{Decision: Sampled, SampleRand: "0.123456", Rate: "0.25", Head: true, Transaction: "GET /users/{id}"}
	if got, want := m.String(), "s:1;r:0.123456;t:0.25;h:1;n:GET%20/users/{id}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	ts, err := trace.ParseTraceState("a=1,b=2")
	if err != nil {
		t.Fatal(err)
	}
	ts, err = m.Insert(ts)
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
	long := m
	long.Transaction = strings.Repeat("x;", 200)
	if got := long.String(); strings.Contains(got, "n:") || len(got) > maxTraceStateValue {
		t.Errorf("overlong name kept: %q", got)
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
