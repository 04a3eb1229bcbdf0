package maketest

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/tools/internal/files"
)

// root is the repository's root, where the Makefile is.
const root = "../.."

// module writes a module with one benchmark file and returns its
// directory.
func module(t *testing.T, name, bench string) string {
	t.Helper()
	dir := t.TempDir()
	err := files.Write(dir, map[string]string{
		"go.mod":        "module example.com/" + name + "\n\ngo 1.26.0\n",
		"bench_test.go": "package " + name + "\n\nimport \"testing\"\n\n" + bench,
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func makeTarget(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	cmd := exec.Command("make", append([]string{"--no-print-directory", "-C", root}, args...)...)
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A benchmark's own checks still run, and its numbers are not printed:
// one run of a benchmark measures nothing. The stage says what it does in
// one line, then prints each package's result.
func TestBenchcheckPrintsNoNumbers(t *testing.T) {
	dir := module(t, "quiet", `func BenchmarkRequest(b *testing.B) {
	b.Log("a note")
	for b.Loop() {
	}
	b.ReportMetric(-61.38, "b3-%")
	b.ReportMetric(211098, "none-ns/req")
}
`)
	out, err := makeTarget(t, "benchcheck", "BENCH_MODULES="+dir)
	if err != nil {
		t.Fatalf("make benchcheck: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "== benchcheck: ") {
		t.Errorf("first line %q, want the stage's own line", lines[0])
	}
	okLine := regexp.MustCompile(`^ok\s+example\.com/quiet\s`)
	if len(lines) != 2 || !okLine.MatchString(lines[1]) {
		t.Errorf("make benchcheck printed\n%s\nwant the stage's line and the package's ok line only", out)
	}
	for _, number := range []string{"-61.38", "211098", "ns/op", "Benchmark", "a note"} {
		if strings.Contains(out, number) {
			t.Errorf("make benchcheck printed %q:\n%s", number, out)
		}
	}
}

// A benchmark whose check fails fails the stage, which then prints all of
// its output.
func TestBenchcheckFails(t *testing.T) {
	quiet := module(t, "quiet", "func BenchmarkFine(b *testing.B) {\n\tfor b.Loop() {\n\t}\n}\n")
	failing := module(t, "failing", `func BenchmarkHeaders(b *testing.B) {
	b.Fatal("the request lost its sentry-trace header")
}
`)
	out, err := makeTarget(t, "benchcheck", "BENCH_MODULES="+failing+" "+quiet)
	if err == nil {
		t.Fatalf("make benchcheck succeeded with a failing benchmark:\n%s", out)
	}
	if !strings.Contains(out, "the request lost its sentry-trace header") {
		t.Errorf("make benchcheck did not print the failure:\n%s", out)
	}
	if strings.Contains(out, "example.com/quiet") {
		t.Errorf("make benchcheck went on after the failure:\n%s", out)
	}
}

// lint runs staticcheck once, over the packages of every module.
func TestLintRunsStaticcheckOnce(t *testing.T) {
	out, err := makeTarget(t, "--dry-run", "lint")
	if err != nil {
		t.Fatalf("make --dry-run lint: %v\n%s", err, out)
	}
	var runs []string
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, "staticcheck@") {
			runs = append(runs, line)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("make lint runs staticcheck %d times, want once:\n%s", len(runs), out)
	}
	for _, pkgs := range []string{" ./... ", "./sentryotlp/...", "./sentrylink/...", "./sentryautoprop/...", "./examples/...", "./conformance/...", "./collector/...", "./tools/..."} {
		if !strings.Contains(runs[0]+" ", pkgs) {
			t.Errorf("make lint's staticcheck does not cover %s:\n%s", pkgs, runs[0])
		}
	}
}
