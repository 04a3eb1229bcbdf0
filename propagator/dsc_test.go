package propagator

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
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

func TestWriteDSC(t *testing.T) { // V-BS 1-7
	tests := []struct {
		id      string
		entries dscEntries
		want    []string
	}{
		{"V-BS-1", entriesOf("transaction", "GET /a b,c;d=e%", "release", "my app@1.0+build"),
			[]string{"sentry-transaction=GET%20%2Fa%20b%2Cc%3Bd%3De%25", "sentry-release=my%20app%401.0%2Bbuild"}},
		{"V-BS-2", entriesOf("release", "abcdf", "environment", "1234", "someRandomKey", "foo"),
			[]string{"sentry-release=abcdf", "sentry-environment=1234", "sentry-someRandomKey=foo"}},
		{"V-BS-3", nil, nil},
		{"V-BS-4", entriesOf("user_id", "Amélie"), []string{"sentry-user_id=Am%C3%A9lie"}},
		{"V-BS-5", entriesOf("transaction", "a=b"), []string{"sentry-transaction=a%3Db"}},
		{"V-BS-7", entriesOf("v", "\t \"';=asdf!@#$%^&*()"), []string{"sentry-v=%09%20%22%27%3B%3Dasdf%21%40%23%24%25%5E%26%2A%28%29"}},
	}
	parsed := dscEntries(nil).addFrozen("sentry-userId =  alice   ,  sentry-serverNode = DF%2028,sentry-isProduction=false")
	tests = append(tests, struct {
		id      string
		entries dscEntries
		want    []string
	}{"V-BS-6", parsed, []string{"sentry-isProduction=false", "sentry-serverNode=DF%2028", "sentry-userId=alice"}})

	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got := mergeBaggage(nil, tt.entries)
			if len(tt.want) == 0 {
				if got != "" {
					t.Errorf("got %q, want no header", got)
				}
				return
			}
			set := memberSet(got)
			if len(set) != len(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for _, w := range tt.want {
				if !set[w] {
					t.Errorf("got %q, missing %q", got, w)
				}
			}
		})
	}
}

func TestWriteLimits(t *testing.T) { // V-BS 8-12, BG-14..17
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
	t.Run("V-BS-10", func(t *testing.T) {
		existing := "big=" + strings.Repeat("x", 8996)
		if got := mergeBaggage([]string{existing}, entriesOf(known...)); got != existing {
			t.Errorf("carrier changed: %d bytes", len(got))
		}
	})
	t.Run("V-BS-11", func(t *testing.T) {
		var third []string
		for i := range 60 {
			third = append(third, fmt.Sprintf("m%d=%d", i, i))
		}
		e := entriesOf("trace_id", strings.Repeat("a", 32), "public_key", "k", "release", "r",
			"environment", "e", "sample_rand", "0.1", "sampled", "true")
		got := splitMembers(mergeBaggage([]string{strings.Join(third, ",")}, e))
		want := append(third, "sentry-trace_id="+strings.Repeat("a", 32), "sentry-public_key=k", "sentry-sample_rand=0.1", "sentry-sampled=true")
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("got %q", got)
		}
	})
	t.Run("V-BS-12", func(t *testing.T) {
		existing := "x=" + strings.Repeat("y", 500)
		e := entriesOf("trace_id", strings.Repeat("a", 32), "transaction", strings.Repeat("a", 8000), "org_id", "1")
		got := splitMembers(mergeBaggage([]string{existing}, e))
		want := []string{existing, "sentry-trace_id=" + strings.Repeat("a", 32), "sentry-org_id=1"}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("got %q", got)
		}
	})
}

func TestSampleRand(t *testing.T) { // V-SR (the rows that need no sampler), SM-10..13
	tid := trace.TraceID{0xd4, 0xcd, 0xa9, 0x5b, 0x65, 0x2f, 0x4a, 0x15, 0x92, 0xb4, 0x49, 0xd5, 0x92, 0x9f, 0xda, 0x1b}
	backfill := func(d Decision, rate string) float64 {
		r, ok := ParseRate(rate)
		v := string(backfillSampleRand(nil, tid, d, r, ok))
		x, valid := ParseSampleRand(v)
		if !valid || len(v) != sampleRandLen {
			t.Fatalf("backfill %q is not a 6-decimal sample_rand", v)
		}
		return x
	}
	within := func(id string, x, lo, hi float64) {
		t.Helper()
		if x < lo || x >= hi {
			t.Errorf("%s: %v not in [%v,%v)", id, x, lo, hi)
		}
	}
	within("V-SR-1", backfill(Sampled, "0.25"), 0, 0.25)
	within("V-SR-2", backfill(NotSampled, "0.25"), 0.25, 1)
	within("V-SR-3", backfill(Deferred, "0.25"), 0, 1)
	within("V-SR-4", backfill(Sampled, ""), 0, 1)
	for _, r := range []float64{0.01, 0.1, 0.5} {
		within("V-SR-5..7 -0", backfill(NotSampled, FormatRate(r)), r, 1)
		within("V-SR-5..7 -1", backfill(Sampled, FormatRate(r)), 0, r)
	}
	within("V-SR-8", backfill(Sampled, "1.0"), 0, 1)
	within("V-SR-9", backfill(NotSampled, "0.0"), 0, 1)
	within("V-SR-10", backfill(Sampled, "0"), 0, 1)
	within("V-SR-20", backfill(NotSampled, "0.9999995"), 0, 1)

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

	// V-SR-14, 15, 19: six truncated decimals, never 1.000000.
	for n, want := range map[uint64]string{500000: "0.500000", 999999: "0.999999", 123456: "0.123456", 0: "0.000000"} {
		if got := string(appendSampleRand(nil, n)); got != want {
			t.Errorf("step %d: %q, want %q", n, got, want)
		}
	}

	// SM-10 and V-SR-11, 16-18.
	for in, want := range map[string]bool{
		"0": true, "0.5": true, "1e-7": true, "0.42": true, "0.100000": true, "0.999999": true, "5E-1": true,
		"1": false, "1.0": false, "-0.1": false, "0.5abc": false, "NaN": false, "": false, "00.5": false,
		".5": false, "0.": false, "1e400": false, "0.1 ": false, "+0.1": false, strings.Repeat("0", 33): false,
		"0." + strings.Repeat("1", 30): true, "0." + strings.Repeat("1", 31): false,
	} {
		if _, got := ParseSampleRand(in); got != want {
			t.Errorf("ParseSampleRand(%q) valid = %v, want %v", in, got, want)
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
