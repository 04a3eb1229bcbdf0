// Command installcheck installs the modules as a user will once they are
// released, from the working tree: it zips every module of versions.yaml
// at its listed version, serves the zips from a file-based module proxy
// ahead of the usual GOPROXY, and in a fresh module outside the repository
// gets the root module, sentryotlp and sentrylink at that version and
// builds the README's program against them.
//
//	go run ./cmd/installcheck -root ..
//
// A module cache of its own keeps a version cached by an earlier run from
// hiding a changed tree; the usual module cache's download directory comes
// second in the proxy chain, so that the other modules need no download.
// Only the repository's own modules skip the checksum database: nothing
// outside the tree knows their sums.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/otelsentry/otelsentry/tools/modproxy"
	"github.com/otelsentry/otelsentry/tools/readme"
	"github.com/otelsentry/otelsentry/tools/versions"
)

func main() {
	root := flag.String("root", ".", "the repository's root directory")
	flag.Parse()
	if err := check(os.Stdout, *root); err != nil {
		fmt.Fprintln(os.Stderr, "installcheck:", err)
		os.Exit(1)
	}
}

func check(w io.Writer, root string) (err error) {
	root, err = filepath.Abs(root)
	if err != nil {
		return err
	}
	set, err := versions.Load(root)
	if err != nil {
		return err
	}
	if err := set.Check(); err != nil {
		return err
	}
	program, err := readme.ProgramFile(filepath.Join(root, "README.md"))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "installcheck")
	if err != nil {
		return err
	}
	defer func() {
		if rmErr := os.RemoveAll(tmp); err == nil {
			err = rmErr
		}
	}()

	installed, err := readme.Installed(set)
	if err != nil {
		return err
	}
	var get []string
	for _, m := range installed {
		get = append(get, m.Path+"@"+m.Version)
	}
	proxy := filepath.Join(tmp, "proxy")
	var mods []modproxy.Module
	for _, m := range set.Modules {
		mods = append(mods, modproxy.Module{Path: m.Path, Version: m.Version, Dir: filepath.Join(root, filepath.FromSlash(m.Dir))})
	}
	sizes, err := modproxy.Write(proxy, mods)
	if err != nil {
		return err
	}
	var zips []string
	for i, m := range mods {
		zips = append(zips, fmt.Sprintf("%s@%s %d KiB", strings.TrimPrefix(m.Path, set.Modules[0].Path+"/"), m.Version, (sizes[i]+1023)/1024))
	}
	fmt.Fprintf(w, "zips from the tree: %s\n", strings.Join(zips, ", "))

	env, err := goEnv(proxy, filepath.Join(tmp, "modcache"), set.Modules[0].Path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "file proxy %s ahead of GOPROXY, checksum database off for %s only, empty module cache\n", proxy, set.Modules[0].Path)
	app := filepath.Join(tmp, "app")
	if err := os.Mkdir(app, 0o755); err != nil {
		return err
	}
	if _, err := readme.Install(w, app, program, get, nil, env); err != nil {
		return err
	}
	fmt.Fprintf(w, "README.md's program built in a fresh module from the zipped modules\n")
	return nil
}

// goEnv returns the environment of the go commands in the fresh module:
// the file proxy first, then the usual module cache as a file proxy, then
// the usual GOPROXY; a module cache of their own; no checksum database
// for the modules under rootPath; no workspace.
func goEnv(proxy, modcache, rootPath string) ([]string, error) {
	out, err := exec.Command("go", "env", "GOPROXY", "GOMODCACHE", "GONOSUMDB", "GOFLAGS").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	vals := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(vals) != 4 {
		return nil, fmt.Errorf("go env printed %q", out)
	}
	goproxy, usualCache, nosumdb, goflags := vals[0], vals[1], vals[2], vals[3]
	chain := []string{fileURL(proxy)}
	if usualCache != "" {
		chain = append(chain, fileURL(filepath.Join(usualCache, "cache", "download")))
	}
	if goproxy != "" {
		chain = append(chain, goproxy)
	}
	nosumdb = strings.Trim(nosumdb+","+rootPath, ",")
	return append(os.Environ(),
		"GOPROXY="+strings.Join(chain, ","),
		"GOMODCACHE="+modcache,
		"GONOSUMDB="+nosumdb,
		"GOFLAGS="+strings.TrimSpace(goflags+" -modcacherw"),
		"GOWORK=off",
	), nil
}

func fileURL(dir string) string { return "file://" + filepath.ToSlash(dir) }
