// Package maketest tests the Makefile's stages on small modules of their
// own: what they print and when they fail. It has no code besides its
// tests.
package maketest
