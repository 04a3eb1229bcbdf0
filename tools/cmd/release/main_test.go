package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/tools/internal/files"
)

// newRepo creates a git repository with a root module and a nested one
// that requires it, released at v0.1.0, and returns its directory.
func newRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	err := files.Write(root, map[string]string{
		"versions.yaml": "modules:\n  example.com/r: v0.1.0\n  example.com/r/a: v0.1.0\n",
		"go.mod":        "module example.com/r\n\ngo 1.26.0\n",
		"a/go.mod":      "module example.com/r/a\n\ngo 1.26.0\n\nrequire example.com/r v0.1.0\n\nreplace example.com/r => ../\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_AUTHOR_NAME", "otelsentry")
	t.Setenv("GIT_AUTHOR_EMAIL", "release@otelsentry.invalid")
	t.Setenv("GIT_COMMITTER_NAME", "otelsentry")
	t.Setenv("GIT_COMMITTER_EMAIL", "release@otelsentry.invalid")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	for _, args := range [][]string{{"init", "--quiet"}, {"add", "."}, {"commit", "--quiet", "-m", "first"}} {
		mustGit(t, root, args...)
	}
	return root
}

func mustGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := git(dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A release commits the new requirements and tags that commit once per
// module: vX.Y.Z for the root, <dir>/vX.Y.Z for the nested module.
func TestRelease(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := newRepo(t)
	var out strings.Builder
	if err := release(&out, root, "v0.2.0"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "v0.2.0 a/v0.2.0") {
		t.Errorf("output = %q, want the tags named", out.String())
	}
	if got := mustGit(t, root, "tag", "--list"); got != "a/v0.2.0\nv0.2.0" {
		t.Errorf("tags = %q, want a/v0.2.0 and v0.2.0", got)
	}
	head := mustGit(t, root, "rev-parse", "HEAD")
	for _, tag := range []string{"v0.2.0", "a/v0.2.0"} {
		if got := mustGit(t, root, "rev-parse", tag+"^{commit}"); got != head {
			t.Errorf("%s is on %s, want the release commit %s", tag, got, head)
		}
	}
	if got := mustGit(t, root, "show", "v0.2.0:a/go.mod"); !strings.Contains(got, "require example.com/r v0.2.0") || !strings.Contains(got, "replace example.com/r => ../") {
		t.Errorf("a/go.mod at the tag:\n%s\nwant the root required at v0.2.0 and the replace kept", got)
	}
	if got := mustGit(t, root, "show", "v0.2.0:versions.yaml"); strings.Count(got, "v0.2.0") != 2 {
		t.Errorf("versions.yaml at the tag:\n%s", got)
	}
	if got := mustGit(t, root, "status", "--porcelain"); got != "" {
		t.Errorf("working tree after the release: %q, want clean", got)
	}
	// A second release at the same version would move nothing: its tags
	// exist.
	if err := release(&out, root, "v0.2.0"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second release = %v, want an error about the existing tag", err)
	}
}

func TestReleaseRefuses(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := newRepo(t)
	for _, v := range []string{"", "0.2.0", "v0.0.0", "v2.0.0"} {
		if err := release(new(strings.Builder), root, v); err == nil {
			t.Errorf("release(%q) succeeded", v)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "new.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := release(new(strings.Builder), root, "v0.2.0"); err == nil || !strings.Contains(err.Error(), "working tree") {
		t.Errorf("release with changes = %v, want a refusal", err)
	}
	if got := mustGit(t, root, "tag", "--list"); got != "" {
		t.Errorf("tags after refusals: %q", got)
	}
}
