// Command release releases every module of the repository at one version:
// it sets the version in versions.yaml and in the requirements between the
// modules, commits that, and tags the root module vX.Y.Z and each nested
// module <dir>/vX.Y.Z. It pushes nothing.
//
//	go run ./cmd/release -root .. -version v0.2.0
//
// The working tree must be clean and none of the tags may exist yet.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/otelsentry/otelsentry/tools/versions"
)

func main() {
	root := flag.String("root", ".", "the repository's root directory")
	version := flag.String("version", "", "the version to release, vX.Y.Z")
	flag.Parse()
	if err := release(os.Stdout, *root, *version); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// release releases every module of the repository at root at version.
func release(w io.Writer, root, version string) error {
	if err := versions.Valid(version); err != nil {
		return err
	}
	status, err := git(root, "status", "--porcelain")
	if err != nil {
		return err
	}
	if status != "" {
		return errors.New("the working tree has changes; commit or stash them first:\n" + status)
	}
	set, err := versions.Load(root)
	if err != nil {
		return err
	}
	if err := set.SetVersion(version); err != nil {
		return err
	}
	var tags []string
	for _, m := range set.Modules {
		if _, err := git(root, "rev-parse", "--verify", "--quiet", "refs/tags/"+m.Tag()); err == nil {
			return fmt.Errorf("tag %s exists already", m.Tag())
		}
		tags = append(tags, m.Tag())
	}
	if err := set.Save(); err != nil {
		return err
	}
	if err := set.Check(); err != nil {
		return err
	}
	if status, err = git(root, "status", "--porcelain"); err != nil {
		return err
	}
	if status != "" {
		if _, err := git(root, "commit", "--all", "--quiet", "--message", "Release "+version); err != nil {
			return err
		}
	}
	for i, m := range set.Modules {
		if _, err := git(root, "tag", "--annotate", "--message", m.Path+" "+m.Version, tags[i]); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "tagged %s; publish with: git push origin HEAD %s\n", strings.Join(tags, " "), strings.Join(tags, " "))
	return nil
}

// git runs git in dir and returns its output, trimmed.
func git(dir string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
