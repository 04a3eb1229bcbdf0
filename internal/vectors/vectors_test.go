package vectors

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
)

// loaders maps every data file to its typed loader, which returns the
// cases' ids and descriptions.
var loaders = map[string]func() []Case{
	"sentrytrace.json": func() []Case { return metas(SentryTrace()) },
	"baggage.json":     func() []Case { return metas(Baggage()) },
	"dscwrite.json":    func() []Case { return metas(DSCWrite()) },
	"incoming.json":    func() []Case { return metas(Incoming()) },
	"samplerand.json":  func() []Case { return metas(SampleRand()) },
	"sampling.json":    func() []Case { return metas(Sampling()) },
	"strict.json":      func() []Case { return metas(Strict()) },
	"targets.json":     func() []Case { return metas(Targets()) },
	"metatags.json":    func() []Case { return metas(MetaTags()) },
	"interop.json":     func() []Case { return metas(Interop()) },
	"hostile.json":     func() []Case { return metas(Hostile()) },
	"w3c.json":         func() []Case { return metas(W3C()) },
}

func metas[C interface{ meta() Case }](cases []C) []Case {
	out := make([]Case, len(cases))
	for i, c := range cases {
		out[i] = c.meta()
	}
	return out
}

func TestTables(t *testing.T) {
	names, err := fs.Glob(files, "data/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(loaders) {
		t.Errorf("%d data files, %d loaders", len(names), len(loaders))
	}
	seen := map[string]string{}
	for _, path := range names {
		name := strings.TrimPrefix(path, "data/")
		t.Run(name, func(t *testing.T) {
			load, ok := loaders[name]
			if !ok {
				t.Fatal("no loader")
			}
			f, err := decode[Case](name, false)
			if err != nil {
				t.Fatal(err)
			}
			// The spec's tables are V-*; H is the hostile input corpus.
			if !strings.HasPrefix(f.Table, "V-") && f.Table != "H" || f.Description == "" {
				t.Errorf("table %q, description %q", f.Table, f.Description)
			}
			if prev, ok := seen[f.Table]; ok {
				t.Errorf("table %s is also in %s", f.Table, prev)
			}
			seen[f.Table] = name
			cases := load() // panics on a field the case type lacks
			if len(cases) == 0 || len(cases) != len(f.Cases) {
				t.Fatalf("%d cases, %d in the file", len(cases), len(f.Cases))
			}
			ids := map[string]bool{}
			for _, c := range cases {
				if !strings.HasPrefix(c.ID, f.Table+"-") || len(c.ID) == len(f.Table)+1 {
					t.Errorf("id %q is not an id of %s", c.ID, f.Table)
				}
				if ids[c.ID] {
					t.Errorf("id %q repeated", c.ID)
				}
				ids[c.ID] = true
				if strings.TrimSpace(c.Description) == "" || strings.Contains(c.Description, "\n") {
					t.Errorf("%s: description %q is not one line", c.ID, c.Description)
				}
			}
		})
	}
}

func TestExpand(t *testing.T) {
	got, err := expand([]byte(`"{T}-{S}-1 {A} {K} {0*3}{ab*2} {C} {x} {*2} {T*}"`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `"` + T + "-" + S + "-1 " + A + " " + K + ` 000abab {C} {x} {*2} {T*}"`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := expand([]byte(`"{a*99999999}"`)); err == nil {
		t.Error("an oversized repeat was expanded")
	}
}

func TestRawBytes(t *testing.T) {
	if got, want := rawBytes("a{0xff}{0x00}{0xZZ}{0xf}"), "a\xff\x00{0xZZ}{0xf}"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTarget(t *testing.T) {
	var ts []Target
	if err := json.Unmarshal([]byte(`[{"substring": ""}, {"regexp": "^/"}]`), &ts); err != nil {
		t.Fatal(err)
	}
	if want := []Target{{Value: ""}, {Value: "^/", Regexp: true}}; len(ts) != 2 || ts[0] != want[0] || ts[1] != want[1] {
		t.Errorf("got %+v, want %+v", ts, want)
	}
	for _, bad := range []string{`{}`, `{"substring": "a", "regexp": "b"}`, `{"regexp": "("}`, `{"pattern": "a"}`} {
		var tg Target
		if err := json.Unmarshal([]byte(bad), &tg); err == nil {
			t.Errorf("%s accepted as %+v", bad, tg)
		}
	}
}
