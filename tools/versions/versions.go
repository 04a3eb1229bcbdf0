package versions

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// FileName is the name of the versions file, at the repository root.
const FileName = "versions.yaml"

// ErrInvalid reports a versions file, a version or a go.mod that does not
// follow the rules of the package documentation.
var ErrInvalid = errors.New("versions: invalid")

// Module is one released module of the repository.
type Module struct {
	// Path is the module path.
	Path string
	// Dir is the module's directory relative to the repository root, in
	// slash form: "." for the root module.
	Dir string
	// Version is the version it is released at.
	Version string
}

// Tag returns the git tag of the module's version: the version itself for
// the root module, the directory and the version for a nested one.
func (m Module) Tag() string {
	if m.Dir == "." {
		return m.Version
	}
	return m.Dir + "/" + m.Version
}

// Set is the content of a repository's versions file.
type Set struct {
	root     string
	doc      yaml.Node
	versions map[string]*yaml.Node // module path to its version's node
	// Modules are the released modules, in the file's order.
	Modules []Module
	// Excluded are the paths of the modules that are never released.
	Excluded []string
}

// file is the versions file's shape; yaml.Node keeps the mapping's order
// and the comments for Save.
type file struct {
	Modules  yaml.Node `yaml:"modules"`
	Excluded []string  `yaml:"excluded"`
}

// Load reads the versions file of the repository at root.
func Load(root string) (*Set, error) {
	data, err := os.ReadFile(filepath.Join(root, FileName))
	if err != nil {
		return nil, err
	}
	s := &Set{root: root, versions: map[string]*yaml.Node{}}
	if err := yaml.Unmarshal(data, &s.doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, FileName, err)
	}
	var f file
	if err := s.doc.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, FileName, err)
	}
	if f.Modules.Kind != yaml.MappingNode || len(f.Modules.Content) == 0 {
		return nil, fmt.Errorf("%w: %s: modules must map each module path to its version", ErrInvalid, FileName)
	}
	s.Excluded = f.Excluded
	rootPath := f.Modules.Content[0].Value
	for i := 0; i+1 < len(f.Modules.Content); i += 2 {
		// The decoded mapping shares its nodes with the document, so that
		// SetVersion changes what Save writes.
		key, value := f.Modules.Content[i], f.Modules.Content[i+1]
		p, v := key.Value, value.Value
		dir, ok := dirOf(rootPath, p)
		if !ok {
			return nil, fmt.Errorf("%w: %s: %s is not the first module, %s, or below it", ErrInvalid, FileName, p, rootPath)
		}
		if _, dup := s.versions[p]; dup {
			return nil, fmt.Errorf("%w: %s lists %s twice", ErrInvalid, FileName, p)
		}
		if err := Valid(v); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", FileName, p, err)
		}
		s.versions[p] = value
		s.Modules = append(s.Modules, Module{Path: p, Dir: dir, Version: v})
	}
	return s, nil
}

// dirOf returns the directory of the module path p in a repository whose
// root module is rootPath.
func dirOf(rootPath, p string) (string, bool) {
	if p == rootPath {
		return ".", true
	}
	rest, ok := strings.CutPrefix(p, rootPath+"/")
	return rest, ok && rest != ""
}

// Valid reports whether v may be a released version: a canonical semantic
// version vX.Y.Z, with an optional pre-release, of major version 0 or 1
// (a later major version would need a new module path), and neither v0.0.0
// nor a pseudo-version, which stand for no release.
func Valid(v string) error {
	switch {
	case !semver.IsValid(v) || semver.Canonical(v) != v:
		return fmt.Errorf("%w: version %q is not of the form vX.Y.Z", ErrInvalid, v)
	case semver.Major(v) != "v0" && semver.Major(v) != "v1":
		return fmt.Errorf("%w: version %s needs a /%s module path", ErrInvalid, v, semver.Major(v))
	case module.IsPseudoVersion(v) || semver.Compare(v, "v0.0.0") == 0:
		return fmt.Errorf("%w: version %s names no release", ErrInvalid, v)
	}
	return nil
}

// SetVersion sets the version of every module to v; Save writes it.
func (s *Set) SetVersion(v string) error {
	if err := Valid(v); err != nil {
		return err
	}
	for i := range s.Modules {
		s.Modules[i].Version = v
		s.versions[s.Modules[i].Path].Value = v
	}
	return nil
}

// Save writes the versions file and, in the go.mod of every module of the
// repository, the version of each listed module it requires. It leaves the
// replace directives alone.
func (s *Set) Save() error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&s.doc); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.root, FileName), buf.Bytes(), 0o644); err != nil {
		return err
	}
	return s.eachGoMod(func(name string, f *modfile.File) error {
		changed := false
		for _, r := range f.Require {
			if want, ok := s.version(r.Mod.Path); ok && r.Mod.Version != want {
				if err := f.AddRequire(r.Mod.Path, want); err != nil {
					return err
				}
				changed = true
			}
		}
		if !changed {
			return nil
		}
		out, err := f.Format()
		if err != nil {
			return err
		}
		return os.WriteFile(name, out, 0o644)
	})
}

// Check reports every way the repository differs from its versions file:
// a go.mod whose module is neither listed nor excluded, a listed module
// whose directory holds another module or none, and a requirement of one
// module on another at any version but the listed one.
func (s *Set) Check() error {
	var errs []error
	seen := map[string]bool{}
	err := s.eachGoMod(func(name string, f *modfile.File) error {
		p := f.Module.Mod.Path
		seen[p] = true
		rel, _ := filepath.Rel(s.root, filepath.Dir(name))
		if m, ok := s.module(p); ok && m.Dir != filepath.ToSlash(rel) {
			errs = append(errs, fmt.Errorf("%w: %s is in %s, not %s", ErrInvalid, p, rel, m.Dir))
		} else if !ok && !slices.Contains(s.Excluded, p) {
			errs = append(errs, fmt.Errorf("%w: %s (%s) is not in %s", ErrInvalid, p, rel, FileName))
		}
		for _, r := range f.Require {
			if want, ok := s.version(r.Mod.Path); ok && r.Mod.Version != want {
				errs = append(errs, fmt.Errorf("%w: %s requires %s %s, not the listed %s", ErrInvalid, p, r.Mod.Path, r.Mod.Version, want))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range s.Modules {
		if !seen[m.Path] {
			errs = append(errs, fmt.Errorf("%w: no go.mod declares %s", ErrInvalid, m.Path))
		}
	}
	return errors.Join(errs...)
}

func (s *Set) module(p string) (Module, bool) {
	i := slices.IndexFunc(s.Modules, func(m Module) bool { return m.Path == p })
	if i < 0 {
		return Module{}, false
	}
	return s.Modules[i], true
}

func (s *Set) version(p string) (string, bool) {
	m, ok := s.module(p)
	return m.Version, ok
}

// eachGoMod calls fn with every go.mod of the repository, skipping what
// the go command skips (testdata and directories whose names begin with a
// dot or an underscore) and Node's packages.
func (s *Set) eachGoMod(fn func(name string, f *modfile.File) error) error {
	return filepath.WalkDir(s.root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := path.Base(filepath.ToSlash(name))
		if d.IsDir() && name != s.root && (base == "testdata" || base == "node_modules" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
			return filepath.SkipDir
		}
		if d.IsDir() || base != "go.mod" {
			return nil
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		f, err := modfile.Parse(name, data, nil)
		if err != nil {
			return err
		}
		return fn(name, f)
	})
}
