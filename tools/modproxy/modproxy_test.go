package modproxy

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/otelsentry/otelsentry/tools/internal/files"
)

func writeFiles(t *testing.T, root string, tree map[string]string) {
	t.Helper()
	if err := files.Write(root, tree); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// The zip holds the module's files as the working tree has them, committed
// or not, and leaves out what git ignores and what belongs to a nested
// module.
func TestWrite(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"go.mod":        "module example.com/r\n\ngo 1.26.0\n",
		"r.go":          "package r\n",
		"gone.go":       "package r\n",
		".gitignore":    "*.out\n",
		"nested/go.mod": "module example.com/r/nested\n",
		"nested/n.go":   "package nested\n",
	})
	run(t, root, "git", "init", "--quiet")
	run(t, root, "git", "add", ".")
	writeFiles(t, root, map[string]string{"r.go": "package r // changed\n", "new.go": "package r\n", "profile.out": "ignored"})
	if err := os.Remove(filepath.Join(root, "gone.go")); err != nil {
		t.Fatal(err)
	}

	proxy := t.TempDir()
	sizes, err := Write(proxy, []Module{
		{Path: "example.com/r", Version: "v0.1.0", Dir: root},
		{Path: "example.com/r/nested", Version: "v0.1.0", Dir: filepath.Join(root, "nested")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 2 || sizes[0] == 0 || sizes[1] == 0 {
		t.Errorf("sizes = %v, want two non-zero", sizes)
	}
	vdir := filepath.Join(proxy, "example.com", "r", "@v")
	zipName := filepath.Join(vdir, "v0.1.0.zip")
	if _, err := modzip.CheckZip(module.Version{Path: "example.com/r", Version: "v0.1.0"}, zipName); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(zipName)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name == "example.com/r@v0.1.0/r.go" {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			data := make([]byte, 64)
			n, _ := rc.Read(data)
			rc.Close()
			if got := string(data[:n]); got != "package r // changed\n" {
				t.Errorf("r.go in the zip = %q, want the working tree's", got)
			}
		}
	}
	slices.Sort(names)
	want := []string{"example.com/r@v0.1.0/.gitignore", "example.com/r@v0.1.0/go.mod", "example.com/r@v0.1.0/new.go", "example.com/r@v0.1.0/r.go"}
	if !slices.Equal(names, want) {
		t.Errorf("zip holds %q, want %q", names, want)
	}
	for name, want := range map[string]string{"v0.1.0.mod": "module example.com/r\n\ngo 1.26.0\n", "list": "v0.1.0\n"} {
		if data, err := os.ReadFile(filepath.Join(vdir, name)); err != nil || string(data) != want {
			t.Errorf("%s = %q, %v; want %q", name, data, err, want)
		}
	}
	if data, err := os.ReadFile(filepath.Join(vdir, "v0.1.0.info")); err != nil || !strings.Contains(string(data), `"Version":"v0.1.0"`) {
		t.Errorf("v0.1.0.info = %s, %v", data, err)
	}
}

func TestWriteRefuses(t *testing.T) {
	for name, m := range map[string]Module{
		"bad version": {Path: "example.com/r", Version: "latest", Dir: t.TempDir()},
		"not git":     {Path: "example.com/r", Version: "v0.1.0", Dir: t.TempDir()},
	} {
		if _, err := Write(t.TempDir(), []Module{m}); err == nil {
			t.Errorf("%s: Write succeeded", name)
		}
	}
}
