package modproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// Module is a module to write: its path and version, and the directory of
// the working tree that holds its go.mod.
type Module struct {
	Path    string
	Version string
	Dir     string
}

// Write zips each module and writes, under dir, what a module proxy serves
// for it: the zip, its go.mod, its .info and the list of its versions. It
// returns the size of each zip in bytes.
func Write(dir string, mods []Module) ([]int64, error) {
	sizes := make([]int64, len(mods))
	for i, m := range mods {
		size, err := write(dir, m)
		if err != nil {
			return nil, fmt.Errorf("modproxy: %s@%s: %w", m.Path, m.Version, err)
		}
		sizes[i] = size
	}
	return sizes, nil
}

func write(dir string, m Module) (int64, error) {
	mv := module.Version{Path: m.Path, Version: m.Version}
	if err := module.Check(mv.Path, mv.Version); err != nil {
		return 0, err
	}
	escaped, err := module.EscapePath(mv.Path)
	if err != nil {
		return 0, err
	}
	vdir := filepath.Join(dir, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return 0, err
	}
	files, err := gitFiles(m.Dir)
	if err != nil {
		return 0, err
	}
	var zipped bytes.Buffer
	if err := zip.Create(&zipped, mv, files); err != nil {
		return 0, err
	}
	goMod, err := os.ReadFile(filepath.Join(m.Dir, "go.mod"))
	if err != nil {
		return 0, err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{mv.Version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return 0, err
	}
	for ext, data := range map[string][]byte{".zip": zipped.Bytes(), ".mod": goMod, ".info": info} {
		if err := os.WriteFile(filepath.Join(vdir, mv.Version+ext), data, 0o644); err != nil {
			return 0, err
		}
	}
	list, err := os.OpenFile(filepath.Join(vdir, "list"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	if _, err := fmt.Fprintln(list, mv.Version); err != nil {
		list.Close()
		return 0, err
	}
	return int64(zipped.Len()), list.Close()
}

// gitFiles lists the files of the working tree under dir that git tracks
// or would track, those of nested modules included: zip.Create leaves
// those out.
func gitFiles(dir string) ([]zip.File, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = dir
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the files of %s: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	var files []zip.File
	for name := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(name))
		info, err := os.Lstat(full)
		if os.IsNotExist(err) {
			continue // deleted in the working tree, not yet in the index
		}
		if err != nil {
			return nil, err
		}
		files = append(files, file{name: name, full: full, info: info})
	}
	return files, nil
}

// file is a file of the working tree, as zip.Create reads it.
type file struct {
	name string // slash-separated, relative to the module's directory
	full string
	info fs.FileInfo
}

func (f file) Path() string                 { return f.name }
func (f file) Lstat() (fs.FileInfo, error)  { return f.info, nil }
func (f file) Open() (io.ReadCloser, error) { return os.Open(f.full) }
