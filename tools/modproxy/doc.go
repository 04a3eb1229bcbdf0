// Package modproxy writes modules, zipped from a git working tree, into a
// directory laid out as a module proxy, which the go command reads through
// GOPROXY=file://<dir>. The go command then fetches them as it would the
// released modules: from their zips, in which replace directives and
// directories that hold other modules play no part.
//
// A module's files are those git would release from the working tree: the
// tracked ones and the untracked ones that are not ignored, as they are on
// disk now, committed or not.
package modproxy
