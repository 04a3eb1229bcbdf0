package docrefs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
)

// Problem is a mention of a name that does not exist.
type Problem struct {
	// Where is the Markdown file and line, or the package whose comment
	// holds the mention.
	Where string
	// Ref is the name as written, such as bridge.WithGetenv.
	Ref string
	// In are the import paths of the packages that were searched.
	In []string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s: no such name in %s", p.Where, p.Ref, strings.Join(p.In, ", "))
}

// ref matches pkg.Name and pkg.Name.Member where pkg does not continue a
// longer path or selector (go.opentelemetry.io/otel/trace.Span, a.b.C).
var ref = regexp.MustCompile(`(?:^|[^\w./])([A-Za-z_]\w*)\.([A-Z]\w*)(?:\.([A-Z]\w*))?`)

// testFunc matches the names of the functions go test runs.
var testFunc = regexp.MustCompile(`^(Test|Benchmark|Fuzz|Example)([A-Z_]|$)`)

// pkg is a package with the names it exports.
type pkg struct {
	importPath string
	names      map[string]map[string]bool // name to the members of a type, or nil
}

// repo is what Check knows of the repository.
type repo struct {
	root string
	// byName maps a qualifier to the packages it may stand for: the
	// repository's packages by their names, imported ones by the name
	// their importers use.
	byName map[string][]*pkg
	// docs are the repository's packages with their comments.
	docs []*doc.Package
	// own maps an import path of the repository to its package.
	own map[string]*pkg
}

// Check reads the repository at root and returns every mention of a name
// that does not exist. It runs go list in each module, to find the
// packages the module imports.
func Check(root string) ([]Problem, error) {
	r := &repo{root: root, byName: map[string][]*pkg{}, own: map[string]*pkg{}}
	mods, err := modules(root)
	if err != nil {
		return nil, err
	}
	// The repository's own packages first, so that an import of one of
	// them from another module is known as the repository's.
	imports := make([]map[string]string, len(mods))
	for i, m := range mods {
		if imports[i], err = r.loadModule(m, mods); err != nil {
			return nil, err
		}
	}
	for i, m := range mods {
		var paths []string
		for p := range imports[i] {
			if r.own[p] == nil {
				paths = append(paths, p)
			}
		}
		slices.Sort(paths)
		if err := r.loadImported(m.dir, paths, imports[i]); err != nil {
			return nil, err
		}
	}
	var problems []Problem
	err = filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && name != root && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(name, ".md") {
			return nil
		}
		rel, _ := filepath.Rel(root, name)
		ps, err := r.checkMarkdown(name, filepath.ToSlash(rel))
		problems = append(problems, ps...)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, d := range r.docs {
		problems = append(problems, r.checkText(d.Doc, d.ImportPath+" (package comment)", r.own[d.ImportPath])...)
	}
	return problems, nil
}

// module is a module of the repository.
type module struct {
	path, dir string
}

func skipDir(base string) bool {
	return base == "testdata" || base == "node_modules" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")
}

// modules lists the repository's modules.
func modules(root string) ([]module, error) {
	var mods []module
	err := filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && name != root && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "go.mod" {
			return nil
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		p := modfile.ModulePath(data)
		if p == "" {
			return fmt.Errorf("docrefs: %s has no module path", name)
		}
		mods = append(mods, module{path: p, dir: filepath.Dir(name)})
		return nil
	})
	return mods, err
}

// loadModule reads the packages of module m, not those of the modules
// nested in it, and returns what they import: each import path with the
// name an importer gave it, or "".
func (r *repo) loadModule(m module, all []module) (map[string]string, error) {
	imports := map[string]string{}
	err := filepath.WalkDir(m.dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name != m.dir && (skipDir(d.Name()) || slices.ContainsFunc(all, func(o module) bool { return o.dir == name })) {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(m.dir, name)
		importPath := m.path
		if rel != "." {
			importPath = path.Join(m.path, filepath.ToSlash(rel))
		}
		return r.loadOwn(name, importPath, imports)
	})
	return imports, err
}

// loadOwn reads the package in dir, if there is one, with the tests,
// benchmarks, fuzz targets and examples of its test files, and records
// the imports of all its files.
func (r *repo) loadOwn(dir, importPath string, imports map[string]string) error {
	fset := token.NewFileSet()
	bp, err := build.Default.ImportDir(dir, 0)
	if errors.As(err, new(*build.NoGoError)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("docrefs: %s: %w", dir, err)
	}
	var testFuncs []string
	for _, name := range slices.Concat(bp.TestGoFiles, bp.XTestGoFiles) {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		recordImports(f, imports)
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && testFunc.MatchString(fn.Name.Name) {
				testFuncs = append(testFuncs, fn.Name.Name)
			}
		}
	}
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return err
		}
		recordImports(f, imports)
		files = append(files, f)
	}
	d, err := doc.NewFromFiles(fset, files, importPath, doc.AllMethods)
	if err != nil {
		return err
	}
	p := &pkg{importPath: importPath, names: exported(d)}
	for _, name := range testFuncs {
		p.names[name] = nil
	}
	r.own[importPath] = p
	r.docs = append(r.docs, d)
	if d.Name != "main" {
		r.byName[d.Name] = append(r.byName[d.Name], p)
	}
	return nil
}

func recordImports(f *ast.File, imports map[string]string) {
	for _, spec := range f.Imports {
		p, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		name := ""
		if spec.Name != nil {
			name = spec.Name.Name
		}
		if _, seen := imports[p]; !seen || name != "" {
			imports[p] = name
		}
	}
}

// loadImported finds the directories and names of paths with go list, run
// in the module at dir, and reads their exported names.
func (r *repo) loadImported(dir string, paths []string, names map[string]string) error {
	if len(paths) == 0 {
		return nil
	}
	cmd := exec.Command("go", append([]string{"list", "-e", "-f", "{{.ImportPath}}\t{{.Name}}\t{{.Dir}}"}, paths...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("docrefs: go list in %s: %w: %s", dir, err, stderr.Bytes())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 || fields[1] == "" || fields[2] == "" {
			continue // a package go list could not find: nothing to check against
		}
		importPath, name, pkgDir := fields[0], fields[1], fields[2]
		if alias := names[importPath]; alias != "" {
			name = alias
		}
		if name == "_" || name == "." || slices.ContainsFunc(r.byName[name], func(p *pkg) bool { return p.importPath == importPath }) {
			continue
		}
		p, err := readPackage(pkgDir, importPath)
		if err != nil {
			return err
		}
		r.byName[name] = append(r.byName[name], p)
	}
	return sc.Err()
}

// readPackage reads the exported names of the package in dir.
func readPackage(dir, importPath string) (*pkg, error) {
	bp, err := build.Default.ImportDir(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("docrefs: %s: %w", importPath, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	d, err := doc.NewFromFiles(fset, files, importPath, doc.AllMethods)
	if err != nil {
		return nil, err
	}
	return &pkg{importPath: importPath, names: exported(d)}, nil
}

// exported lists the exported names of d, with the methods and fields of
// each type.
func exported(d *doc.Package) map[string]map[string]bool {
	names := map[string]map[string]bool{}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			for _, n := range v.Names {
				names[n] = nil
			}
		}
	}
	values(d.Consts)
	values(d.Vars)
	for _, f := range d.Funcs {
		names[f.Name] = nil
	}
	for _, t := range d.Types {
		members := map[string]bool{}
		for _, m := range t.Methods {
			members[m.Name] = true
		}
		for _, spec := range t.Decl.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok || ts.Name.Name != t.Name {
				continue
			}
			switch typ := ts.Type.(type) {
			case *ast.StructType:
				for _, f := range typ.Fields.List {
					for _, n := range f.Names {
						members[n.Name] = true
					}
				}
			case *ast.InterfaceType:
				for _, f := range typ.Methods.List {
					for _, n := range f.Names {
						members[n.Name] = true
					}
				}
			}
		}
		names[t.Name] = members
		values(t.Consts)
		values(t.Vars)
		for _, f := range t.Funcs {
			names[f.Name] = nil
		}
	}
	return names
}

// checkMarkdown checks the mentions in the Markdown file name.
func (r *repo) checkMarkdown(name, rel string) ([]Problem, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var problems []Problem
	for i, line := range strings.Split(string(data), "\n") {
		problems = append(problems, r.checkText(line, fmt.Sprintf("%s:%d", rel, i+1), nil)...)
	}
	return problems, nil
}

// checkText checks the mentions in text, found at where; own is the package
// whose comment text is, if it is one.
func (r *repo) checkText(text, where string, own *pkg) []Problem {
	var problems []Problem
	for _, m := range ref.FindAllStringSubmatchIndex(text, -1) {
		q, name, member := text[m[2]:m[3]], text[m[4]:m[5]], ""
		if m[6] >= 0 {
			member = text[m[6]:m[7]]
		}
		candidates := r.byName[q]
		if own != nil && own.names[q] != nil {
			// Type.Member in a package's own comment.
			candidates, name, member = []*pkg{own}, q, name
		}
		if len(candidates) == 0 || slices.ContainsFunc(candidates, func(p *pkg) bool { return p.has(name, member) }) {
			continue
		}
		var in []string
		for _, p := range candidates {
			in = append(in, p.importPath)
		}
		problems = append(problems, Problem{Where: where, Ref: text[m[2]:m[1]], In: in})
	}
	return problems
}

// has reports whether p exports name and, if member is not empty, whether
// name is a type with that method or field, or a variable (whose members
// are not known here).
func (p *pkg) has(name, member string) bool {
	members, ok := p.names[name]
	if !ok {
		return false
	}
	return member == "" || members == nil || members[member]
}
