package runner

import (
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/conformance/hop"
)

// TestCheckDSC applies the DSC rules to one continued hop's sent DSC.
func TestCheckDSC(t *testing.T) {
	const trace = "d4cda95b652f4a1592b449d5929fda1b-6e0c63257de34c92"
	tests := []struct {
		name     string
		flag     string // of the incoming sentry-trace
		rate     *float64
		received string
		sent     map[string]string
		wantErr  string // "" for a pass
	}{
		{"kept, sample_rand added", "-1", nil, "sentry-release=a", map[string]string{"release": "a", "sample_rand": "0.1"}, ""},
		{"decoded values compare", "-1", nil, "sentry-release=a%40b,sentry-sample_rand=0.5", map[string]string{"release": "a@b", "sample_rand": "0.5"}, ""},
		{"changed", "-1", nil, "sentry-release=a,sentry-sample_rand=0.5", map[string]string{"release": "b", "sample_rand": "0.5"}, "changed release a to b"},
		{"dropped", "-1", nil, "sentry-release=a,sentry-sample_rand=0.5", map[string]string{"sample_rand": "0.5"}, "dropped release"},
		{"no sample_rand", "-1", nil, "sentry-release=a", map[string]string{"release": "a"}, "has no sample_rand"},
		{"deciding hop sets sample_rate", "", Rate(1), "sentry-release=a,sentry-sample_rand=0.5,sentry-sample_rate=0.1",
			map[string]string{"release": "a", "sample_rand": "0.5", "sample_rate": "1"}, ""},
		{"inherited decision keeps sample_rate", "-1", Rate(1), "sentry-sample_rand=0.5,sentry-sample_rate=0.1",
			map[string]string{"sample_rand": "0.5", "sample_rate": "1"}, "changed sample_rate 0.1 to 1"},
		{"frozen empty gets no sample_rate", "", Rate(1), "",
			map[string]string{"sample_rand": "0.5", "sample_rate": "1"}, "added sample_rate=1"},
		{"sample_rand rewritten", "-1", nil, "sentry-sample_rand=0.500000", map[string]string{"sample_rand": "0.5"}, "rewrote sample_rand 0.500000 as 0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &Result{
				Hops:    []Hop{{Name: "h", Impl: "x", Rate: tt.rate}},
				Reports: []*hop.Report{{}},
				in:      incoming{sentryTrace: trace + tt.flag, baggage: tt.received},
			}
			err := res.CheckDSC(0, "", tt.sent).Err
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

func TestDeviationNamesOnlyItsImplementation(t *testing.T) {
	err := (&Result{
		Hops:    []Hop{{Name: "h", Impl: "node"}},
		Reports: []*hop.Report{{}},
		in:      incoming{sentryTrace: "d4cda95b652f4a1592b449d5929fda1b-6e0c63257de34c92-1", baggage: "sentry-sample_rand=0.500000"},
	}).CheckDSC(0, "", map[string]string{"sample_rand": "0.5"})
	if err.Deviation() == "" {
		t.Errorf("%v is a recorded node deviation", err)
	}
	err.Impl = "otelsentry"
	if err.Deviation() != "" || len(Failures([]Check{err})) != 1 {
		t.Errorf("%v must fail for otelsentry", err)
	}
}
