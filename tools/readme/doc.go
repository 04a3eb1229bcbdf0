// Package readme finds the program in the repository's README: its one Go
// code block that is a complete main package, which the tests build, run
// and install from the zipped modules, so that it cannot drift from the
// API it shows.
package readme
