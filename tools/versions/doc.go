// Package versions reads and updates versions.yaml, the file at the root of
// the repository that names every module and the version it is released
// at, and keeps the requirements between the modules in step with it.
//
// The file has two keys: modules, a mapping from module path to version
// whose first entry is the root module, and excluded, the paths of modules
// that are never released. Every go.mod in the repository belongs to one
// of them. A module's directory follows from its path: the root module's
// path, a slash, then the directory.
package versions
