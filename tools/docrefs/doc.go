// Package docrefs checks that the Go names the repository's documentation
// mentions exist: every pkg.Name (and pkg.Type.Member) in its Markdown
// files and in the package comments of its packages, where pkg is one of
// the repository's packages or a package its code imports under that name,
// and every Type.Member a package comment mentions of its own types.
//
// The names come from go/doc, which reads the packages' source: exported
// functions, types with their methods (promoted ones included) and struct
// fields, constants and variables. A qualifier that names no package, such
// as a variable in a code block (r.Header.Get), is not checked.
package docrefs
