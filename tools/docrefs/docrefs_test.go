package docrefs

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/otelsentry/otelsentry/tools/internal/files"
)

// Every name the repository's Markdown files and package comments mention
// exists.
func TestRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("reads every module and the packages they import")
	}
	problems, err := Check(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

func TestCheck(t *testing.T) {
	root := t.TempDir()
	err := files.Write(root, map[string]string{
		"go.mod": "module example.com/r\n\ngo 1.26.0\n",
		"README.md": "Call `bridge.Setup` and `bridge.Missing`, then `bridge.Bridge.Propagator`, `bridge.Bridge.Gone`,\n" +
			"`bridge.Config.Rate`, `bridge.Default.Anything`, `http.NewRequest`, `http.NoSuchThing`, and r.Header.Get;\n" +
			"`go.opentelemetry.io/otel/trace.Nothing` is not checked; `nested.Thing`, of another module, exists.\n",
		"bridge/doc.go": "// Package bridge does things: see Bridge.Propagator, Bridge.Missing and\n// propagator.Gone.\npackage bridge\n",
		"bridge/bridge.go": "package bridge\n\nimport \"net/http\"\n\n" +
			"// Bridge is a bridge.\ntype Bridge struct{}\n\n// Propagator is one.\nfunc (*Bridge) Propagator() {}\n\n" +
			"// Config configures.\ntype Config struct{ Rate float64 }\n\n// Default is one.\nvar Default = &Config{}\n\n" +
			"// Setup sets up.\nfunc Setup() *http.Client { return nil }\n",
		"bridge/bridge_test.go":    "package bridge\n\nfunc TestOnly() {}\n",
		"propagator/propagator.go": "// Package propagator propagates.\npackage propagator\n\n// New makes one.\nfunc New() {}\n",
		"nested/go.mod":            "module example.com/r/nested\n\ngo 1.26.0\n",
		"nested/nested.go":         "// Package nested is another module.\npackage nested\n\n// Thing is one.\nconst Thing = 1\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	problems, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.Where+" "+p.Ref)
	}
	want := []string{
		"README.md:1 bridge.Missing",
		"README.md:1 bridge.Bridge.Gone",
		"README.md:2 http.NoSuchThing",
		"example.com/r/bridge (package comment) Bridge.Missing",
		"example.com/r/bridge (package comment) propagator.Gone",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems =\n%q\nwant\n%q", got, want)
	}
}
