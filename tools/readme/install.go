package readme

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/otelsentry/otelsentry/tools/versions"
)

// Installed returns the modules of set that the README's program installs:
// the root module, sentryotlp and sentrylink, each at its version.
func Installed(set *versions.Set) ([]versions.Module, error) {
	var mods []versions.Module
	for _, m := range set.Modules {
		if m.Dir == "." || m.Dir == "sentryotlp" || m.Dir == "sentrylink" {
			mods = append(mods, m)
		}
	}
	if len(mods) != 3 {
		return nil, fmt.Errorf("readme: %s lists %d of the 3 modules the README installs", versions.FileName, len(mods))
	}
	return mods, nil
}

// Install does in dir what a reader of the README does with its program:
// go mod init, a go mod edit -replace for each of replaces (module=dir, the
// way to use a checkout before a release), go get of each module@version
// of get (a release's way), go mod tidy, and go build. env is the go command's environment.
// The build is -trimpath, as make's other builds without -race are, so
// that it reuses their compiled packages from whichever module cache it
// reads.
// It writes one line to w for each step but the go mod ones, and returns
// the built program's path.
func Install(w io.Writer, dir string, program []byte, get, replaces, env []string) (string, error) {
	if err := os.WriteFile(filepath.Join(dir, "main.go"), program, 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "shop")
	steps := [][]string{{"mod", "init", "shop"}}
	for _, r := range replaces {
		steps = append(steps, []string{"mod", "edit", "-replace", r})
	}
	if len(get) > 0 {
		steps = append(steps, append([]string{"get"}, get...))
	}
	steps = append(steps, []string{"mod", "tidy"}, []string{"build", "-trimpath", "-o", bin, "."})
	for _, args := range steps {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out.Bytes())
		}
		if args[0] != "mod" {
			fmt.Fprintf(w, "go %s: ok\n", strings.Join(args, " "))
		}
	}
	return bin, nil
}
