package versions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/tools/internal/files"
)

// The repository's own versions file lists every module, and every module
// requires the listed versions of the others: released versions, which a
// module fetched as a dependency can resolve.
func TestRepository(t *testing.T) {
	s, err := Load(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if len(s.Modules) < 2 || s.Modules[0].Dir != "." {
		t.Fatalf("modules = %+v, want the root module first and the nested ones after it", s.Modules)
	}
}

// writeFiles creates the files of a small repository under a temporary
// directory and returns it.
func writeFiles(t *testing.T, tree map[string]string) string {
	t.Helper()
	root := t.TempDir()
	if err := files.Write(root, tree); err != nil {
		t.Fatal(err)
	}
	return root
}

func readFile(t *testing.T, root, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

const sampleVersions = `# The modules and their versions.
modules:
  example.com/r: v0.1.0
  example.com/r/a: v0.1.0
  example.com/r/b: v0.1.0
# Never released.
excluded:
  - example.com/r/tools
`

func sampleRepo(t *testing.T) string {
	return writeFiles(t, map[string]string{
		FileName:          sampleVersions,
		"go.mod":          "module example.com/r\n\ngo 1.26.0\n",
		"a/go.mod":        "module example.com/r/a\n\ngo 1.26.0\n\nrequire example.com/r v0.1.0\n\nreplace example.com/r => ../\n",
		"b/go.mod":        "module example.com/r/b\n\ngo 1.26.0\n\nrequire (\n\texample.com/r v0.1.0\n\texample.com/r/a v0.1.0\n\tgolang.org/x/mod v0.43.0\n)\n\nreplace (\n\texample.com/r => ../\n\texample.com/r/a => ../a\n)\n",
		"tools/go.mod":    "module example.com/r/tools\n\ngo 1.26.0\n",
		"testdata/go.mod": "module example.com/ignored\n",
	})
}

func TestLoad(t *testing.T) {
	s, err := Load(sampleRepo(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []Module{{"example.com/r", ".", "v0.1.0"}, {"example.com/r/a", "a", "v0.1.0"}, {"example.com/r/b", "b", "v0.1.0"}}
	if len(s.Modules) != len(want) {
		t.Fatalf("modules = %+v, want %+v", s.Modules, want)
	}
	for i := range want {
		if s.Modules[i] != want[i] {
			t.Errorf("module %d = %+v, want %+v", i, s.Modules[i], want[i])
		}
	}
	if got := s.Modules[0].Tag() + " " + s.Modules[2].Tag(); got != "v0.1.0 b/v0.1.0" {
		t.Errorf("tags = %s, want v0.1.0 b/v0.1.0", got)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

// SetVersion and Save change the versions and every requirement between
// the modules, and nothing else: comments, other requirements and the
// replace directives stay.
func TestSetVersionSave(t *testing.T) {
	root := sampleRepo(t)
	s, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetVersion("v0.2.0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, root, FileName), strings.ReplaceAll(sampleVersions, "v0.1.0", "v0.2.0"); got != want {
		t.Errorf("%s =\n%s\nwant\n%s", FileName, got, want)
	}
	b := readFile(t, root, "b/go.mod")
	for _, want := range []string{"example.com/r v0.2.0", "example.com/r/a v0.2.0", "golang.org/x/mod v0.43.0", "example.com/r => ../", "example.com/r/a => ../a"} {
		if !strings.Contains(b, want) {
			t.Errorf("b/go.mod lacks %q:\n%s", want, b)
		}
	}
	again, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Check(); err != nil {
		t.Error(err)
	}
	if again.Modules[1].Version != "v0.2.0" {
		t.Errorf("reloaded version = %s, want v0.2.0", again.Modules[1].Version)
	}
}

func TestCheck(t *testing.T) {
	for name, changes := range map[string]map[string]string{
		"pseudo-version requirement": {"a/go.mod": "module example.com/r/a\n\nrequire example.com/r v0.0.0-00010101000000-000000000000\n\nreplace example.com/r => ../\n"},
		"other version":              {"b/go.mod": "module example.com/r/b\n\nrequire example.com/r/a v0.0.9\n"},
		"module not listed":          {"c/go.mod": "module example.com/r/c\n"},
		"module in another dir":      {"a/go.mod": "module example.com/r/c\n", "c/go.mod": "module example.com/r/a\n"},
	} {
		t.Run(name, func(t *testing.T) {
			root := sampleRepo(t)
			if err := files.Write(root, changes); err != nil {
				t.Fatal(err)
			}
			s, err := Load(root)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(); !errors.Is(err, ErrInvalid) {
				t.Errorf("Check = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestValid(t *testing.T) {
	for _, v := range []string{"v0.1.0", "v1.2.3", "v0.3.0-rc.1"} {
		if err := Valid(v); err != nil {
			t.Errorf("Valid(%s) = %v", v, err)
		}
	}
	for _, v := range []string{"", "0.1.0", "v0.1", "v0.0.0", "v2.0.0", "v0.0.0-00010101000000-000000000000", "v0.1.0+build", "latest"} {
		if err := Valid(v); !errors.Is(err, ErrInvalid) {
			t.Errorf("Valid(%q) = %v, want ErrInvalid", v, err)
		}
	}
}

func TestLoadInvalid(t *testing.T) {
	for name, text := range map[string]string{
		"no modules":      "excluded: [example.com/r/tools]\n",
		"bad version":     "modules:\n  example.com/r: v0.0.0\n",
		"outside root":    "modules:\n  example.com/r: v0.1.0\n  example.org/x: v0.1.0\n",
		"listed twice":    "modules:\n  example.com/r: v0.1.0\n  example.com/r: v0.1.0\n",
		"not a mapping":   "modules: [example.com/r]\n",
		"not yaml at all": "modules: {\n",
	} {
		t.Run(name, func(t *testing.T) {
			root := writeFiles(t, map[string]string{FileName: text})
			if _, err := Load(root); !errors.Is(err, ErrInvalid) {
				t.Errorf("Load = %v, want ErrInvalid", err)
			}
		})
	}
}
