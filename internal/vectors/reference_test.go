package vectors

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// reference is the protocol reference, from this package's directory.
const reference = "../../docs/protocol.md"

// citedID matches a rule id or a vector id. Vector ids come first, so that
// one is read whole rather than as the rule id inside it.
var citedID = regexp.MustCompile(`\bV-[A-Z0-9]+-[0-9]+[a-z]?\b|\b(?:ST|BG|IN|SM|OR|TG|API|OT|IO|W3C)-[0-9]+\b`)

// TestReferenceDefinesCitedIDs checks that every id the repository cites
// means something: a rule id is defined in the reference, and a vector id is
// a case of a data file or is written out in the reference. It also checks
// that every data file's table has a section there.
func TestReferenceDefinesCitedIDs(t *testing.T) {
	raw, err := os.ReadFile(reference)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	cases := map[string]bool{}
	for name, load := range loaders {
		for _, c := range load() {
			cases[c.ID] = true
		}
		f, err := decode[Case](name, false)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(doc, "\n### "+f.Table+": ") {
			t.Errorf("table %s (%s) has no section in %s", f.Table, name, reference)
		}
	}
	defined := func(id string) bool {
		if strings.Contains(doc, "**"+id+"**") || strings.Contains(doc, "| "+id+" |") {
			return true
		}
		if !strings.HasPrefix(id, "V-") {
			return false
		}
		// A data file row may be split into lettered cases.
		return cases[id] || cases[id+"a"]
	}

	cited := map[string]string{} // id: a file that cites it
	root := filepath.Dir(filepath.Dir(reference))
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".json", ".md", ".mjs":
		default:
			return nil
		}
		if filepath.Clean(path) == filepath.Clean(reference) {
			return nil
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, id := range citedID.FindAllString(string(text), -1) {
			cited[id] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cited) == 0 {
		t.Fatal("no cited ids found: the walk missed the repository")
	}
	for id, path := range cited {
		if !defined(id) {
			t.Errorf("%s cites %s, which %s does not define", path, id, reference)
		}
	}
}
